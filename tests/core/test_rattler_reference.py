"""Our index against rattler's reference indexer (py-rattler ``index_fs``), same files.

Real packages from py-rattler-build are laid out as ``<channel>/<subdir>/<file>``;
``index_fs`` indexes them in place, and the core indexes the same files the way
``channels.services`` does. Decoded structures are compared, not bytes (rattler's
shard names hash rattler's zstd output). Every difference allowed is listed below
with the reason it is legitimate; anything else fails.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import shutil
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
from rattler.index import index_fs

from channels.repodata import (
    build_record,
    empty_subdir_files,
    encode_record,
    encode_shard,
    encode_shard_index,
    write_repodata,
)
from channels.repodata.repodata import Tee, zstd_writer
from packages.artifact import EXTENSIONS, Hasher, check_matches_filename, read_artifact
from tests.artifacts import build_package

from .decoding import unpack_zst, unzstd

# A record field both indexers write, whose value legitimately differs:
IGNORED_RECORD_FIELDS = {
    # CEP-47: when this indexer first saw the file. rattler uses the wall clock at
    # indexing time; prefixhub stores the first upload time and passes it in.
    "indexed_timestamp",
}
# `arch` and `platform` are NOT ignored: both indexers copy them from
# info/index.json, so they must agree (and they do).

# Top-level repodata.json keys only rattler writes:
RATTLER_ONLY_REPODATA_KEYS = {
    "v3",  # CEP-48 draft, written empty; conda-protocol.md 4.1 says SHOULD NOT emit
}
# Shard index info keys only rattler writes:
RATTLER_ONLY_SHARD_INDEX_INFO_KEYS = {
    # Optional; a wall-clock time would break byte-for-byte determinism, so the
    # core writes it only when the caller passes one.
    "created_at",
}
# Shard index top-level keys only we write:
OUR_ONLY_SHARD_INDEX_KEYS = {
    "version",  # optional in CEP-16 (int 1); rattler ignores it, index_fs omits it
}

INDEXED_AT = 1_767_312_000_000
BUILT_AT = datetime(2026, 1, 1, 12, 30, tzinfo=UTC)
SUBDIRS = ["noarch", "linux-64", "osx-arm64"]  # osx-arm64: an empty subdir
# Shard URLs are resolved against the subdir URL, whatever the layout (CEP-16).
SUBDIR_URL = "https://prefixhub.invalid/channel/subdir/"

Read = Callable[[str], bytes]


@pytest.fixture(scope="module")
def channel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A channel folder with real packages, indexed by rattler."""
    build = tmp_path_factory.mktemp("build")
    root = tmp_path_factory.mktemp("channel")
    packages = {
        "noarch": [
            build_package(build, "demo-lib", "1.0"),
            # the same name in the other format, with a timestamp: one shard, both keys
            build_package(build, "demo-lib", "1.1", tar_bz2=True, timestamp=BUILT_AT),
        ],
        "linux-64": [
            build_package(
                build,
                "demo-app",
                "2.0",
                platform="linux-64",
                build="h1_0",
                tar_bz2=True,
                depends=["demo-lib >=1.0"],
            ),
            build_package(
                build,
                "demo-app",
                "2.1",
                platform="linux-64",
                build="h1_0",
                depends=["demo-lib >=1.1", "libc"],
                constrains=["demo-lib <2"],
                license="MIT",
                license_family="MIT",
                build_number=3,
                timestamp=BUILT_AT,
            ),
            build_package(build, "_private-tool", "0.1", platform="linux-64"),
        ],
        "osx-arm64": [],
    }
    for subdir, paths in packages.items():
        (root / subdir).mkdir()
        for path in paths:
            shutil.copy(path, root / subdir / path.name)
    # A thread of its own: Playwright's sync API (browser tier) keeps an event loop
    # running in the main thread for the whole session.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(
            asyncio.run, index_fs(root, write_zst=True, write_shards=True)
        ).result()
    return root


