from __future__ import annotations

from django.contrib import admin

from .models import (
    Activity,
    Channel,
    Lease,
    Membership,
    RetiredShard,
    ShardName,
    Subdir,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    raw_id_fields = ["user"]
    extra = 0


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["name", "is_private", "created_at"]
    list_filter = ["is_private"]
    search_fields = ["name", "description"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["channel", "user", "role", "created_at"]
    list_filter = ["role"]
    raw_id_fields = ["channel", "user"]


@admin.register(Subdir)
class SubdirAdmin(admin.ModelAdmin):
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
    raw_id_fields = ["channel"]


@admin.register(ShardName)
class ShardNameAdmin(admin.ModelAdmin):
    list_display = ["subdir", "name", "shard_sha256", "dirty_generation"]
    search_fields = ["name"]
    raw_id_fields = ["subdir"]


@admin.register(RetiredShard)
class RetiredShardAdmin(admin.ModelAdmin):
    list_display = ["subdir", "sha256", "retired_at"]
    raw_id_fields = ["subdir"]


@admin.register(Lease)
class LeaseAdmin(admin.ModelAdmin):
    list_display = ["key", "owner", "expires_at"]


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["channel", "actor", "verb", "detail", "created_at"]
    list_filter = ["verb"]
    raw_id_fields = ["channel", "actor"]
