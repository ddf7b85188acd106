"""The ``prefixhub`` command line: what ``serve`` announces."""

from __future__ import annotations

import socket

from prefixhub.cli import default_public_url


def test_a_wildcard_bind_is_announced_by_this_machines_name() -> None:
    for host in ("0.0.0.0", "::"):  # noqa: S104 (announcing, not binding)
        url = default_public_url(host, 8000)
        assert url == f"http://{socket.gethostname()}:8000"
        assert "0.0.0.0" not in url  # noqa: S104


def test_a_specific_bind_is_announced_as_it_is() -> None:
    assert default_public_url("127.0.0.1", 8123) == "http://127.0.0.1:8123"
    assert default_public_url("::1", 8123) == "http://[::1]:8123"
