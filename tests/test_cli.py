"""The ``prefixhub`` command line: what ``serve`` announces, how ``web`` starts."""

from __future__ import annotations

import os
import socket
import sys

import pytest

from prefixhub.cli import default_public_url, parse_bind, web, web_command


def test_a_wildcard_bind_is_announced_by_this_machines_name() -> None:
    for host in ("0.0.0.0", "::"):  # noqa: S104 (announcing, not binding)
        url = default_public_url(host, 8000)
        assert url == f"http://{socket.gethostname()}:8000"
        assert "0.0.0.0" not in url  # noqa: S104


def test_a_specific_bind_is_announced_as_it_is() -> None:
    assert default_public_url("127.0.0.1", 8123) == "http://127.0.0.1:8123"
    assert default_public_url("::1", 8123) == "http://[::1]:8123"


def test_web_takes_a_bind_address_as_deploy_passes_it() -> None:
    assert parse_bind("127.0.0.1:8001") == ("127.0.0.1", 8001)
    assert parse_bind("[::1]:8001") == ("::1", 8001)
    for wrong in ("8001", "127.0.0.1:", ":8001", "host:port"):
        with pytest.raises(ValueError, match="HOST:PORT"):
            parse_bind(wrong)


def test_web_runs_django_under_granian_without_an_access_log() -> None:
    argv = web_command(host="::1", port=8001, workers=3, blocking_threads=8)

    assert argv[:3] == [sys.executable, "-m", "granian"]
    assert argv[-1] == "prefixhub.wsgi:application"
    options = dict(zip(argv[3:-1:2], argv[4:-1:2], strict=False))
    assert options["--interface"] == "wsgi"
    assert (options["--host"], options["--port"]) == ("::1", "8001")
    assert (options["--workers"], options["--blocking-threads"]) == ("3", "8")
    # Request lines can carry keys (/t/<key>/...): they must not reach a log.
    assert "--no-access-log" in argv
    assert "--access-log" not in argv


def test_web_execs_granian_with_the_bind_it_was_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = []

    def execv(path: str, argv: list[str]) -> None:
        calls.append(argv)
        raise SystemExit(0)

    monkeypatch.setattr(os, "execv", execv)
    with pytest.raises(SystemExit):
        web(["--bind", "0.0.0.0:9000", "--workers", "1"])

    [argv] = calls
    assert argv == web_command(
        host="0.0.0.0",  # noqa: S104
        port=9000,
        workers=1,
        blocking_threads=8,
        kill_timeout=60,
    )
