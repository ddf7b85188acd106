"""What a channel read answers, as plain data: status, headers, and where the bytes
come from under the ``PREFIXHUB_SERVE_MODE`` setting.

Two senders turn an ``Answer`` into HTTP: the Django views (``serving.py``) and the
hot path in front of Django (``hotpath.py``). Both send what these functions decide,
so a client sees the same headers whichever of the two answered it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from django.conf import settings
from django.utils.http import http_date

from prefixhub.storage import index_storage, package_storage

from . import conditional

IMMUTABLE = "max-age=31536000, immutable"
STORAGES = {"packages": package_storage, "index": index_storage}
# Which nginx location serves each storage in ``accel`` mode (deploy/nginx/).
_ACCEL_LOCATIONS = {"packages": "packages/", "index": "index/"}


@dataclass
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    # Stream mode: the storage alias and key whose bytes are the body.
    stream: tuple[str, str] | None = None


def handover(
    alias: str, name: str, content_type: str, mode: str | None = None
) -> Answer:
    """Hand over the bytes of ``name`` in storage ``alias`` as ``mode`` (by default
    the serve mode) says."""
    storage = STORAGES[alias]
    mode = mode or settings.PREFIXHUB_SERVE_MODE
    if mode == "redirect":
        return Answer(302, {"Location": storage.presigned_url(name)})
    if mode == "accel":
        # nginx serves the bytes from the storage's own internal location.
        location = settings.PREFIXHUB_ACCEL_PREFIX + _ACCEL_LOCATIONS[alias]
        return Answer(
            200,
            {
                "Content-Type": content_type,
                "X-Accel-Redirect": location + storage.accel_path(name),
            },
        )
    return Answer(200, {"Content-Type": content_type}, stream=(alias, name))


def shard(*, private: bool, sha256: str, key: str, if_none_match: str | None) -> Answer:
    """A content-addressed shard: its hash is its entity tag, cached for a year.

    In ``accel`` mode a public shard comes inline rather than handed to nginx: a few
    kilobytes that nginx's shard cache (deploy/nginx/) then keeps and serves with no
    Django request, while each private one is handed over after its own decision.
    """
    etag = f'"{sha256}"'
    inline = not private and settings.PREFIXHUB_SERVE_MODE == "accel"
    if if_none_match is not None and conditional.none_match(if_none_match, etag):
        answer = Answer(304)
    else:
        answer = handover(
            "index", key, "application/zstd", "stream" if inline else None
        )
    answer.headers["ETag"] = etag
    visibility = "private" if private else "public"
    answer.headers["Cache-Control"] = f"{visibility}, {IMMUTABLE}"
    return answer


def index_file(
    *,
    private: bool,
    sha256: str,
    published: int | None,
    key: str,
    content_type: str,
    if_none_match: str | None,
    if_modified_since: str | None,
) -> Answer:
    """A published index file: revalidated by the hash of its bytes, so an unchanged
    index costs a ``304`` (``published``: seconds since the epoch, if known)."""
    etag = f'"{sha256}"'
    not_modified = conditional.is_not_modified(
        if_none_match=if_none_match,
        if_modified_since=if_modified_since,
        etag=etag,
        last_modified=published,
    )
    answer = Answer(304) if not_modified else handover("index", key, content_type)
    if published is not None:
        answer.headers["Last-Modified"] = _http_date(published)
    answer.headers["ETag"] = etag
    answer.headers["Cache-Control"] = index_cache_control(private)
    return answer


@lru_cache(maxsize=4096)
def _http_date(seconds: int) -> str:
    # Formatting a date costs more than the rest of a 304: an index keeps its date
    # until it is published again.
    return http_date(seconds)


def index_cache_control(private: bool) -> str:
    if private:
        # Shared caches may store authenticated answers only when told to revalidate.
        return "no-cache, must-revalidate"
    max_age = settings.PREFIXHUB_INDEX_MAX_AGE
    return f"public, max-age={max_age}" if max_age else "public, no-cache"
