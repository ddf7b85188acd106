"""Package records: built once from an archive's ``info/index.json``, encoded once."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgpack

# Hashes are hex strings in JSON and raw bytes (msgpack bin) in shards (CEP-16).
_BINARY_HASHES = {"md5": 16, "sha256": 32}
_REQUIRED = {"name": str, "version": str, "build": str, "build_number": int}
# build_number is a PositiveIntegerField: PostgreSQL's integer, 32 bits signed.
MAX_BUILD_NUMBER = 2**31 - 1
# The last millisecond of year 9999: beyond it rattler's date type overflows.
_MAX_TIMESTAMP_MS = 253_402_300_799_999
DEFAULT_MAX_RECORD_SIZE = 64 * 1024

# The keys of info/index.json that a record keeps: the fields of rattler's
# PackageRecord and conda's PackageRecord that come from the archive (hashes, size
# and indexed_timestamp are the server's). Anything else (e.g. "fn", "url",
# "channel", "legacy_bz2_md5", tool-specific keys) is dropped, because no client
# reads it and it would be copied into every index download. Each value is
# checked too, as rattler refuses a whole subdir over one ill-typed field.
_STRINGS = ("license", "license_family", "platform", "arch", "features",
            "python_site_packages_path")  # fmt: skip
_STRING_LISTS = ("depends", "constrains", "purls", "flags")
_RUN_EXPORTS = ("weak", "strong", "noarch", "weak_constrains", "strong_constrains")
ALLOWED_KEYS = frozenset(
    {*_REQUIRED, "subdir", "timestamp", "noarch", "track_features",
     "extra_depends", "run_exports", *_STRINGS, *_STRING_LISTS}
)  # fmt: skip
# Package URLs (rattler parses each one): "pkg:" type "/" rest, no spaces.
_PURL_RE = re.compile(r"^pkg:[A-Za-z][A-Za-z0-9.+-]*/[^\s]+$")


class PackageRecordError(ValueError):
    """The archive's metadata cannot make a valid repodata record."""


@dataclass(frozen=True)
class EncodedRecord:
    """A record serialised for both outputs: a JSON object and a msgpack map."""

    json: bytes
    msgpack: bytes


def _error(key: str, rule: str) -> PackageRecordError:
    return PackageRecordError(f"info/index.json: '{key}' must be {rule}")


def _is_strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _check_required(index: Mapping[str, Any]) -> None:
    for key, kind in _REQUIRED.items():
        value = index.get(key)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise _error(key, f"a {kind.__name__}")
    if not 0 <= index["build_number"] <= MAX_BUILD_NUMBER:
        raise _error("build_number", f"a whole number from 0 to {MAX_BUILD_NUMBER}")
    if not isinstance(index.get("subdir"), str):
        raise PackageRecordError("info/index.json: 'subdir' is missing")


def _checked(key: str, value: Any) -> Any:
    """``value`` as the record keeps it; PackageRecordError if no client reads it."""
    if key in _STRINGS and not isinstance(value, str):
        raise _error(key, "a string")
    if key in _STRING_LISTS or key == "track_features":
        if not (
            _is_strings(value) or (key == "track_features" and isinstance(value, str))
        ):
            raise _error(key, "a list of strings")
        if key == "purls" and not all(_PURL_RE.match(v) for v in value):
            raise _error(key, "a list of package URLs (pkg:type/name...)")
    if key == "noarch" and not (
        isinstance(value, bool) or value in ("python", "generic")
    ):
        raise _error(key, '"python" or "generic"')
    if key == "extra_depends" and not (
        isinstance(value, dict) and all(map(_is_strings, value.values()))
    ):
        raise _error(key, "an object of lists of strings")
    if key == "run_exports":
        if not isinstance(value, dict) or not all(
            _is_strings(value.get(kind, [])) for kind in _RUN_EXPORTS
        ):
            raise _error(
                key, f"an object of lists of strings ({', '.join(_RUN_EXPORTS)})"
            )
        return {kind: value[kind] for kind in _RUN_EXPORTS if kind in value}
    if key == "timestamp":
        return _milliseconds(value)
    return value


def _milliseconds(timestamp: Any) -> int:
    if (
        not isinstance(timestamp, float | int)
        or isinstance(timestamp, bool)
        or not math.isfinite(timestamp)
        or timestamp < 0
    ):
        raise _error("timestamp", "a number of milliseconds since 1970")
    # Old packages carry seconds; repodata carries milliseconds.
    value = int(timestamp * 1000 if timestamp < 1e11 else timestamp)
    if value > _MAX_TIMESTAMP_MS:
        raise _error("timestamp", "a number of milliseconds before the year 10000")
    return value


def build_record(
    index: Mapping[str, Any],
    *,
    sha256: str,
    md5: str,
    size: int,
    indexed_timestamp: int,
) -> dict[str, Any]:
    """The repodata record for an archive, from its ``info/index.json`` and hashes.

    Keeps the fields clients read (ALLOWED_KEYS), checked; a null counts as absent.
    The server adds the hashes, the size and ``indexed_timestamp`` (CEP-47,
    milliseconds), and normalises ``timestamp`` to integer milliseconds, because
    rattler rejects a float.

    >>> r = build_record({"name": "a", "version": "1", "build": "0",
    ...     "build_number": 0, "subdir": "noarch", "fn": "x"}, sha256="00" * 32,
    ...     md5="11" * 16, size=3, indexed_timestamp=5)
    >>> r["depends"], r["size"], r["indexed_timestamp"], "fn" in r
    ([], 3, 5, False)
    """
    _check_required(index)
    # null is "not given": rattler rejects a null list and with it the whole subdir.
    record = {
        key: _checked(key, value)
        for key, value in index.items()
        if key in ALLOWED_KEYS and value is not None
    }
    record.setdefault("depends", [])
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


def encode_record(
    record: Mapping[str, Any], *, max_size: int | None = None
) -> EncodedRecord:
    """Canonical bytes of a record: compact sorted JSON, and msgpack with bin hashes.

    With ``max_size``, a record whose JSON is longer is refused: every index
    download carries it.
    """
    try:
        encoded = _encode(record)
    except PackageRecordError:
        raise
    except (ValueError, OverflowError, TypeError) as exc:
        # NaN/Infinity (not JSON), lone surrogates (not UTF-8), ints beyond 64 bits
        # (not msgpack) or non-hex hashes: one such record would break every client.
        raise PackageRecordError(f"record cannot be encoded: {exc}") from None
    if _has_nul(record):
        # Valid JSON, but PostgreSQL's jsonb refuses it, and no spec holds one.
        raise PackageRecordError("info/index.json holds a NUL character")
    if max_size is not None and len(encoded.json) > max_size:
        raise PackageRecordError(
            f"info/index.json makes a repodata record of {len(encoded.json):,} "
            f"bytes; this server's limit is {max_size:,}"
        )
    return encoded


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(map(_has_nul, value))
    if isinstance(value, Mapping):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    return False


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
