"""Tier 2: py-rattler-build uploads and py-rattler installs against a live server."""

from __future__ import annotations

import json
import shutil
import threading
import uuid
from pathlib import Path
from typing import Any

import msgpack
import pytest

from tests.artifacts import build_package
from tests.live.clients import run_client
from tests.live.reader import fetch, repodata, shard_index, unzstd, wait_until_indexed
from tests.live.service import LiveService, wait_for

pytestmark = pytest.mark.live


class World:
    """A user, a key and channels on the live server, made with the CLI."""

    def __init__(self, live: LiveService, tmp: Path) -> None:
        self.live = live
        self.user = f"u{uuid.uuid4().hex[:8]}"
        live.manage("createuser", self.user, "--email", f"{self.user}@example.org")
        self.key = live.manage("createapikey", self.user, "--name", "ci")
        self.tmp = tmp

    def channel(self, *, private: bool = False) -> str:
        name = f"c{uuid.uuid4().hex[:8]}"
        args = ["createchannel", name, "--owner", self.user]
        self.live.manage(*args, *(["--private"] if private else []))
        return name

    def packages(self, tag: str) -> tuple[Path, Path]:
        """A noarch .conda and a linux-64 .tar.bz2 that depends on it."""
        out = self.tmp / f"pkgs-{tag}"
        lib = build_package(out, f"lib{tag}", "1.0", content=f"lib {tag}")
        app = build_package(
            out, f"app{tag}", "2.0", platform="linux-64", depends=[f"lib{tag}"],
            tar_bz2=True, content=f"app {tag}",
        )  # fmt: skip
        return lib, app

    def upload(self, channel: str, files: list[Path], **options: Any) -> Any:
        options.setdefault("api_key", self.key)
        return run_client(
            "upload",
            files=[str(f) for f in files],
            url=self.live.url,
            channel=channel,
            **options,
        )


@pytest.fixture
def world(live: LiveService, tmp_path: Path) -> World:
    return World(live, tmp_path)


def test_upload_then_install_from_a_public_channel(
    world: World, tmp_path: Path
) -> None:
    channel = world.channel()
    lib, app = world.packages("pub")

    assert world.upload(channel, [lib, app]) == {"ok": True}
    base = f"{world.live.url}/{channel}"
    wait_until_indexed(base, "linux-64", app.name)
    wait_until_indexed(base, "noarch", lib.name)

    result = run_client(
        "install", channel_url=base, specs=["apppub"], workdir=str(tmp_path / "c"),
        platforms=["linux-64", "noarch"],
    )  # fmt: skip
    assert result["ok"], result
    assert result["solved"] == sorted([lib.name, app.name])
    assert "share/libpub.txt" in result["files"]
    assert "share/apppub.txt" in result["files"]


def test_monolithic_repodata_path_installs_too(world: World, tmp_path: Path) -> None:
    channel = world.channel()
    lib, app = world.packages("mono")
    assert world.upload(channel, [lib, app]) == {"ok": True}
    base = f"{world.live.url}/{channel}"
    wait_until_indexed(base, "linux-64", app.name)
    wait_until_indexed(base, "noarch", lib.name)

    result = run_client(
        "install", channel_url=base, specs=["appmono"], workdir=str(tmp_path / "c"),
        platforms=["linux-64", "noarch"], sharded=False,
    )  # fmt: skip
    assert result["ok"], result
    assert result["solved"] == sorted([lib.name, app.name])


def test_private_channel_installs_with_bearer_auth_file(
    world: World, tmp_path: Path
) -> None:
    channel = world.channel(private=True)
    lib, app = world.packages("priv")
    assert world.upload(channel, [lib, app]) == {"ok": True}
    base = f"{world.live.url}/{channel}"
    auth = {"Authorization": f"Bearer {world.key}"}
    wait_until_indexed(base, "linux-64", app.name, auth)
    wait_until_indexed(base, "noarch", lib.name, auth)
    auth_file = tmp_path / "credentials.json"
    auth_file.write_text(json.dumps({"127.0.0.1": {"BearerToken": world.key}}))

    result = run_client(
        "install", env={"RATTLER_AUTH_FILE": str(auth_file)}, channel_url=base,
        specs=["apppriv"], workdir=str(tmp_path / "c"), platforms=["linux-64", "noarch"],
    )  # fmt: skip

    assert result["ok"], result
    assert result["solved"] == sorted([lib.name, app.name])


def test_private_channel_installs_through_a_path_token(
    world: World, tmp_path: Path
) -> None:
    channel = world.channel(private=True)
    lib, app = world.packages("tok")
    assert world.upload(channel, [lib, app]) == {"ok": True}
    token_base = f"{world.live.url}/t/{world.key}/{channel}"
    wait_until_indexed(token_base, "linux-64", app.name)
    wait_until_indexed(token_base, "noarch", lib.name)

    result = run_client(
        "install", channel_url=token_base, specs=["apptok"],
        workdir=str(tmp_path / "c"), platforms=["linux-64", "noarch"],
    )  # fmt: skip

    assert result["ok"], result
    assert result["solved"] == sorted([lib.name, app.name])


