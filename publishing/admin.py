"""Package files in the admin: read-only rows, deleted through the publishing service
(the index is marked dirty and the stored bytes are removed, as on the website)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.credentials import Credential
from packages.models import PackageFile

from .services import delete_package_file


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
    exclude = ["record_json", "record_msgpack"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # files arrive through the upload API, which reads the archive

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a row mirrors its archive: replace the file by uploading it

    def delete_model(self, request: HttpRequest, obj: PackageFile) -> None:
        _delete(obj, request)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for package in queryset.select_related("channel"):
            _delete(package, request)


def _delete(package: PackageFile, request: HttpRequest) -> None:
    delete_package_file(
        package.channel,
        subdir=package.subdir,
        filename=package.filename,
        actor=Credential.for_user(request.user),
    )
