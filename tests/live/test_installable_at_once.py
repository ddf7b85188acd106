"""Tier 2: what an upload returns is installable at once, by py-rattler and by conda.

A CI job uploads and then installs in the next step. Here py-rattler-build uploads,
and the moment its call returns (no sleep, no polling) py-rattler installs the new
version through the shard index, then conda through repodata.json; 20 times in a row
on a channel of a few hundred files. It runs on whatever deployment the session
uses: the embedded default, or PostgreSQL with Redis and a Celery worker.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.artifacts import build_package
from tests.live.clients import run_client
from tests.live.conda_cli import Conda
from tests.live.reader import repodata
from tests.live.service import LiveService, wait_for
from tests.live.test_index_under_load import _BULK_INSERT

pytestmark = pytest.mark.live

ROUNDS = 20
EXISTING = 300


def test_each_upload_installs_at_once_with_py_rattler_and_conda(
    conda_env: Path, live: LiveService, tmp_path: Path
) -> None:
    user = f"q{uuid.uuid4().hex[:8]}"
    channel = f"quick{uuid.uuid4().hex[:6]}"
    live.manage("createuser", user)
    live.manage("createchannel", channel, "--owner", user)
    key = live.manage("createapikey", user)
    # A few hundred files already in the channel (records only: never installed).
    live.shell(_BULK_INSERT.format(channel=channel, count=EXISTING))
    base = f"{live.url}/{channel}"
    wait_for(lambda: len(repodata(base, "noarch")["packages.conda"]) == EXISTING,
             timeout=60, interval=0.2)  # fmt: skip
    conda = Conda(conda_env, tmp_path / "conda")
    rattler_cache = tmp_path / "rattler-cache"

    for round_ in range(ROUNDS):
        version = f"1.{round_}"
        package = build_package(tmp_path / "pkgs", "quickpkg", version, content=version)
        spec = f"quickpkg =={version}"
        installed = run_client(
            "upload_then_install", files=[str(package)], url=live.url,
            channel=channel, api_key=key, channel_url=base, specs=[spec],
            workdir=str(tmp_path / f"rattler-{round_}"), platforms=["linux-64", "noarch"],
            cache_dir=str(rattler_cache),
        )  # fmt: skip
        assert installed.get("ok"), (round_, installed)
        assert installed["solved"] == [package.name], round_

        prefix = tmp_path / f"conda-{round_}"
        done = conda.create(prefix, base, spec)
        assert done.ok, (round_, done.output[-3000:])
        record = json.loads(
            (prefix / "conda-meta" / f"quickpkg-{version}-h0_0.json").read_text()
        )
        assert record["version"] == version
        assert (prefix / "share" / "quickpkg.txt").read_text() == version

    assert len(repodata(base, "noarch")["packages.conda"]) == EXISTING + ROUNDS
