"""The upload, delete and reindex API that pixi, rattler-build and the website use."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.authentication import (
    REALM,
    ApiKeyAuthentication,
    BrowserSessionAuthentication,
)
from accounts.credentials import ANONYMOUS, Credential
from channels.access import get_channel_for_upload
from channels.exceptions import ChannelError
from packages.models import PackageFile

from . import access, services
from .exceptions import PublishingError
from .receive import receive


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Domain errors become short JSON reasons; clients print the first 512 bytes."""
    if isinstance(exc, ChannelError | PublishingError):
        response = Response({"detail": exc.message}, status=exc.status)
        if exc.status == 401:
            response["WWW-Authenticate"] = REALM
        return response
    return drf_exception_handler(exc, context)


def credential_of(request: Request) -> Credential:
    """The credential the request authenticated with (ANONYMOUS without one)."""
    return request.auth if isinstance(request.auth, Credential) else ANONYMOUS


def _is_forced(request: Request) -> bool:
    return request.query_params.get("force", "").lower() in ("1", "true", "yes")


def serialize_file(package: PackageFile) -> dict[str, Any]:
    return {
        "channel": package.channel.name,
        "subdir": package.subdir,
        "filename": package.filename,
        "name": package.name,
        "version": package.version,
        "build": package.build,
        "build_number": package.build_number,
        "sha256": package.sha256,
        "md5": package.md5,
        "size": package.size,
        "uploaded_at": package.uploaded_at.isoformat(),
    }


class _WriteApi(APIView):
    authentication_classes = [ApiKeyAuthentication, BrowserSessionAuthentication]
    parser_classes: list[Any] = []  # bodies are streamed, never parsed by DRF


class UploadView(_WriteApi):
    def post(self, request: Request, channel: str) -> Response:
        credential = credential_of(request)
        target = get_channel_for_upload(channel, credential)
        force = _is_forced(request)
        if force:
            access.check_overwrite(credential)
        django_request: HttpRequest = request._request
        received = receive(
            django_request,
            django_request.META,
            limit=settings.PREFIXHUB_MAX_UPLOAD_SIZE,
        )
        try:
            package = services.publish_upload(
                target, received=received, credential=credential, force=force
            )
        finally:
            received.close()
        return Response(serialize_file(package), status=200)


class DeleteView(_WriteApi):
    def delete(
        self, request: Request, channel: str, subdir: str, filename: str
    ) -> Response:
        credential = credential_of(request)
        target = access.get_channel_for_change(channel, credential)
        services.delete_package_file(
            target, subdir=subdir, filename=filename, actor=credential
        )
        return Response({"deleted": f"{subdir}/{filename}"}, status=200)


class ReindexView(_WriteApi):
    def post(self, request: Request, channel: str, subdir: str) -> Response:
        target = access.get_channel_for_change(channel, credential_of(request))
        generation = services.reindex_subdir(target, subdir=subdir)
        return Response({"subdir": subdir, "generation": generation}, status=200)
