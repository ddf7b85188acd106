"""``repodata.json`` assembled from pre-serialised records, with its ``.zst``."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterable
from itertools import islice
from typing import BinaryIO

import zstandard

from channels.layout import REPODATA, REPODATA_ZST, SHARD_INDEX

from .shards import ZSTD_LEVEL, encode_shard_index

# Bodies are copied in blocks of this size.
_BLOCK = 1 << 20


def _key(filename: str) -> bytes:
    """``"filename":`` as JSON; ``json.dumps`` only for names it would escape."""
    plain = filename.isascii() and filename.isprintable()
    if plain and '"' not in filename and "\\" not in filename:
        return b'"' + filename.encode() + b'":'
    return json.dumps(filename).encode() + b":"


def write_entries(out: BinaryIO, entries: Iterable[tuple[str, bytes]]) -> None:
    """Write ``"filename":{record},…`` (one group's body) for sorted entries."""
    separator = b""
    iterator = iter(entries)
    while batch := list(islice(iterator, 2000)):
        out.write(separator + b",".join(_entries(batch)))
        separator = b","


def _entries(batch: list[tuple[str, bytes]]) -> list[bytes]:
    names = "".join(filename for filename, _ in batch)
    if (
        names.isascii()
        and names.isprintable()
        and '"' not in names
        and "\\" not in names
    ):
        # The common case, without a call per record: no name needs escaping.
        return [b'"' + f.encode() + b'":' + record for f, record in batch]
    return [_key(filename) + record for filename, record in batch]


def _header(subdir: str) -> bytes:
    return b'{"info":{"subdir":' + json.dumps(subdir).encode() + b"},"


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
    out.write(_header(subdir) + b'"packages":{')
    write_entries(out, tar_bz2)
    out.write(b'},"packages.conda":{')
    write_entries(out, conda)
    out.write(b'},"repodata_version":1}')


def write_repodata_from_bodies(
    out: BinaryIO, subdir: str, tar_bz2_body: BinaryIO, conda_body: BinaryIO
) -> None:
    """``repodata.json`` from two group bodies made by ``write_entries``.

    Lets a caller read the records once, in filename order, and split them by
    format as they come, instead of reading the subdir once per format.
    """
    out.write(_header(subdir) + b'"packages":{')
    shutil.copyfileobj(tar_bz2_body, out, _BLOCK)
    out.write(b'},"packages.conda":{')
    shutil.copyfileobj(conda_body, out, _BLOCK)
    out.write(b'},"repodata_version":1}')


def zstd_writer(out: BinaryIO) -> zstandard.ZstdCompressionWriter:
    """A writer that compresses into ``out`` at the index's level."""
    # Worker threads compress while the caller produces the JSON; zstd's output
    # is the same for any number of workers from one up.
    compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL, threads=-1)
    return compressor.stream_writer(out, closefd=False)


class HashingWriter:
    """Pass writes through to ``out`` while computing their SHA-256."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.digest = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return self.out.write(data)

    def hexdigest(self) -> str:
        return self.digest.hexdigest()


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
        REPODATA: data,
        REPODATA_ZST: zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(data),
        SHARD_INDEX: encode_shard_index(subdir, {}),
    }
