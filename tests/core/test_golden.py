"""Golden files: three fixed records must always give exactly the committed bytes.

``data/golden/`` holds ``repodata.json``, ``repodata_shards.msgpack.zst`` and
``shards/<sha256>.msgpack.zst`` as the core wrote them for ``RECORDS``. A change here
changes what every client downloads, so it has to be deliberate. To accept one,
write ``golden_outputs()`` over the files and review the diff of ``repodata.json``.

The compressed files also depend on the zstd library: upgrading ``zstandard`` can
change them (and so every shard name) while the decoded content stays the same,
which ``test_golden_content_is_unchanged_once_decompressed`` tells apart.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from channels.repodata import (
    build_record,
    encode_record,
    encode_shard,
    encode_shard_index,
    write_repodata,
)

from .decoding import unpack_zst, unzstd

GOLDEN = Path(__file__).parent / "data" / "golden"
SUBDIR = "linux-64"
RECORDS = {
    "demo-app-1.0-h0_0.tar.bz2": {
        "name": "demo-app", "version": "1.0", "build": "h0_0", "build_number": 0,
        "subdir": SUBDIR, "arch": "x86_64", "platform": "linux",
        "depends": ["demo-lib >=2", "python >=3.10"], "license": "MIT",
        "timestamp": 1_767_225_600,  # seconds: written as milliseconds
    },
    "demo-app-1.1-h0_0.conda": {
        "name": "demo-app", "version": "1.1", "build": "h0_0", "build_number": 1,
        "subdir": SUBDIR, "arch": "x86_64", "platform": "linux",
        "depends": ["demo-lib >=2"], "constrains": ["python <4"],
        "track_features": "demo_feature", "summary": "café ✓",
        "timestamp": 1_767_225_600_123.0,  # float milliseconds: written as int
    },
    "demo-lib-2.0-h1_0.conda": {
        "subdir": SUBDIR, "version": "2.0", "name": "demo-lib", "build": "h1_0",
        "build_number": 0, "license_family": "BSD",
        "run_exports": {"weak": ["demo-lib >=2"], "strong": []},  # nested, unsorted
    },
}  # fmt: skip


def golden_outputs() -> dict[str, bytes]:
    """What the core writes for RECORDS, keyed by path under ``data/golden/``."""
    tar_bz2, conda, by_name = [], [], {}
    for filename in sorted(RECORDS):
        index = RECORDS[filename]
        record = build_record(
            index,
            sha256=hashlib.sha256(filename.encode()).hexdigest(),
            md5=hashlib.md5(filename.encode()).hexdigest(),  # noqa: S324
            size=1000 + len(filename),
            indexed_timestamp=1_767_312_000_000,
        )
        encoded = encode_record(record)
        group = conda if filename.endswith(".conda") else tar_bz2
        group.append((filename, encoded.json))
        by_name.setdefault(index["name"], []).append((filename, encoded.msgpack))
    out = io.BytesIO()
    write_repodata(out, SUBDIR, tar_bz2, conda)
    shards = {name: encode_shard(entries) for name, entries in by_name.items()}
    index = encode_shard_index(SUBDIR, {n: s.sha256 for n, s in shards.items()})
    return {
        "repodata.json": out.getvalue(),
        "repodata_shards.msgpack.zst": index,
        **{f"shards/{shard.filename}": shard.data for shard in shards.values()},
    }


def committed() -> dict[str, bytes]:
    return {
        path.relative_to(GOLDEN).as_posix(): path.read_bytes()
        for path in sorted(GOLDEN.rglob("*"))
        if path.is_file()
    }


def test_golden_repodata_json_is_unchanged():
    assert golden_outputs()["repodata.json"] == committed()["repodata.json"]


def test_golden_shard_index_and_shards_are_unchanged():
    assert golden_outputs() == committed()


def test_golden_content_is_unchanged_once_decompressed():
    ours, golden = golden_outputs(), committed()
    our_index = unpack_zst(ours["repodata_shards.msgpack.zst"])
    golden_index = unpack_zst(golden["repodata_shards.msgpack.zst"])
    assert our_index.keys() == golden_index.keys()
    assert our_index["info"] == golden_index["info"]
    assert (
        sorted(our_index["shards"])
        == sorted(golden_index["shards"])
        == [
            "demo-app",
            "demo-lib",
        ]
    )
    for name, sha256 in golden_index["shards"].items():
        golden_shard = golden[f"shards/{sha256.hex()}.msgpack.zst"]
        our_shard = ours[f"shards/{our_index['shards'][name].hex()}.msgpack.zst"]
        assert unzstd(our_shard) == unzstd(golden_shard), name


def test_golden_files_are_named_by_their_content():
    golden = committed()
    for path, data in golden.items():
        if path.startswith("shards/"):
            assert path == f"shards/{hashlib.sha256(data).hexdigest()}.msgpack.zst"
