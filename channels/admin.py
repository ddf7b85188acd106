"""The channels admin. Deletes go through the same services as the website, and the
index bookkeeping is read-only: the admin is not a second writer."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from accounts.credentials import Credential
from prefixhub.admin import ReadOnlyAdmin

from .models import (
    Activity,
    Channel,
    Lease,
    Membership,
    RetiredShard,
    Role,
    ShardName,
    Subdir,
)
from .services import delete_channel


class MembershipFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        """A channel keeps exactly one owner; ownership moves by transfer."""
        super().clean()
        owners = sum(
            1
            for form in self.forms
            if getattr(form, "cleaned_data", None)
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("role") == Role.OWNER
        )
        if owners != 1:
            raise ValidationError(
                "A channel has exactly one owner. To hand it to someone else, use "
                "Transfer on the channel's settings page."
            )


class MembershipInline(admin.TabularInline):
    model = Membership
    formset = MembershipFormSet
    raw_id_fields = ["user"]
    readonly_fields = ["created_at"]
    extra = 0


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["name", "is_private", "created_at"]
    list_filter = ["is_private"]
    search_fields = ["name", "description"]
    readonly_fields = ["created_at"]
    inlines = [MembershipInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # channels are created with their owner, by the site or the CLI

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        # Members, subdirs and the log go with their channel; that they are
        # read-only on their own pages must not block the channel's delete.
        deleted, counts, _, protected = super().get_deleted_objects(objs, request)
        return deleted, counts, set(), protected

    def delete_model(self, request: HttpRequest, obj: Channel) -> None:
        delete_channel(obj, actor=Credential.for_user(request.user))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for channel in queryset:
            delete_channel(channel, actor=Credential.for_user(request.user))


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    """Members are changed on their channel, where the one-owner rule is checked."""

    list_display = ["channel", "user", "role", "created_at"]
    list_filter = ["role"]


@admin.register(Subdir)
class SubdirAdmin(ReadOnlyAdmin):
    list_display = [
        "channel",
        "name",
        "generation",
        "index_generation",
        "repodata_generation",
        "index_published_at",
        "repodata_published_at",
    ]
    search_fields = ["channel__name"]


@admin.register(ShardName)
class ShardNameAdmin(ReadOnlyAdmin):
    list_display = ["subdir", "name", "shard_sha256", "dirty_generation"]
    search_fields = ["name"]


@admin.register(RetiredShard)
class RetiredShardAdmin(ReadOnlyAdmin):
    list_display = ["subdir", "sha256", "retired_at"]


@admin.register(Lease)
class LeaseAdmin(ReadOnlyAdmin):
    list_display = ["key", "owner", "expires_at"]


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    list_display = ["channel", "actor", "verb", "detail", "created_at"]
    list_filter = ["verb"]
