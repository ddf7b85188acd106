"""Channel URLs that conda clients read: index files, shards and package files.

``/<channel>/<subdir>/<file>`` and the same under ``/t/<key>/`` (stripped by
middleware). The view decides access, then hands the bytes over from storage as the
``PREFIXHUB_SERVE_MODE`` setting says. Index files carry a strong ETag from their
content hash, so revalidation is a cheap 304; ``repodata.json`` also comes as a
stored gzip copy to clients that accept it; package files answer Range requests, so
interrupted downloads resume. The header rules themselves are in ``conditional.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseNotModified,
    JsonResponse,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.urls import path
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import http_date
from django.views.decorators.http import require_safe

from accounts.authentication import (
    REALM,
    InvalidCredentials,
    credential_from_request,
    sent_key,
    session_credential,
)
from accounts.models import ApiKey, hash_key
from packages.models import PackageFile
from prefixhub.fastquery import first_row
from prefixhub.storage import index_storage, package_storage
from publishing.oidc import tokens as minted_tokens

from . import answers, conditional, layout
from .access import ReadGrant, get_channel_for_read, read_grant
from .exceptions import ChannelError
from .models import Channel, Subdir
from .names import RESERVED_NAMES
from .repodata.subdirs import is_known_subdir
from .services.index import empty_index_file

_CHUNK = 64 * 1024
_CONTENT_TYPES = {
    layout.REPODATA: "application/json",
    layout.REPODATA_ZST: "application/zstd",
    layout.SHARD_INDEX: "application/zstd",
}


def _error(status: int, message: str) -> HttpResponse:
    response = JsonResponse({"detail": message}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = REALM
    response["Cache-Control"] = "no-store"
    return response


def _reader_channel(request: HttpRequest, name: str) -> Channel | HttpResponse:
    granted: Channel | None = getattr(request, "granted_channel", None)
    if granted is not None:
        return granted  # prefixhub.middleware.ChannelURLMiddleware asked already
    try:
        credential = credential_from_request(request)
    except InvalidCredentials as exc:
        return _error(401, f"{exc}.")
    if credential.is_anonymous and hasattr(request, "user"):
        # Requests that carry a session cookie go through the session middleware.
        credential = session_credential(request)
    try:
        return get_channel_for_read(name, credential)
    except ChannelError as exc:
        return _error(exc.status, exc.message)


def granted_channel(request: HttpRequest, name: str) -> Channel | None:
    """The channel when one query grants a request without a session reading it
    (``access.read_grant``): a public channel, or a member's plain API key. None
    sends the request down the full path, which gives every refusal its message."""
    grant = granted(
        name,
        request.META.get("HTTP_AUTHORIZATION", ""),
        getattr(request, "path_token", None),
    )
    return None if grant is None else grant.channel


def granted(
    name: str,
    authorization: str,
    path_token: str | None,
    *,
    index: tuple[str, str] | None = None,
) -> ReadGrant | None:
    """``granted_channel`` from the ``Authorization`` header and ``/t/`` token
    (``index``: as for ``read_grant``)."""
    if name.lower() in RESERVED_NAMES:
        return None  # one of the site's own pages, never a channel
    try:
        raw = sent_key(authorization, path_token)
    except InvalidCredentials:
        return None
    if raw is not None and raw.startswith(minted_tokens.PREFIX):
        return None
    grant = read_grant(name, None if raw is None else hash_key(raw), index=index)
    if grant is None:
        return None
    if grant.stale_key_id is not None:
        ApiKey.mark_used(grant.stale_key_id, timezone.now())
    return grant


def _not_modified(
    request: HttpRequest, etag: str, last_modified: int | None = None
) -> bool:
    return conditional.is_not_modified(
        # META, not request.headers: building that costs more than this whole check.
        if_none_match=request.META.get("HTTP_IF_NONE_MATCH"),
        if_modified_since=request.META.get("HTTP_IF_MODIFIED_SINCE"),
        etag=etag,
        last_modified=last_modified,
    )


def _not_modified_response(last_modified: int | None) -> HttpResponseBase:
    response = HttpResponseNotModified()
    if last_modified is not None:
        response["Last-Modified"] = http_date(last_modified)
    return response


def _bytes_response(
    request: HttpRequest, data: bytes, content_type: str
) -> HttpResponseBase:
    body = b"" if request.method == "HEAD" else data
    response = HttpResponse(body, content_type=content_type)
    response["Content-Length"] = str(len(data))
    return response


def _send(
    request: HttpRequest, answer: answers.Answer, size: int | None = None
) -> HttpResponseBase:
    """The Django response for ``answer`` (``size``: of the streamed file, if known)."""
    response: HttpResponseBase
    if answer.status == 304:
        response = HttpResponseNotModified()
    elif answer.stream is None:
        response = HttpResponse(status=answer.status)
    else:
        alias, name = answer.stream
        storage = answers.STORAGES[alias]
        content_type = answer.headers["Content-Type"]
        if request.method == "HEAD":
            response = HttpResponse(content_type=content_type)
            response["Content-Length"] = str(
                size if size is not None else storage.size(name)
            )
        else:
            response = _FileResponse(
                storage.open(name, "rb"), content_type=content_type
            )
    for header, value in answer.headers.items():
        response[header] = value
    return response


class _FileResponse(FileResponse):
    # granian offers no wsgi.file_wrapper (gunicorn's used sendfile), so Django
    # reads the file in block_size pieces, each a trip between Python and the
    # server: at Django's default 4 KiB a 50 MB download ran at ~300 MB/s on one
    # core, at 64 KiB ~2 GB/s.
    block_size = _CHUNK


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
    if filename in Subdir.STATE_FIELDS:
        return _index_file(request, found, subdir, filename)
    return _package_file(request, found, subdir, filename)


def _index_file(
    request: HttpRequest, channel: Channel, subdir: str, filename: str
) -> HttpResponseBase:
    state = first_row(Subdir, {"channel": channel.pk, "name": subdir})
    sha = getattr(state, Subdir.STATE_FIELDS[filename][0], "") if state else ""
    content_type = _CONTENT_TYPES[filename]
    response: HttpResponseBase
    if state is None or not sha:
        # Not built yet (or no such subdir): valid empty documents, never a 404
        # that clients would remember.
        data = empty_index_file(subdir, filename)
        assert data is not None
        response = _bytes_response(request, data, content_type)
        response["Cache-Control"] = "no-cache"
    else:
        response = _published_index_file(request, channel, state, filename, sha)
    if filename == layout.REPODATA:
        # Caches must keep the gzip and the identity answer apart.
        patch_vary_headers(response, ["Accept-Encoding"])
    return response


def _published_index_file(
    request: HttpRequest, channel: Channel, state: Subdir, filename: str, sha: str
) -> HttpResponseBase:
    published = getattr(state, Subdir.STATE_FIELDS[filename][1])
    content_type = _CONTENT_TYPES[filename]
    gzipped = filename == layout.REPODATA and _wants_gzip(request, state)
    if gzipped:
        # Each representation has its own entity tag: the hash of its bytes.
        filename, sha = layout.REPODATA_GZ, state.repodata_gz_sha256
    answer = answers.index_file(
        private=channel.is_private,
        sha256=sha,
        published=int(published.timestamp()) if published else None,
        key=layout.index_key(state.channel_id, state.name, filename),
        content_type=content_type,
        if_none_match=request.META.get("HTTP_IF_NONE_MATCH"),
        if_modified_since=request.META.get("HTTP_IF_MODIFIED_SINCE"),
    )
    if gzipped and answer.status != 304:
        answer.headers["Content-Encoding"] = "gzip"
    return _send(request, answer)


def _wants_gzip(request: HttpRequest, state: Subdir) -> bool:
    """Serve the stored gzip copy: it matches the current repodata.json (its hash is
    cleared while a rebuild replaces it) and the bytes pass through Django, which
    can label them (a redirect or nginx hand-off would not say Content-Encoding)."""
    return (
        bool(state.repodata_gz_sha256)
        and settings.PREFIXHUB_SERVE_MODE == "stream"
        and conditional.accepts_gzip(request.headers.get("Accept-Encoding"))
    )


def _package_file(
    request: HttpRequest, channel: Channel, subdir: str, filename: str
) -> HttpResponseBase:
    package = first_row(
        PackageFile,
        {"channel": channel.pk, "subdir": subdir, "filename": filename},
        fields=("storage_key", "sha256", "size", "uploaded_at"),
    )
    if package is None:
        return _error(404, f"{subdir}/{filename} does not exist in this channel.")
    etag = f'"{package.sha256}"'
    last_modified = int(package.uploaded_at.timestamp())
    if _not_modified(request, etag, last_modified):
        response = _not_modified_response(last_modified)
    elif settings.PREFIXHUB_SERVE_MODE == "stream":
        response = _package_stream(request, package, etag, last_modified)
    else:
        # nginx and object storage answer Range requests themselves.
        response = _whole_package(request, package)
    response["ETag"] = etag
    response["Last-Modified"] = http_date(last_modified)
    if response.status_code != 416:  # a refusal is for this request only: no-store
        visibility = "private" if channel.is_private else "public"
        # A forced upload may replace the bytes under the same name: keep it short.
        response["Cache-Control"] = f"{visibility}, max-age=300"
    return response


def _package_stream(
    request: HttpRequest, package: PackageFile, etag: str, last_modified: int
) -> HttpResponseBase:
    """The whole file, or the one byte range asked for (206), or 416."""
    wanted = None
    if request.method == "GET" and conditional.range_applies(
        request.headers.get("If-Range"), etag=etag, last_modified=last_modified
    ):
        wanted = conditional.parse_range(request.headers.get("Range"), package.size)
    response: HttpResponseBase
    if wanted == conditional.UNSATISFIABLE:
        response = _error(416, f"The file has {package.size} bytes.")
        response["Content-Range"] = f"bytes */{package.size}"
    elif isinstance(wanted, tuple):
        first, last = wanted
        handle = package_storage.open(package.storage_key, "rb")
        response = StreamingHttpResponse(
            _file_slice(handle, first, last - first + 1),
            status=206,
            content_type="application/octet-stream",
        )
        response["Content-Length"] = str(last - first + 1)
        response["Content-Range"] = f"bytes {first}-{last}/{package.size}"
    else:
        response = _whole_package(request, package)
    response["Accept-Ranges"] = "bytes"
    return response


def _whole_package(request: HttpRequest, package: PackageFile) -> HttpResponseBase:
    answer = answers.handover(
        "packages", package.storage_key, "application/octet-stream"
    )
    return _send(request, answer, size=package.size)


def _file_slice(handle: Any, start: int, length: int) -> Iterator[bytes]:
    try:
        handle.seek(start)
        while length > 0:
            chunk = handle.read(min(_CHUNK, length))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk
    finally:
        handle.close()


@require_safe
def shard(
    request: HttpRequest, channel: str, subdir: str, filename: str
) -> HttpResponseBase:
    """Serve a content-addressed shard; immutable, so cached for a year."""
    found = _reader_channel(request, channel)
    if isinstance(found, HttpResponse):
        return found
    if not is_known_subdir(subdir) or not layout.SHARD_NAME.match(filename):
        return _error(404, "No such shard.")
    sha256 = filename.split(".")[0]
    answer = answers.shard(
        private=found.is_private,
        sha256=sha256,
        key=layout.shard_key(found.pk, subdir, sha256),
        if_none_match=request.META.get("HTTP_IF_NONE_MATCH"),
    )
    # When the bytes leave from here; otherwise the server that sends them (nginx,
    # S3) answers 404 itself.
    if answer.stream is not None and not index_storage.exists(answer.stream[1]):
        return _error(404, "No such shard.")
    return _send(request, answer)


@require_safe
def channel_root_file(
    request: HttpRequest, channel: str, filename: str
) -> HttpResponseBase:
    """``notices.json`` and ``channeldata.json``: optional, absent here."""
    found = _reader_channel(request, channel)
    if isinstance(found, HttpResponse):
        return found
    return _error(404, f"{filename} is not published for this channel.")


# The channel URLs conda clients read, after every site URL (``prefixhub/urls.py``);
# ``prefixhub.middleware.ChannelURLMiddleware`` answers them ahead of the rest.
urlpatterns = [
    path(
        "<str:channel>/<str:subdir>/shards/<str:filename>", shard, name="channel-shard"
    ),
    path("<str:channel>/<str:subdir>/<str:filename>", subdir_file, name="channel-file"),
    path("<str:channel>/<str:filename>", channel_root_file, name="channel-root-file"),
]
