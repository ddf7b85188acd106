"""The WSGI application the web server (granian, see ``prefixhub web``) runs: Django,
with the hot channel reads answered in front of it (``channels.hotpath``)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prefixhub.settings")

WSGIApplication = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# What the server itself sets from the request: never taken for a process variable.
_SERVER_KEYS = frozenset({
    "GATEWAY_INTERFACE", "PATH_INFO", "QUERY_STRING", "REMOTE_ADDR", "REQUEST_METHOD",
    "SCRIPT_NAME", "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "SERVER_SOFTWARE",
})  # fmt: skip


def _is_header(key: str) -> bool:
    return key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH")


def _inherited(
    process_environ: Mapping[str, str], *, headers_only: bool = False
) -> tuple[tuple[str, str], ...]:
    return tuple(
        (key, value)
        for key, value in process_environ.items()
        if key not in _SERVER_KEYS and (_is_header(key) or not headers_only)
    )


def _drop(environ: dict[str, Any], inherited: tuple[tuple[str, str], ...]) -> None:
    for key, value in inherited:
        if environ.get(key) == value:
            del environ[key]


def request_only(
    app: WSGIApplication,
    process_environ: Mapping[str, str],
    *,
    headers_only: bool = False,
) -> WSGIApplication:
    """``app`` given an environ without the process's environment variables
    (``headers_only``: without those that pose as request headers).

    granian starts every request's environ from a copy of ``os.environ`` (as
    wsgiref does; gunicorn does not). That would put ``SECRET_KEY`` and
    ``DATABASE_URL`` in ``request.META``, which error reports show, and a variable
    such as ``HTTP_AUTHORIZATION`` would read as a header the client never sent.
    A key whose value equals the process's is dropped; a header the client sent
    with another value under the same name stays.
    """
    inherited = _inherited(process_environ, headers_only=headers_only)

    def application(
        environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        _drop(environ, inherited)
        return app(environ, start_response)

    return application


django_application = get_wsgi_application()

from channels.hotpath import HotReads  # noqa: E402 (needs Django set up)


class _Application(HotReads):
    """The hot path in front of Django, neither seeing the process's variables.

    The hot path reads only headers, so only variables named like headers are
    dropped before it (usually none, at no cost to the hottest requests); the
    dozens of others are dropped from the requests that go on to Django.
    """

    def __init__(self, process_environ: Mapping[str, str]) -> None:
        super().__init__(request_only(django_application, process_environ))
        self.inherited_headers = _inherited(process_environ, headers_only=True)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        _drop(environ, self.inherited_headers)
        return super().__call__(environ, start_response)


# Taken after Django's setup, as granian takes its copy after loading this module.
_process_environ = dict(os.environ)
application = _Application(_process_environ)
