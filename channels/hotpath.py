"""The reads every ``pixi install`` makes, answered in front of Django.

An install reads each platform's shard index and then one shard per package name:
the hottest path prefixhub has. Django's request machinery (request and response
objects, middleware, URL resolution, signals) costs several times the work itself,
so this WSGI middleware answers those URLs (and ``repodata.json.zst``) on its own
when one query grants the read. Everything else goes on to Django untouched:
other URLs, sessions, refusals, tokens it does not take, files not built yet. For
the same request the Django views send the same ``answers``, so a client cannot
tell which of the two answered.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.handlers.wsgi import WSGIRequest
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.middleware.security import SecurityMiddleware

from prefixhub.fastquery import db_to_datetime

from . import answers, layout
from .access import ReadGrant
from .repodata.subdirs import is_known_subdir
from .serving import granted

logger = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_HOT = re.compile(
    r"^(?:/t/(?P<token>[A-Za-z0-9-]+))?/(?P<channel>[^/]+)/(?P<subdir>[^/]+)/"
    r"(?:shards/(?P<shard>[0-9a-f]{64})\.msgpack\.zst"
    r"|(?P<index>repodata_shards\.msgpack\.zst|repodata\.json\.zst))$"
)
_CHUNK = 64 * 1024
_STATUS = {code: f"{code} {HTTPStatus(code).phrase}" for code in (200, 302, 304)}


class HotReads:
    """WSGI middleware in front of Django's application (``prefixhub/wsgi.py``)."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self.session_cookie = settings.SESSION_COOKIE_NAME + "="
        self.headers = {secure: _site_headers(secure) for secure in (False, True)}

    def __call__(
        self, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        try:
            found = self.answer(environ)
        except Exception:
            # Django answers instead, and reports the error its own way if it too
            # fails (a database that went away, say).
            logger.warning("hot path declined after an error", exc_info=True)
            found = None
        if found is None:
            return self.app(environ, start_response)
        answer, handle, secure = found
        headers = [*answer.headers.items(), *self.headers[secure]]
        body: Iterable[bytes] = []
        if handle is not None:
            size = handle.size
            headers.append(("Content-Length", str(size)))
            if environ["REQUEST_METHOD"] == "HEAD":
                handle.close()
            elif size <= _CHUNK:  # a shard, most often: one read, and no generator
                with handle:
                    body = [handle.read()]
            else:
                body = _chunks(handle)
        elif answer.status != 304:
            headers.append(("Content-Length", "0"))  # nginx or S3 sends the bytes
        start_response(_STATUS[answer.status], headers)
        return body

    def answer(
        self, environ: dict[str, Any]
    ) -> tuple[answers.Answer, File[bytes] | None, bool] | None:
        """What to send (with the open file in stream mode, and whether the request
        came over HTTPS), or None to let Django answer."""
        if environ["REQUEST_METHOD"] not in ("GET", "HEAD"):
            return None
        if self.session_cookie in environ.get("HTTP_COOKIE", ""):
            return None  # a signed-in browser: its session is its credential
        match = _HOT.match(environ.get("PATH_INFO", ""))
        if match is None or not is_known_subdir(match["subdir"]):
            return None
        secure = _is_secure(environ)
        if settings.SECURE_SSL_REDIRECT and not secure:
            return None  # Django redirects to HTTPS
        if not connection.in_atomic_block:  # (only ever true inside a test)
            # As Django does when a request starts: drop a connection that broke.
            connection.close_if_unusable_or_obsolete()
        answer = _read(environ, match)
        if answer is None:
            return None
        handle = None
        if answer.stream is not None:
            alias, name = answer.stream
            try:
                handle = answers.STORAGES[alias].open(name, "rb")
            except FileNotFoundError:
                return None  # Django answers 404
        return answer, handle, secure


def _read(environ: dict[str, Any], match: re.Match[str]) -> answers.Answer | None:
    """The answer to a hot URL, when one query grants the read."""
    index = match["index"]
    grant = granted(
        match["channel"],
        environ.get("HTTP_AUTHORIZATION", ""),
        match["token"],
        index=(match["subdir"], index) if index else None,
    )
    if grant is None:
        return None
    if index:
        if not grant.index_sha256:
            return None  # not built yet: Django sends the empty document
        return _index_answer(environ, grant, match["subdir"], index)
    return answers.shard(
        private=grant.is_private,
        sha256=match["shard"],
        key=layout.shard_key(grant.channel_id, match["subdir"], match["shard"]),
        if_none_match=environ.get("HTTP_IF_NONE_MATCH"),
    )


def _index_answer(
    environ: dict[str, Any], grant: ReadGrant, subdir: str, filename: str
) -> answers.Answer:
    published = grant.index_published
    return answers.index_file(
        private=grant.is_private,
        sha256=grant.index_sha256,
        published=int(db_to_datetime(published).timestamp()) if published else None,
        key=layout.index_key(grant.channel_id, subdir, filename),
        content_type="application/zstd",
        if_none_match=environ.get("HTTP_IF_NONE_MATCH"),
        if_modified_since=environ.get("HTTP_IF_MODIFIED_SINCE"),
    )


def _is_secure(environ: dict[str, Any]) -> bool:
    """``HttpRequest.is_secure`` without building a request."""
    if settings.SECURE_PROXY_SSL_HEADER:
        return WSGIRequest(environ).is_secure()  # the proxy's header decides
    return bool(environ.get("wsgi.url_scheme") == "https")


def _site_headers(secure: bool) -> list[tuple[str, str]]:
    """The headers every response of the site carries (``SecurityMiddleware`` and
    our Content-Security-Policy), as Django would add them to a channel read."""
    probe = _Probe(secure)
    response = SecurityMiddleware(lambda request: HttpResponse()).process_response(
        probe, HttpResponse()
    )
    headers = [(k, v) for k, v in response.items() if k.lower() != "content-type"]
    if settings.PREFIXHUB_CSP:
        headers.append(("Content-Security-Policy", settings.PREFIXHUB_CSP))
    return headers


class _Probe(HttpRequest):
    def __init__(self, secure: bool) -> None:
        super().__init__()
        self.secure = secure

    def is_secure(self) -> bool:
        return self.secure


def _chunks(handle: File[bytes]) -> Iterator[bytes]:
    try:
        while chunk := handle.read(_CHUNK):
            yield chunk
    finally:
        handle.close()
