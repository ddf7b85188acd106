"""Reading a channel over HTTP as a conda client would: index, shards, repodata."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import msgpack

from tests.core.decoding import unzstd
from tests.live.service import wait_for

__all__ = ["fetch", "repodata", "shard", "shard_index", "unzstd", "wait_until_indexed"]


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def shard_index(base: str, subdir: str, headers: dict[str, str] | None = None) -> Any:
    status, data = fetch(f"{base}/{subdir}/repodata_shards.msgpack.zst", headers)
    assert status == 200, data
    return msgpack.unpackb(unzstd(data))


def repodata(base: str, subdir: str, headers: dict[str, str] | None = None) -> Any:
    status, data = fetch(f"{base}/{subdir}/repodata.json", headers)
    assert status == 200, data
    return json.loads(data)


def wait_until_indexed(
    base: str, subdir: str, filename: str, headers: dict[str, str] | None = None
) -> None:
    """Wait for ``filename`` in both the shard index path and repodata.json."""
    name = filename.rsplit("-", 2)[0]

    def in_shards() -> bool:
        index = shard_index(base, subdir, headers)
        sha = index["shards"].get(name)
        if sha is None:
            return False
        _, shard = fetch(f"{base}/{subdir}/shards/{sha.hex()}.msgpack.zst", headers)
        shard_map = msgpack.unpackb(unzstd(shard))
        return filename in {**shard_map["packages"], **shard_map["packages.conda"]}

    def in_repodata() -> bool:
        data = repodata(base, subdir, headers)
        return filename in {**data["packages"], **data["packages.conda"]}

    wait_for(in_shards, timeout=15)
    wait_for(in_repodata, timeout=20)


def shard(
    base: str, subdir: str, sha: bytes, headers: dict[str, str] | None = None
) -> Any:
    status, data = fetch(f"{base}/{subdir}/shards/{sha.hex()}.msgpack.zst", headers)
    assert status == 200, (status, data[:200])
    return msgpack.unpackb(unzstd(data))
