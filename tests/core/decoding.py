"""Read index outputs back the way clients do, for assertions."""

from __future__ import annotations

from typing import Any

import msgpack
import zstandard


def unzstd(data: bytes) -> bytes:
    """Decompress as a stream: rattler's frames carry no content size, so a one-shot
    ``ZstdDecompressor().decompress()`` would fail on them (conda-protocol.md 5.3)."""
    return zstandard.ZstdDecompressor().decompressobj().decompress(data)


def unpack_zst(data: bytes) -> Any:
    """A ``.msgpack.zst`` file as Python objects (msgpack bin -> bytes, str -> str)."""
    return msgpack.unpackb(unzstd(data), raw=False)


def unpack_pairs(data: bytes) -> Any:
    """Like ``unpack_zst`` but maps become lists of pairs, to see the key order."""
    return msgpack.unpackb(unzstd(data), raw=False, object_pairs_hook=list)