def test_private_channel_without_credentials_answers_401_and_reveals_nothing(
    world: World, tmp_path: Path
) -> None:
    channel = world.channel(private=True)
    lib, app = world.packages("hid")
    assert world.upload(channel, [lib, app]) == {"ok": True}
    base = f"{world.live.url}/{channel}"
    wait_until_indexed(
        base, "noarch", lib.name, {"Authorization": f"Bearer {world.key}"}
    )

    paths = [
        "noarch/repodata_shards.msgpack.zst", "noarch/repodata.json",
        "noarch/repodata.json.zst", f"noarch/{lib.name}", f"linux-64/{app.name}",
    ]  # fmt: skip
    for path in paths:
        status, data = fetch(f"{base}/{path}")
        assert status == 401, path
        assert b"libhid" not in data and b"apphid" not in data

    result = run_client(
        "install", channel_url=base, specs=["apphid"], workdir=str(tmp_path / "c"),
        platforms=["linux-64", "noarch"],
    )  # fmt: skip
    assert not result["ok"]
    assert "401" in result["error"]


def test_reupload_conflicts_skip_existing_skips_and_force_replaces(
    world: World, tmp_path: Path
) -> None:
    channel = world.channel()
    lib, _ = world.packages("dup")
    assert world.upload(channel, [lib]) == {"ok": True}

    again = world.upload(channel, [lib])
    assert not again["ok"]
    assert "409" in again["error"] or "already exists" in again["error"]
    assert world.upload(channel, [lib], skip_existing=True) == {"ok": True}

    replacement = build_package(tmp_path / "other", "libdup", "1.0", content="changed")
    assert replacement.name == lib.name
    assert world.upload(channel, [replacement], force=True) == {"ok": True}
    base = f"{world.live.url}/{channel}"
    new_sha = __import__("hashlib").sha256(replacement.read_bytes()).hexdigest()

    def shows_new_hash() -> bool:
        record = repodata(base, "noarch")["packages.conda"].get(lib.name, {})
        return record.get("sha256") == new_sha

    wait_for(shows_new_hash, timeout=20)


def test_two_simultaneous_uploads_both_reach_the_index(world: World) -> None:
    channel = world.channel()
    first = build_package(world.tmp / "sim", "simone", "1.0")
    second = build_package(world.tmp / "sim", "simtwo", "1.0")
    results: list[Any] = []
    threads = [
        threading.Thread(target=lambda f=f: results.append(world.upload(channel, [f])))
        for f in (first, second)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == [{"ok": True}, {"ok": True}]
    base = f"{world.live.url}/{channel}"
    wait_until_indexed(base, "noarch", first.name)
    wait_until_indexed(base, "noarch", second.name)


# Fields rattler-index and prefixhub legitimately write differently:
# - indexed_timestamp: when we first indexed the file (CEP-47); rattler omits it.
# - arch, platform: legacy fields rattler derives again; ours come from index.json.
IGNORED_FIELDS = {"indexed_timestamp", "arch", "platform"}


def _records(repodata_doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    merged = {
        **repodata_doc.get("packages", {}),
        **repodata_doc.get("packages.conda", {}),
    }
    return {
        name: {k: v for k, v in record.items() if k not in IGNORED_FIELDS}
        for name, record in merged.items()
    }


def _shard_records(shard: dict[str, Any]) -> dict[str, dict[str, Any]]:
    assert set(shard) >= {"packages", "packages.conda", "removed"}
    merged = {**shard["packages"], **shard["packages.conda"]}
    for record in merged.values():
        assert isinstance(record["sha256"], bytes) and len(record["sha256"]) == 32
        assert isinstance(record["md5"], bytes) and len(record["md5"]) == 16
    return {
        name: {k: v for k, v in record.items() if k not in IGNORED_FIELDS}
        for name, record in merged.items()
    }


def test_served_index_matches_rattler_index_for_the_same_files(
    world: World, tmp_path: Path
) -> None:
    channel = world.channel()
    lib, app = world.packages("ref")
    lib2 = build_package(tmp_path / "more", "libref", "1.1", content="newer")
    files = [lib, app, lib2]
    assert world.upload(channel, files) == {"ok": True}
    base = f"{world.live.url}/{channel}"
    for path, subdir in ((lib, "noarch"), (app, "linux-64"), (lib2, "noarch")):
        wait_until_indexed(base, subdir, path.name)

    reference = tmp_path / "reference"
    for path, subdir in ((lib, "noarch"), (app, "linux-64"), (lib2, "noarch")):
        (reference / subdir).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, reference / subdir / path.name)
    assert run_client("reference_index", folder=str(reference)) == {"ok": True}

    for subdir in ("noarch", "linux-64"):
        theirs = json.loads((reference / subdir / "repodata.json").read_bytes())
        ours = repodata(base, subdir)
        assert _records(ours) == _records(theirs), subdir
        their_index = msgpack.unpackb(
            unzstd((reference / subdir / "repodata_shards.msgpack.zst").read_bytes())
        )
        our_index = shard_index(base, subdir)
        assert set(our_index["shards"]) == set(their_index["shards"])
        for name, their_sha in their_index["shards"].items():
            shard_dir = reference / subdir / their_index["info"]["shards_base_url"]
            their_shard = msgpack.unpackb(
                unzstd((shard_dir / f"{their_sha.hex()}.msgpack.zst").read_bytes())
            )
            status, data = fetch(
                f"{base}/{subdir}/shards/{our_index['shards'][name].hex()}.msgpack.zst"
            )
            assert status == 200
            our_shard = msgpack.unpackb(unzstd(data))
            assert _shard_records(our_shard) == _shard_records(their_shard), name
