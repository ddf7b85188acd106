"""Tier 2: the real conda command line against a live server.

conda 26.7 (classic solver) creates environments from public and private channels,
searches them, is refused without credentials, revalidates its cached index with a
304, and resumes a package download that a dropped connection cut short.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from rattler_build import ArchiveType, assemble_package

from tests.live.conda_cli import Conda
from tests.live.proxy import RecordingProxy
from tests.live.service import LiveService
from tests.live.test_conda_clients import World

pytestmark = pytest.mark.live


@pytest.fixture
def world(live: LiveService, tmp_path: Path) -> World:
    return World(live, tmp_path)


def _installed(prefix: Path) -> list[str]:
    """``name-version-build`` of what conda installed, from its conda-meta records."""
    return sorted(p.name[: -len(".json")] for p in (prefix / "conda-meta").glob("*.json")
                  if p.name != "history")  # fmt: skip


def _assert_created(done: object, prefix: Path, tag: str) -> None:
    assert getattr(done, "ok", False), getattr(done, "output", done)
    assert _installed(prefix) == [f"app{tag}-2.0-h0_0", f"lib{tag}-1.0-h0_0"]
    assert (prefix / "share" / f"app{tag}.txt").read_text() == f"app {tag}"
    assert (prefix / "share" / f"lib{tag}.txt").read_text() == f"lib {tag}"


def test_conda_creates_an_environment_from_a_public_channel_across_subdirs(
    conda_env: Path, world: World, tmp_path: Path
) -> None:
    channel = world.channel()
    lib, app = world.packages("cpub")  # noarch .conda <- linux-64 .tar.bz2
    assert world.upload(channel, [lib, app]) == {"ok": True}
    conda = Conda(conda_env, tmp_path / "conda")

    done = conda.create(tmp_path / "env", f"{world.live.url}/{channel}", "appcpub")

    _assert_created(done, tmp_path / "env", "cpub")


def test_conda_creates_from_a_private_channel_through_a_path_token(
    conda_env: Path, world: World, tmp_path: Path
) -> None:
    channel = world.channel(private=True)
    lib, app = world.packages("ctok")
    assert world.upload(channel, [lib, app]) == {"ok": True}
    conda = Conda(conda_env, tmp_path / "conda")

    url = f"{world.live.url}/t/{world.key}/{channel}"
    done = conda.create(tmp_path / "env", url, "appctok")

    _assert_created(done, tmp_path / "env", "ctok")


def test_conda_creates_from_a_private_channel_with_basic_auth_in_the_url(
    conda_env: Path, world: World, tmp_path: Path
) -> None:
    channel = world.channel(private=True)
    lib, app = world.packages("cbas")
    assert world.upload(channel, [lib, app]) == {"ok": True}
    conda = Conda(conda_env, tmp_path / "conda")

    url = f"http://ci:{world.key}@127.0.0.1:{world.live.port}/{channel}"
    done = conda.create(tmp_path / "env", url, "appcbas")

    _assert_created(done, tmp_path / "env", "cbas")


def test_conda_search_lists_the_packages_of_a_channel(
    conda_env: Path, world: World, tmp_path: Path
) -> None:
    channel = world.channel()
    lib, app = world.packages("csea")
    assert world.upload(channel, [lib, app]) == {"ok": True}
    conda = Conda(conda_env, tmp_path / "conda")

    done = conda.run(
        "search", "--json", "--override-channels", "-c",
        f"{world.live.url}/{channel}", "*csea",
    )  # fmt: skip

    assert done.ok, done.output
    found = json.loads(done.output[done.output.index("{") :])
    assert {
        name: [(r["version"], r["subdir"]) for r in records]
        for name, records in found.items()
    } == {"appcsea": [("2.0", "linux-64")], "libcsea": [("1.0", "noarch")]}


def test_conda_is_refused_a_private_channel_without_credentials(
    conda_env: Path, world: World, tmp_path: Path
) -> None:
    channel = world.channel(private=True)
    lib, app = world.packages("cref")
    assert world.upload(channel, [lib, app]) == {"ok": True}
    conda = Conda(conda_env, tmp_path / "conda")

    done = conda.create(tmp_path / "env", f"{world.live.url}/{channel}", "appcref")

    assert not done.ok
    assert "401" in done.output, done.output
    assert not (tmp_path / "env" / "conda-meta").exists()
    assert "appcref-2.0" not in done.output


@pytest.mark.parametrize("private", [False, True], ids=["public", "private"])
def test_a_second_conda_install_revalidates_the_index_with_304(
    conda_env: Path, world: World, tmp_path: Path, private: bool
) -> None:
    channel = world.channel(private=private)
    lib, app = world.packages("creu")
    assert world.upload(channel, [lib, app]) == {"ok": True}
    conda = Conda(conda_env, tmp_path / "conda")

    with RecordingProxy(world.live.port) as proxy:
        token = f"/t/{world.key}" if private else ""
        url = f"{proxy.url}{token}/{channel}"
        _assert_created(
            conda.create(tmp_path / "one", url, "appcreu"), tmp_path / "one", "creu"
        )
        first = len(proxy.exchanges)
        _assert_created(
            conda.create(tmp_path / "two", url, "appcreu"), tmp_path / "two", "creu"
        )
        second = proxy.exchanges[first:]

    index_requests = [e for e in second if "/repodata" in e.path]
    assert index_requests, [e.path for e in second]
    revalidated = [e for e in index_requests if e.status == 304]
    # Every index file conda had cached came back as a cheap 304 to its validators.
    assert revalidated, [(e.path, e.status) for e in index_requests]
    for exchange in revalidated:
        assert exchange.request_headers.get("If-None-Match", "").startswith('"')
        assert exchange.body_bytes == 0
    for exchange in index_requests:
        assert exchange.status in (200, 304, 404), (exchange.path, exchange.status)


def _big_package(out: Path, name: str, megabytes: int) -> Path:
    """A noarch .conda holding ``megabytes`` of random (incompressible) bytes."""
    files = out / f"files-{name}"
    (files / "share").mkdir(parents=True)
    (files / "share" / f"{name}.bin").write_bytes(os.urandom(megabytes * 1024 * 1024))
    output = assemble_package(
        name, "1.0", "noarch", "h0_0", out, files_dir=files, noarch="generic",
        archive_type=ArchiveType.Conda,
    )  # fmt: skip
    return Path(output.path)


def test_conda_resumes_a_download_cut_short_by_a_dropped_connection(
    conda_env: Path, world: World, tmp_path: Path
) -> None:
    channel = world.channel()
    package = _big_package(tmp_path / "pkgs", "bigdata", 12)
    size = package.stat().st_size
    assert size > 10 * 1024 * 1024
    assert world.upload(channel, [package]) == {"ok": True}
    conda = Conda(conda_env, tmp_path / "conda")

    with RecordingProxy(world.live.port) as proxy:
        url = f"{proxy.url}/{channel}"
        proxy.cuts[package.name] = 5 * 1024 * 1024
        cut = conda.create(tmp_path / "env", url, "bigdata")
        assert not cut.ok, cut.output
        partial = [p for p in conda.partial_files() if p.name.startswith("bigdata")]
        assert len(partial) == 1, sorted(p.name for p in conda.pkgs.iterdir())
        kept = partial[0].stat().st_size
        assert 0 < kept < size

        done = conda.create(tmp_path / "env", url, "bigdata")
        downloads = proxy.matching(package.name)

    assert done.ok, done.output
    assert [e.cut for e in downloads] == [True, False]
    resumed = downloads[1]
    assert resumed.request_headers.get("Range") == f"bytes={kept}-"
    assert resumed.status == 206
    assert (
        resumed.response_headers["Content-Range"] == f"bytes {kept}-{size - 1}/{size}"
    )
    assert resumed.body_bytes == size - kept
    # conda checked the joined file against the index's sha256 and size.
    assert (conda.pkgs / package.name).read_bytes() == package.read_bytes()
    assert (
        tmp_path / "env" / "share" / "bigdata.bin"
    ).stat().st_size == 12 * 1024 * 1024
