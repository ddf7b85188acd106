"""The WSGI application the web server (granian, see ``prefixhub web``) runs."""

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


def request_only(
    app: WSGIApplication, process_environ: Mapping[str, str]
) -> WSGIApplication:
    """``app`` given an environ without the process's environment variables.

    granian starts every request's environ from a copy of ``os.environ`` (as
    wsgiref does; gunicorn does not). That would put ``SECRET_KEY`` and
    ``DATABASE_URL`` in ``request.META``, which error reports show, and a variable
    such as ``HTTP_AUTHORIZATION`` would read as a header the client never sent.
    A key whose value equals the process's is dropped; a header the client sent
    with another value under the same name stays.
    """
    inherited = tuple(
        (key, value)
        for key, value in process_environ.items()
        if key not in _SERVER_KEYS
    )

    def application(
        environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        for key, value in inherited:
            if environ.get(key) == value:
                del environ[key]
        return app(environ, start_response)

    return application


_django = get_wsgi_application()
# Taken after Django's setup, as granian takes its copy after loading this module.
application = request_only(_django, dict(os.environ))