def our_index(folder: Path) -> dict[str, bytes]:
    """Our index files for the packages in ``folder``, keyed by path in the subdir."""
    subdir = folder.name
    tar_bz2: list[tuple[str, bytes]] = []
    conda: list[tuple[str, bytes]] = []
    by_name: dict[str, list[tuple[str, bytes]]] = defaultdict(list)
    for path in sorted(p for p in folder.iterdir() if p.name.endswith(EXTENSIONS)):
        hasher = Hasher()
        hasher.update(path.read_bytes())
        info = read_artifact(path, path.name)
        check_matches_filename(info, path.name)
        record = build_record(
            info.index,
            sha256=hasher.sha256,
            md5=hasher.md5,
            size=hasher.size,
            indexed_timestamp=INDEXED_AT,
        )
        encoded = encode_record(record)
        group = conda if path.name.endswith(".conda") else tar_bz2
        group.append((path.name, encoded.json))
        by_name[record["name"]].append((path.name, encoded.msgpack))
    plain, compressed = io.BytesIO(), io.BytesIO()
    with zstd_writer(compressed) as zst:
        write_repodata(Tee(plain, zst), subdir, tar_bz2, conda)  # type: ignore[arg-type]
    shards = {name: encode_shard(entries) for name, entries in by_name.items()}
    files = {
        "repodata.json": plain.getvalue(),
        "repodata.json.zst": compressed.getvalue(),
        "repodata_shards.msgpack.zst": encode_shard_index(
            subdir, {name: shard.sha256 for name, shard in shards.items()}
        ),
    }
    files.update({f"shards/{s.filename}": s.data for s in shards.values()})
    return files


@pytest.fixture(scope="module")
def both(channel: Path) -> dict[str, tuple[Read, Read]]:
    """Per subdir: (read a file of ours, read a file of rattler's), by relative path."""
    return {
        subdir: (
            our_index(channel / subdir).__getitem__,
            _file_reader(channel / subdir),
        )
        for subdir in SUBDIRS
    }


def _file_reader(folder: Path) -> Read:
    return lambda relative: (folder / relative).read_bytes()


def shard_path(info: dict[str, Any], sha256: bytes) -> str:
    """The path of a shard relative to the subdir, from the index's info (both the
    prefixhub/rattler layout ``./shards/`` and the conda-index layout ``""``)."""
    url = urljoin(
        urljoin(SUBDIR_URL, info["shards_base_url"]), f"{sha256.hex()}.msgpack.zst"
    )
    assert url.startswith(SUBDIR_URL), url
    return url[len(SUBDIR_URL) :]


def without(record: dict[str, Any], keys: set[str]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in keys}


def shards_of(read: Read) -> dict[str, dict[str, Any]]:
    """Every shard of a subdir by package name, found through its shard index."""
    index = unpack_zst(read("repodata_shards.msgpack.zst"))
    return {
        name: unpack_zst(read(shard_path(index["info"], sha256)))
        for name, sha256 in index["shards"].items()
    }


# the channel


def test_rattler_indexed_every_subdir(channel):
    for subdir in SUBDIRS:
        assert (channel / subdir / "repodata.json").is_file()
        assert (channel / subdir / "repodata_shards.msgpack.zst").is_file()


# repodata.json


@pytest.mark.parametrize("subdir", SUBDIRS)
def test_repodata_json_has_rattlers_top_level_keys(both, subdir):
    ours_read, theirs_read = both[subdir]
    ours, theirs = (
        json.loads(ours_read("repodata.json")),
        json.loads(theirs_read("repodata.json")),
    )
    assert set(ours) == set(theirs) - RATTLER_ONLY_REPODATA_KEYS
    assert ours["info"] == theirs["info"] == {"subdir": subdir}
    assert ours["repodata_version"] == theirs["repodata_version"] == 1
    # if rattler ever puts packages under v3, that is a difference to look at
    assert all(not v for v in theirs.get("v3", {}).values())


