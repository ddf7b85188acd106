from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import ApiKey, User

admin.site.register(User, UserAdmin)


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
