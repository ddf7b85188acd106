"""Package records: built once from an archive's ``info/index.json``, encoded once."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgpack

# Hashes are hex strings in JSON and raw bytes (msgpack bin) in shards (CEP-16).
_BINARY_HASHES = {"md5": 16, "sha256": 32}
_REQUIRED = {"name": str, "version": str, "build": str, "build_number": int}


class PackageRecordError(ValueError):
    """The archive's metadata cannot make a valid repodata record."""


@dataclass(frozen=True)
class EncodedRecord:
    """A record serialised for both outputs: a JSON object and a msgpack map."""

    json: bytes
    msgpack: bytes


def _check_required(index: Mapping[str, Any]) -> None:
    for key, kind in _REQUIRED.items():
        value = index.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise PackageRecordError(
                f"info/index.json: '{key}' must be a {kind.__name__}"
            )
    if not isinstance(index.get("subdir"), str):
        raise PackageRecordError("info/index.json: 'subdir' is missing")
    for key in ("depends", "constrains", "track_features"):
        value = index.get(key)
        if key == "track_features" and isinstance(value, str):
            continue
        if value is not None and not (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            raise PackageRecordError(
                f"info/index.json: '{key}' must be a list of strings"
            )


def build_record(
    index: Mapping[str, Any],
    *,
    sha256: str,
    md5: str,
    size: int,
    indexed_timestamp: int,
) -> dict[str, Any]:
    """The repodata record for an archive, from its ``info/index.json`` and hashes.

    Fields of the archive are kept as they are; the server adds the hashes, the size
    and ``indexed_timestamp`` (CEP-47, milliseconds), and normalises ``timestamp``
    to integer milliseconds, because rattler rejects a float.

    >>> r = build_record({"name": "a", "version": "1", "build": "0",
    ...     "build_number": 0, "subdir": "noarch"}, sha256="00" * 32, md5="11" * 16,
    ...     size=3, indexed_timestamp=5)
    >>> r["depends"], r["size"], r["indexed_timestamp"]
    ([], 3, 5)
    """
    _check_required(index)
    record = dict(index)
    # null is accepted above as "not given", but rattler rejects a null list and
    # with it the whole subdir, so it must not reach the record.
    for key in ("constrains", "track_features"):
        if key in record and record[key] is None:
            del record[key]
    if record.get("depends") is None:
        record["depends"] = []
    timestamp = record.get("timestamp")
    if (
        isinstance(timestamp, float | int)
        and not isinstance(timestamp, bool)
        and math.isfinite(timestamp)
    ):
        # Old packages carry seconds; repodata carries milliseconds.
        record["timestamp"] = int(timestamp * 1000 if timestamp < 1e11 else timestamp)
    elif "timestamp" in record:
        del record["timestamp"]
    record["sha256"] = sha256.lower()
    record["md5"] = md5.lower()
    record["size"] = size
    record["indexed_timestamp"] = indexed_timestamp
    return record


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def encode_record(record: Mapping[str, Any]) -> EncodedRecord:
    """Canonical bytes of a record: compact sorted JSON, and msgpack with bin hashes."""
    try:
        return _encode(record)
    except PackageRecordError:
        raise
    except (ValueError, OverflowError, TypeError) as exc:
        # NaN/Infinity (not JSON), lone surrogates (not UTF-8), ints beyond 64 bits
        # (not msgpack) or non-hex hashes: one such record would break every client.
        raise PackageRecordError(f"record cannot be encoded: {exc}") from None


def _encode(record: Mapping[str, Any]) -> EncodedRecord:
    ordered = _sorted(dict(record))
    as_json = json.dumps(
        ordered, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()
    packed = dict(ordered)
    for key, length in _BINARY_HASHES.items():
        value = packed.get(key)
        if isinstance(value, str):
            raw = bytes.fromhex(value)
            if len(raw) != length:
                raise PackageRecordError(f"'{key}' must be {length} bytes")
            packed[key] = raw
    return EncodedRecord(json=as_json, msgpack=msgpack.packb(packed, use_bin_type=True))