@pytest.mark.parametrize("subdir", SUBDIRS)
@pytest.mark.parametrize("group", ["packages", "packages.conda"])
def test_repodata_json_has_rattlers_records(both, subdir, group):
    ours_read, theirs_read = both[subdir]
    ours = json.loads(ours_read("repodata.json"))[group]
    theirs = json.loads(theirs_read("repodata.json"))[group]
    assert sorted(ours) == sorted(theirs)
    for filename, record in theirs.items():
        assert set(ours[filename]) == set(record), filename  # the same fields
        assert without(ours[filename], IGNORED_RECORD_FIELDS) == without(
            record, IGNORED_RECORD_FIELDS
        )
        for field in IGNORED_RECORD_FIELDS & set(record):
            assert type(ours[filename][field]) is type(record[field])


def test_the_records_compared_cover_the_interesting_fields(both):
    # Guards the comparison above against comparing records that lack the fields
    # that matter (e.g. if py-rattler-build stopped writing some of them).
    ours = json.loads(both["linux-64"][0]("repodata.json"))["packages.conda"]
    fields = set(ours["demo-app-2.1-h1_0.conda"])
    assert fields >= {
        "name",
        "version",
        "build",
        "build_number",
        "depends",
        "constrains",
        "license",
        "license_family",
        "subdir",
        "md5",
        "sha256",
        "size",
        "timestamp",
        "indexed_timestamp",
        "arch",
        "platform",
    }
    noarch = json.loads(both["noarch"][0]("repodata.json"))["packages.conda"]
    assert noarch["demo-lib-1.0-h0_0.conda"]["noarch"] == "generic"


def test_timestamps_are_integer_milliseconds_like_rattlers(both):
    ours_read, theirs_read = both["noarch"]
    name = "demo-lib-1.1-h0_0.tar.bz2"
    ours = json.loads(ours_read("repodata.json"))["packages"][name]
    theirs = json.loads(theirs_read("repodata.json"))["packages"][name]
    assert ours["timestamp"] == theirs["timestamp"] == int(BUILT_AT.timestamp() * 1000)


@pytest.mark.parametrize("subdir", SUBDIRS)
def test_repodata_json_zst_decodes_to_repodata_json(both, subdir):
    for read in both[subdir]:
        assert unzstd(read("repodata.json.zst")) == read("repodata.json")


# the shard index


@pytest.mark.parametrize("subdir", SUBDIRS)
def test_shard_index_has_rattlers_keys_and_info(both, subdir):
    ours_read, theirs_read = both[subdir]
    ours = unpack_zst(ours_read("repodata_shards.msgpack.zst"))
    theirs = unpack_zst(theirs_read("repodata_shards.msgpack.zst"))
    assert set(ours) - OUR_ONLY_SHARD_INDEX_KEYS == set(theirs)
    assert set(ours["info"]) == set(theirs["info"]) - RATTLER_ONLY_SHARD_INDEX_INFO_KEYS
    assert ours["info"]["subdir"] == theirs["info"]["subdir"] == subdir
    for key in ("base_url", "shards_base_url"):  # MUST be present, as str
        assert type(ours["info"][key]) is type(theirs["info"][key]) is str
    # Both resolve packages to the subdir itself, shards to wherever they put them.
    assert urljoin(SUBDIR_URL, ours["info"]["base_url"]) == SUBDIR_URL
    assert urljoin(SUBDIR_URL, theirs["info"]["base_url"]) == SUBDIR_URL
    assert type(theirs["info"].get("created_at", "")) is str  # not a msgpack timestamp


@pytest.mark.parametrize("subdir", SUBDIRS)
def test_shard_index_names_the_same_packages_as_rattlers(both, subdir):
    ours_read, theirs_read = both[subdir]
    ours = unpack_zst(ours_read("repodata_shards.msgpack.zst"))["shards"]
    theirs = unpack_zst(theirs_read("repodata_shards.msgpack.zst"))["shards"]
    assert sorted(ours) == sorted(theirs)
    for value in [*ours.values(), *theirs.values()]:
        assert type(value) is bytes
        assert len(value) == 32


