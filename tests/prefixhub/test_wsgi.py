"""The WSGI entry point hands Django the request, not the server's environment."""

from __future__ import annotations

import io
from typing import Any

import pytest

from channels.hotpath import HotReads
from prefixhub.wsgi import request_only
from tests.conftest import as_a_server_calls


def _seen_by_app(
    environ: dict[str, Any], process: dict[str, str], *, headers_only: bool = False
) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.update(environ)
        return [b""]

    request_only(app, process, headers_only=headers_only)(environ, lambda *args: None)
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


def test_headers_only_drops_just_the_variables_that_pose_as_headers() -> None:
    process = {"SECRET_KEY": "s", "HTTP_PROXY": "http://proxy:3128",
               "CONTENT_LENGTH": "12"}  # fmt: skip
    environ = {**process, "PATH_INFO": "/"}

    seen = _seen_by_app(environ, process, headers_only=True)

    assert seen == {"SECRET_KEY": "s", "PATH_INFO": "/"}


@pytest.mark.django_db
def test_the_project_application_hands_django_no_process_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As granian calls it: the process's variables first, then the request's."""
    from prefixhub.wsgi import _Application

    process = {"SECRET_KEY_PROBE": "s", "HTTP_X_PROBE": "e", "HTTP_COOKIE": "c=1"}
    seen: list[dict[str, Any]] = []
    hot = HotReads.answer

    def answer(self: HotReads, environ: dict[str, Any]) -> Any:
        seen.append(dict(environ))
        return hot(self, environ)

    monkeypatch.setattr(HotReads, "answer", answer)
    monkeypatch.setattr(
        "prefixhub.wsgi.django_application",
        lambda environ, start: seen.append(dict(environ)) or [b""],
    )
    request = {"REQUEST_METHOD": "GET", "PATH_INFO": "/c/noarch/repodata.json.zst",
               "HTTP_HOST": "testserver"}  # fmt: skip

    _Application(process)({**process, **request}, lambda *args: None)

    before_hot_path, before_django = seen
    assert before_hot_path == {"SECRET_KEY_PROBE": "s", **request}
    assert before_django == request


@pytest.mark.django_db
def test_the_project_application_answers_with_the_environment_in_environ() -> None:
    """As granian calls it: the process's variables first, then the request's."""
    from prefixhub.wsgi import _process_environ, application

    statuses = []
    environ = {**_process_environ, "REQUEST_METHOD": "GET", "PATH_INFO": "/",
               "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80",
               "HTTP_HOST": "127.0.0.1", "wsgi.url_scheme": "http",
               "wsgi.input": io.BytesIO()}  # fmt: skip

    with as_a_server_calls():
        body = application(environ, lambda status, headers: statuses.append(status))
        b"".join(body)
        body.close()  # type: ignore[attr-defined]

    assert statuses == ["200 OK"]
