"""The WSGI entry point hands Django the request, not the server's environment."""

from __future__ import annotations

from typing import Any

from prefixhub.wsgi import request_only


def _seen_by_app(environ: dict[str, Any], process: dict[str, str]) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.update(environ)
        return [b""]

    request_only(app, process)(environ, lambda *args: None)
    return seen


def test_process_variables_do_not_reach_request_meta() -> None:
    process = {"SECRET_KEY": "s3cret", "DATABASE_URL": "postgres://u:pw@db/x",
               "HTTP_AUTHORIZATION": "Bearer from-the-environment"}  # fmt: skip
    # granian's environ: a copy of the process's variables, then the request's.
    environ = {**process, "REQUEST_METHOD": "GET", "PATH_INFO": "/", "HTTP_HOST": "h"}

    seen = _seen_by_app(environ, process)

    assert seen == {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "HTTP_HOST": "h"}


def test_a_header_the_client_sent_stays_whatever_the_environment_holds() -> None:
    process = {
        "HTTP_AUTHORIZATION": "Bearer env",
        "PATH_INFO": "/",
        "SERVER_PORT": "80",
    }
    environ = {"HTTP_AUTHORIZATION": "Bearer client", "PATH_INFO": "/",
               "SERVER_PORT": "80"}  # fmt: skip

    seen = _seen_by_app(environ, process)

    # The server's own keys stay even when a process variable has the same value.
    assert seen == environ