@pytest.mark.parametrize("subdir", SUBDIRS)
def test_every_shard_is_stored_under_the_sha256_of_its_bytes(both, subdir):
    for read in both[subdir]:
        index = unpack_zst(read("repodata_shards.msgpack.zst"))
        for sha256 in index["shards"].values():
            data = read(shard_path(index["info"], sha256))
            assert hashlib.sha256(data).digest() == sha256


# shards


@pytest.mark.parametrize("subdir", SUBDIRS)
def test_shards_have_rattlers_records(both, subdir):
    ours_read, theirs_read = both[subdir]
    ours, theirs = shards_of(ours_read), shards_of(theirs_read)
    assert sorted(ours) == sorted(theirs)
    for name, their_shard in theirs.items():
        our_shard = ours[name]
        assert (
            set(our_shard)
            == set(their_shard)
            == {"packages", "packages.conda", "removed"}
        )
        assert our_shard["removed"] == their_shard["removed"] == []
        for group in ("packages", "packages.conda"):
            assert sorted(our_shard[group]) == sorted(their_shard[group])
            for filename, record in their_shard[group].items():
                mine = our_shard[group][filename]
                assert set(mine) == set(record), filename
                assert without(mine, IGNORED_RECORD_FIELDS) == without(
                    record, IGNORED_RECORD_FIELDS
                )
                for field in record:  # the same msgpack types, field by field
                    assert type(mine[field]) is type(record[field]), field


@pytest.mark.parametrize("subdir", ["noarch", "linux-64"])
def test_shard_hashes_are_msgpack_bin_like_rattlers(both, subdir):
    for read in both[subdir]:
        for shard in shards_of(read).values():
            for group in ("packages", "packages.conda"):
                for record in shard[group].values():
                    assert type(record["sha256"]) is bytes
                    assert len(record["sha256"]) == 32
                    assert type(record["md5"]) is bytes
                    assert len(record["md5"]) == 16
                    for key in ("name", "version", "build", "subdir"):
                        assert type(record[key]) is str


def test_noarch_shard_holds_both_formats(both):
    shard = shards_of(both["noarch"][0])["demo-lib"]
    assert list(shard["packages"]) == ["demo-lib-1.1-h0_0.tar.bz2"]
    assert list(shard["packages.conda"]) == ["demo-lib-1.0-h0_0.conda"]


# empty subdirs


@pytest.mark.parametrize("subdir", ["osx-arm64"])
def test_empty_subdir_files_match_rattlers_empty_subdir(channel, subdir):
    ours = empty_subdir_files(subdir)
    theirs = _file_reader(channel / subdir)
    assert ours["repodata.json"] == our_index(channel / subdir)["repodata.json"]
    repodata = json.loads(theirs("repodata.json"))
    for key in RATTLER_ONLY_REPODATA_KEYS:
        repodata.pop(key, None)
    assert json.loads(ours["repodata.json"]) == repodata
    index = unpack_zst(theirs("repodata_shards.msgpack.zst"))
    for key in RATTLER_ONLY_SHARD_INDEX_INFO_KEYS:
        index["info"].pop(key, None)
    mine = unpack_zst(ours["repodata_shards.msgpack.zst"])
    assert without(mine, OUR_ONLY_SHARD_INDEX_KEYS) == index


@pytest.mark.parametrize(
    ("shards_base_url", "expected"),
    [
        ("./shards/", "shards/{}.msgpack.zst"),  # prefixhub and rattler
        ("shards/", "shards/{}.msgpack.zst"),
        ("", "{}.msgpack.zst"),  # conda-index: shards next to the index
        (SUBDIR_URL + "s/", "s/{}.msgpack.zst"),  # absolute
    ],
)
def test_shard_paths_resolve_in_every_layout(shards_base_url, expected):
    sha256 = bytes(range(32))
    info = {"shards_base_url": shards_base_url}
    assert shard_path(info, sha256) == expected.format(sha256.hex())
