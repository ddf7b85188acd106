from __future__ import annotations

from django.contrib import admin

from .models import PackageFile


@admin.register(PackageFile)
class PackageFileAdmin(admin.ModelAdmin):
    list_display = [
        "filename",
        "channel",
        "subdir",
        "size",
        "uploaded_by",
        "uploaded_at",
    ]
    list_filter = ["subdir"]
    search_fields = ["filename", "name", "channel__name", "sha256"]
    raw_id_fields = ["channel", "uploaded_by"]
    exclude = ["record_json", "record_msgpack"]
    readonly_fields = ["sha256", "md5", "size", "record", "storage_key", "uploaded_at"]
