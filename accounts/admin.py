from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as StockUserAdmin
from django.http import HttpRequest

from channels.models import Membership, Role

from .models import ApiKey, User


@admin.register(User)
class UserAdmin(StockUserAdmin):
    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        """Deleting an owner would leave their channels with none: the admin refuses
        (as for protected rows) until ownership is transferred or the channel gone."""
        deleted, counts, _, protected = super().get_deleted_objects(objs, request)
        owned = Membership.objects.filter(
            user__in=[user.pk for user in objs], role=Role.OWNER
        ).select_related("channel", "user")
        protected = [
            *protected,
            *(
                f"Channel {m.channel.name}, owned by {m.user.username}: transfer "
                "or delete it first"
                for m in owned
            ),
        ]
        # Memberships go with their user; that they are read-only on their own page
        # must not block the delete.
        return deleted, counts, set(), protected


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "user",
        "prefix",
        "channel",
        "is_read_only",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["is_read_only"]
    search_fields = ["name", "prefix", "user__username"]
    # The hash is useless to staff and only a target: never shown or editable.
    exclude = ["key_hash"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]
    raw_id_fields = ["user", "channel"]

    def has_add_permission(self, request: object) -> bool:
        return False  # keys are created by their owner, who must see the secret once
