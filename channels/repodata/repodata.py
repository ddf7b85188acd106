"""``repodata.json`` assembled from pre-serialised records, with its ``.zst``."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import BinaryIO

import zstandard

from .shards import ZSTD_LEVEL, encode_shard_index

# Entries are joined into blocks of about this many bytes before they are written:
# two writes per record (to the file and the zstd stream) cost more than the join.
_BLOCK = 1 << 20


def _key(filename: str) -> bytes:
    """``"filename":`` as JSON; ``json.dumps`` only for names it would escape."""
    plain = filename.isascii() and filename.isprintable()
    if plain and '"' not in filename and "\\" not in filename:
        return b'"' + filename.encode() + b'":'
    return json.dumps(filename).encode() + b":"


def _write_group(out: BinaryIO, key: str, entries: Iterable[tuple[str, bytes]]) -> None:
    out.write(b'"' + key.encode() + b'":{')
    block: list[bytes] = []
    pending = 0
    separator = b""
    for filename, record_json in entries:
        entry = _key(filename) + record_json
        block.append(entry)
        pending += len(entry)
        if pending >= _BLOCK:
            out.write(separator + b",".join(block))
            separator, block, pending = b",", [], 0
    if block:
        out.write(separator + b",".join(block))
    out.write(b"}")


def write_repodata(
    out: BinaryIO,
    subdir: str,
    tar_bz2: Iterable[tuple[str, bytes]],
    conda: Iterable[tuple[str, bytes]],
) -> None:
    """Write ``repodata.json`` to ``out`` from ``(filename, record JSON)`` pairs.

    Each group must come sorted by filename; the bytes are a join of the stored
    fragments with keys in sorted order, so the output is deterministic.
    """
    out.write(b'{"info":{"subdir":' + json.dumps(subdir).encode() + b"},")
    _write_group(out, "packages", tar_bz2)
    out.write(b",")
    _write_group(out, "packages.conda", conda)
    out.write(b',"repodata_version":1}')


def zstd_writer(out: BinaryIO) -> zstandard.ZstdCompressionWriter:
    """A writer that compresses into ``out`` at the index's level."""
    return zstandard.ZstdCompressor(level=ZSTD_LEVEL).stream_writer(out, closefd=False)


class Tee:
    """Write the same bytes to two streams (plain JSON and its zstd stream)."""

    def __init__(self, *outs: BinaryIO) -> None:
        self.outs = outs

    def write(self, data: bytes) -> int:
        for out in self.outs:
            out.write(data)
        return len(data)


def empty_subdir_files(subdir: str) -> dict[str, bytes]:
    """The index files of a subdir with no packages, which clients need to exist."""
    import io

    plain = io.BytesIO()
    write_repodata(plain, subdir, [], [])
    data = plain.getvalue()
    return {
        "repodata.json": data,
        "repodata.json.zst": zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(data),
        "repodata_shards.msgpack.zst": encode_shard_index(subdir, {}),
    }
