"""Channel URLs that conda clients read: index files, shards and package files.

``/<channel>/<subdir>/<file>`` and the same under ``/t/<key>/`` (stripped by
middleware). The view decides access, then hands the bytes over from storage as the
``PREFIXHUB_SERVE_MODE`` setting says. Index files carry a strong ETag from their
content hash, so revalidation is a cheap 304.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseNotModified,
    HttpResponseRedirect,
    JsonResponse,
)
from django.http.response import HttpResponseBase
from django.utils.http import http_date
from django.views.decorators.http import require_safe

from accounts.authentication import (
    REALM,
    InvalidCredentials,
    credential_from_request,
    session_credential,
)
from packages.models import PackageFile
from prefixhub.storage import index_storage, package_storage

from .access import get_channel_for_read
from .exceptions import ChannelError
from .models import Channel, Subdir
from .repodata.subdirs import is_known_subdir
from .services.index import (
    INDEX_NAME,
    REPODATA_NAME,
    REPODATA_ZST_NAME,
    empty_index_file,
    index_file_path,
)

_SHARD_RE = re.compile(r"^[0-9a-f]{64}\.msgpack\.zst$")
_IMMUTABLE = "max-age=31536000, immutable"
_INDEX_FILES = {
    INDEX_NAME: "index_sha256",
    REPODATA_NAME: "repodata_sha256",
    REPODATA_ZST_NAME: "repodata_zst_sha256",
}
_CONTENT_TYPES = {
    REPODATA_NAME: "application/json",
    REPODATA_ZST_NAME: "application/zstd",
    INDEX_NAME: "application/zstd",
}


def _error(status: int, message: str) -> HttpResponse:
    response = JsonResponse({"detail": message}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = REALM
    response["Cache-Control"] = "no-store"
    return response


def _reader_channel(request: HttpRequest, name: str) -> Channel | HttpResponse:
    try:
        credential = credential_from_request(request)
    except InvalidCredentials as exc:
        return _error(401, f"{exc}.")
    if credential.is_anonymous:
        credential = session_credential(request)
    try:
        return get_channel_for_read(name, credential)
    except ChannelError as exc:
        return _error(exc.status, exc.message)


def _index_cache_control(channel: Channel) -> str:
    if channel.is_private:
        # Shared caches may store authenticated answers only when told to revalidate.
        return "no-cache, must-revalidate"
    max_age = settings.PREFIXHUB_INDEX_MAX_AGE
    return f"public, max-age={max_age}" if max_age else "public, no-cache"


def _not_modified(request: HttpRequest, etag: str) -> bool:
    header = request.META.get("HTTP_IF_NONE_MATCH", "")
    return etag in [tag.strip() for tag in header.split(",")] or header.strip() == "*"


def _bytes_response(
    request: HttpRequest, data: bytes, content_type: str
) -> HttpResponseBase:
    body = b"" if request.method == "HEAD" else data
    response = HttpResponse(body, content_type=content_type)
    response["Content-Length"] = str(len(data))
    return response


def _storage_response(
    request: HttpRequest,
    storage: Any,
    name: str,
    content_type: str,
    size: int | None = None,
) -> HttpResponseBase:
    mode = settings.PREFIXHUB_SERVE_MODE
    if mode == "redirect":
        return HttpResponseRedirect(storage.url(name))
    if mode == "accel":
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = settings.PREFIXHUB_ACCEL_PREFIX + name
        return response
    if request.method == "HEAD":
        response = HttpResponse(content_type=content_type)
        response["Content-Length"] = str(
            size if size is not None else storage.size(name)
        )
        return response
    return FileResponse(storage.open(name, "rb"), content_type=content_type)


@require_safe
def subdir_file(
    request: HttpRequest, channel: str, subdir: str, filename: str
) -> HttpResponseBase:
    """Serve an index file or a package file of ``channel/subdir``."""
    found = _reader_channel(request, channel)
    if isinstance(found, HttpResponse):
        return found
    if not is_known_subdir(subdir):
        return _error(404, f"'{subdir}' is not a platform this channel can hold.")
    if filename in _INDEX_FILES:
        return _index_file(request, found, subdir, filename)
    return _package_file(request, found, subdir, filename)


def _index_file(
    request: HttpRequest, channel: Channel, subdir: str, filename: str
) -> HttpResponseBase:
    state = Subdir.objects.filter(channel=channel, name=subdir).first()
    sha = getattr(state, _INDEX_FILES[filename], "") if state else ""
    content_type = _CONTENT_TYPES[filename]
    if state is None or not sha:
        # Not built yet (or no such subdir): valid empty documents, never a 404
        # that clients would remember.
        data = empty_index_file(subdir, filename)
        assert data is not None
        empty = _bytes_response(request, data, content_type)
        empty["Cache-Control"] = "no-cache"
        return empty
    etag = f'"{sha}"'
    response: HttpResponseBase
    if _not_modified(request, etag):
        response = HttpResponseNotModified()
    else:
        response = _storage_response(
            request, index_storage, index_file_path(state, filename), content_type
        )
    response["ETag"] = etag
    published = (
        state.index_published_at
        if filename == INDEX_NAME
        else state.repodata_published_at
    )
    if published:
        response["Last-Modified"] = http_date(published.timestamp())
    response["Cache-Control"] = _index_cache_control(channel)
    return response


def _package_file(
    request: HttpRequest, channel: Channel, subdir: str, filename: str
) -> HttpResponseBase:
    package = (
        PackageFile.objects.filter(channel=channel, subdir=subdir, filename=filename)
        .only("storage_key", "sha256", "size")
        .first()
    )
    if package is None:
        return _error(404, f"{subdir}/{filename} does not exist in this channel.")
    etag = f'"{package.sha256}"'
    if _not_modified(request, etag):
        response: HttpResponseBase = HttpResponseNotModified()
    else:
        response = _storage_response(
            request,
            package_storage,
            package.storage_key,
            "application/octet-stream",
            size=package.size,
        )
    response["ETag"] = etag
    visibility = "private" if channel.is_private else "public"
    # A forced upload may replace the bytes under the same name: keep it short.
    response["Cache-Control"] = f"{visibility}, max-age=300"
    return response


@require_safe
def shard(
    request: HttpRequest, channel: str, subdir: str, filename: str
) -> HttpResponseBase:
    """Serve a content-addressed shard; immutable, so cached for a year."""
    found = _reader_channel(request, channel)
    if isinstance(found, HttpResponse):
        return found
    if not is_known_subdir(subdir) or not _SHARD_RE.match(filename):
        return _error(404, "No such shard.")
    name = f"{found.pk}/{subdir}/shards/{filename}"
    if not index_storage.exists(name):
        return _error(404, "No such shard.")
    etag = f'"{filename.split(".")[0]}"'
    if _not_modified(request, etag):
        response: HttpResponseBase = HttpResponseNotModified()
    else:
        response = _storage_response(request, index_storage, name, "application/zstd")
    response["ETag"] = etag
    visibility = "private" if found.is_private else "public"
    response["Cache-Control"] = f"{visibility}, {_IMMUTABLE}"
    return response


@require_safe
def channel_root_file(
    request: HttpRequest, channel: str, filename: str
) -> HttpResponseBase:
    """``notices.json`` and ``channeldata.json``: optional, absent here."""
    found = _reader_channel(request, channel)
    if isinstance(found, HttpResponse):
        return found
    return _error(404, f"{filename} is not published for this channel.")
