"""Package records: ``build_record`` (validation, normalisation), ``encode_record``."""

from __future__ import annotations

import dataclasses
import json
import random
import re
from typing import Any

import msgpack
import pytest

from channels.repodata import PackageRecordError, build_record, encode_record

SHA256 = "5794b11aba2f9ad04a49f7d5012346891d4637c9b81fbc8940c83e7553fb487b"
MD5 = "545068570e5543e2be02a5ec6ba4a9b3"
INDEX: dict[str, Any] = {
    "name": "demo",
    "version": "1.0",
    "build": "h0_0",
    "build_number": 0,
    "subdir": "linux-64",
}


def record(index: dict[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
    """``build_record`` over INDEX with ``changes``; a value of ``...`` drops a key."""
    merged = {**(INDEX if index is None else index), **changes}
    merged = {k: v for k, v in merged.items() if v is not ...}
    return build_record(merged, sha256=SHA256, md5=MD5, size=42, indexed_timestamp=7)


# build_record: what the server adds


def test_build_record_keeps_the_archive_fields_and_adds_hashes_size_and_indexed_time():
    index = {**INDEX, "license": "MIT", "noarch": "generic"}
    assert record(index) == {
        **index,
        "depends": [],
        "sha256": SHA256,
        "md5": MD5,
        "size": 42,
        "indexed_timestamp": 7,
    }


def test_build_record_gives_an_empty_depends_list_when_the_archive_has_none():
    assert record()["depends"] == []


def test_build_record_keeps_depends_and_constrains_as_they_are():
    r = record(depends=["python >=3.10", "zlib"], constrains=["demo-lib <2"])
    assert r["depends"] == ["python >=3.10", "zlib"]
    assert r["constrains"] == ["demo-lib <2"]


def test_build_record_lowercases_the_hashes():
    r = build_record(
        INDEX, sha256=SHA256.upper(), md5=MD5.upper(), size=1, indexed_timestamp=1
    )
    assert (r["sha256"], r["md5"]) == (SHA256, MD5)


def test_build_record_ignores_hashes_and_size_the_archive_claims_for_itself():
    r = record(sha256="ab" * 32, md5="cd" * 16, size=1, indexed_timestamp=1)
    assert (r["sha256"], r["md5"], r["size"], r["indexed_timestamp"]) == (
        SHA256,
        MD5,
        42,
        7,
    )


def test_build_record_does_not_change_its_input():
    index = {**INDEX, "timestamp": 1_700_000_000, "depends": None}
    before = json.dumps(index)
    record(index)
    assert json.dumps(index) == before


# build_record: timestamp normalisation (rattler rejects a float, wants milliseconds)


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        (1_700_000_000, 1_700_000_000_000),  # seconds, as old packages carry
        (1_700_000_000_123, 1_700_000_000_123),  # already milliseconds
        (1_700_000_000.5, 1_700_000_000_500),  # float seconds
        (1_700_000_000_123.7, 1_700_000_000_123),  # float milliseconds
        (0, 0),
    ],
)
def test_build_record_makes_the_timestamp_integer_milliseconds(timestamp, expected):
    r = record(timestamp=timestamp)
    assert r["timestamp"] == expected
    assert type(r["timestamp"]) is int


@pytest.mark.parametrize(
    "timestamp",
    [True, "1700000000", [1], float("nan"), float("inf"), float("-inf"), -1, 1e300],
)
def test_build_record_rejects_a_timestamp_that_is_not_a_finite_number(timestamp):
    with pytest.raises(PackageRecordError, match="'timestamp' must be a number of"):
        record(timestamp=timestamp)


def test_build_record_drops_a_null_timestamp():
    assert "timestamp" not in record(timestamp=None)


def test_build_record_adds_no_timestamp_when_the_archive_has_none():
    assert "timestamp" not in record()


# build_record: validation


@pytest.mark.parametrize("key", ["name", "version", "build", "build_number"])
def test_build_record_rejects_a_missing_required_field(key):
    with pytest.raises(PackageRecordError, match=f"'{key}' must be a"):
        record(**{key: ...})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("name", 1),
        ("name", None),
        ("version", 1.0),
        ("version", ["1.0"]),
        ("build", 0),
        ("build_number", "0"),
        ("build_number", 1.0),
        ("build_number", None),
        ("build_number", True),  # bool is an int in Python, not in repodata
        ("build_number", False),
    ],
)
def test_build_record_rejects_a_required_field_of_the_wrong_type(key, value):
    with pytest.raises(PackageRecordError, match=f"info/index.json: '{key}' must be"):
        record(**{key: value})


@pytest.mark.parametrize("subdir", [..., None, 64, ["linux-64"]])
def test_build_record_rejects_a_missing_subdir(subdir):
    with pytest.raises(PackageRecordError, match="'subdir' is missing"):
        record(subdir=subdir)


@pytest.mark.parametrize("key", ["depends", "constrains", "track_features"])
@pytest.mark.parametrize(
    "value", [{"a": "b"}, [1], ["ok", None], [["nested"]], 5, True]
)
def test_build_record_rejects_a_dependency_list_that_is_not_strings(key, value):
    with pytest.raises(PackageRecordError, match=f"'{key}' must be a list of strings"):
        record(**{key: value})


@pytest.mark.parametrize("key", ["depends", "constrains"])
def test_build_record_rejects_a_string_where_a_list_is_required(key):
    with pytest.raises(PackageRecordError, match=f"'{key}' must be a list of strings"):
        record(**{key: "python"})


@pytest.mark.parametrize("value", ["feat1 feat2", ["feat1", "feat2"], []])
def test_build_record_accepts_track_features_as_a_string_or_a_list(value):
    assert record(track_features=value)["track_features"] == value


def test_build_record_turns_null_lists_into_absent_ones():
    # rattler fails the whole subdir on `"depends": null` (observed with index_fs
    # and with the Gateway reading a shard), so null must never reach the record.
    r = record(depends=None, constrains=None, track_features=None)
    assert r["depends"] == []
    assert "constrains" not in r
    assert "track_features" not in r


# build_record: only what clients read (issue 10: metadata amplification)

CLIENT_FIELDS: dict[str, Any] = {
    "arch": "x86_64",
    "platform": "linux",
    "license": "MIT",
    "license_family": "MIT",
    "features": "blas_mkl",
    "track_features": ["feat"],
    "noarch": "python",
    "python_site_packages_path": "lib/python3.13t/site-packages",
    "constrains": ["demo-lib <2"],
    "purls": ["pkg:pypi/demo@1.0"],
    "flags": ["gpu"],
    "extra_depends": {"test": ["pytest"]},
    "run_exports": {"weak": ["demo >=1.0"], "strong_constrains": ["x <2"]},
    "timestamp": 1_700_000_000_000,
}


def test_build_record_keeps_every_field_a_client_reads():
    r = record({**INDEX, **CLIENT_FIELDS})
    assert {k: r[k] for k in CLIENT_FIELDS} == CLIENT_FIELDS


@pytest.mark.parametrize(
    "key", ["fn", "url", "channel", "legacy_bz2_md5", "summary", "x" * 1000, "custom"]
)
def test_build_record_drops_keys_no_client_reads(key):
    assert key not in record(**{key: "anything"})


def test_build_record_keeps_only_the_known_kinds_of_run_exports():
    r = record(run_exports={"weak": ["a"], "extra": ["x" * 10_000]})
    assert r["run_exports"] == {"weak": ["a"]}


@pytest.mark.parametrize(
    ("key", "value", "rule"),
    [
        ("license", 5, "a string"),
        ("arch", ["x86_64"], "a string"),
        ("features", {"a": 1}, "a string"),
        ("purls", ["not a purl"], "a list of package URLs"),
        ("purls", "pkg:pypi/demo", "a list of strings"),
        ("flags", [1], "a list of strings"),
        ("noarch", "wheel", '"python" or "generic"'),
        ("noarch", 1, '"python" or "generic"'),
        ("extra_depends", ["pytest"], "an object of lists of strings"),
        ("extra_depends", {"test": "pytest"}, "an object of lists of strings"),
        ("run_exports", ["demo"], "an object of lists of strings"),
        ("run_exports", {"weak": "demo"}, "an object of lists of strings"),
    ],
)
def test_build_record_rejects_a_client_field_no_client_could_parse(key, value, rule):
    # rattler refuses a whole subdir over one ill-typed field of one record.
    with pytest.raises(PackageRecordError, match=f"'{key}' must be {re.escape(rule)}"):
        record(**{key: value})


@pytest.mark.parametrize("noarch", ["python", "generic", True, False])
def test_build_record_accepts_every_noarch_form_clients_read(noarch):
    assert record(noarch=noarch)["noarch"] == noarch


@pytest.mark.parametrize("build_number", [-1, 2**31, 2**70])
def test_build_record_rejects_a_build_number_out_of_range(build_number):
    with pytest.raises(PackageRecordError, match="from 0 to 2147483647"):
        record(build_number=build_number)


def test_build_record_accepts_the_largest_build_number():
    assert record(build_number=2**31 - 1)["build_number"] == 2**31 - 1


def test_encode_record_refuses_a_record_over_its_size_limit():
    r = record(depends=["x" * 100] * 10)
    size = len(encode_record(r).json)
    assert encode_record(r, max_size=size).json
    with pytest.raises(PackageRecordError, match=f"record of {size:,} bytes"):
        encode_record(r, max_size=size - 1)


def test_package_record_error_is_a_value_error():
    assert issubclass(PackageRecordError, ValueError)


# encode_record: JSON


def test_encoded_json_is_compact_with_keys_sorted_at_every_level():
    r = {**record(depends=["b", "a"]), "custom": {"z": 1, "a": {"y": 2, "b": 3}}}
    encoded = encode_record(r).json
    canonical = json.dumps(r, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert encoded == canonical.encode()
    assert list(json.loads(encoded)) == sorted(r)
    assert b'"custom":{"a":{"b":3,"y":2},"z":1}' in encoded
    assert b'"depends":["b","a"]' in encoded  # lists keep their order


def test_encoded_json_is_the_record_with_hex_hashes():
    r = record(timestamp=1_700_000_000)
    decoded = json.loads(encode_record(r).json)
    assert decoded == r
    assert (decoded["sha256"], decoded["md5"]) == (SHA256, MD5)


def test_encoded_json_is_utf8_without_escapes():
    encoded = encode_record(record(license="café ✓")).json
    assert "café ✓".encode() in encoded
    assert b"\\u" not in encoded


def test_encoding_does_not_depend_on_key_order():
    r = {**record(license="MIT", timestamp=1), "custom": {"b": 1, "a": 2}}
    items = list(r.items())
    random.Random(4).shuffle(items)
    shuffled = dict(items)
    shuffled["custom"] = {"a": 2, "b": 1}
    assert list(shuffled) != list(r)
    assert encode_record(shuffled) == encode_record(r)


def test_encoding_the_same_record_twice_gives_the_same_bytes():
    assert encode_record(record()) == encode_record(record())


# encode_record: msgpack


def test_encoded_msgpack_has_the_hashes_as_bin_of_16_and_32_bytes():
    packed = msgpack.unpackb(encode_record(record()).msgpack, raw=False)
    assert packed["sha256"] == bytes.fromhex(SHA256)
    assert packed["md5"] == bytes.fromhex(MD5)
    assert type(packed["sha256"]) is bytes
    assert len(packed["sha256"]) == 32
    assert type(packed["md5"]) is bytes
    assert len(packed["md5"]) == 16


def test_encoded_msgpack_is_the_json_record_apart_from_the_hashes():
    r = {**record(timestamp=5, license="MIT"), "custom": {"b": [1, 2.5, None, True]}}
    encoded = encode_record(r)
    packed = msgpack.unpackb(encoded.msgpack, raw=False)
    as_json = json.loads(encoded.json)
    packed["sha256"] = packed["sha256"].hex()
    packed["md5"] = packed["md5"].hex()
    assert packed == as_json


def test_encoded_msgpack_has_keys_sorted_at_every_level():
    r = {**record(), "custom": {"z": 1, "a": {"y": 2, "b": 3}}}
    pairs = msgpack.unpackb(encode_record(r).msgpack, raw=False, object_pairs_hook=list)
    assert [k for k, _ in pairs] == sorted(r)
    custom = dict(pairs)["custom"]
    assert custom == [("a", [("b", 3), ("y", 2)]), ("z", 1)]


def test_encoded_msgpack_uses_str_for_strings_and_int_for_integers():
    packed = msgpack.unpackb(encode_record(record(timestamp=1)).msgpack, raw=False)
    for key in ("name", "version", "build", "subdir"):
        assert type(packed[key]) is str
    for key in ("build_number", "size", "timestamp", "indexed_timestamp"):
        assert type(packed[key]) is int


def test_encode_record_leaves_a_record_without_hashes_alone():
    packed = msgpack.unpackb(encode_record({"name": "x"}).msgpack, raw=False)
    assert packed == {"name": "x"}


@pytest.mark.parametrize(
    ("key", "value"), [("sha256", "ab" * 31), ("md5", "ab" * 17), ("md5", "")]
)
def test_encode_record_rejects_a_hash_of_the_wrong_length(key, value):
    with pytest.raises(PackageRecordError, match=f"'{key}' must be"):
        encode_record({**record(), key: value})


def test_encode_record_rejects_a_hash_that_is_not_hex():
    with pytest.raises(PackageRecordError, match="cannot be encoded"):
        encode_record({**record(), "sha256": "zz" * 32})


@pytest.mark.parametrize(
    "value",
    [
        float("nan"),  # json.dumps would write NaN: not JSON, every client fails
        float("inf"),
        {"deep": [float("-inf")]},
        "\ud800",  # a lone surrogate: json.loads lets it through, UTF-8 cannot
        2**64,  # beyond msgpack's integers
        -(2**63) - 1,
    ],
)
def test_encode_record_rejects_values_no_client_could_read(value):
    with pytest.raises(PackageRecordError, match="cannot be encoded"):
        encode_record({**record(), "custom": value})


def test_encode_record_accepts_the_largest_msgpack_integers():
    r = {**record(), "custom": [2**64 - 1, -(2**63)]}
    assert msgpack.unpackb(encode_record(r).msgpack)["custom"] == [2**64 - 1, -(2**63)]


def test_encoded_record_is_immutable():
    encoded = encode_record(record())
    with pytest.raises(dataclasses.FrozenInstanceError):
        encoded.json = b"{}"  # type: ignore[misc]


@pytest.mark.parametrize("where", ["depends", "license"])
def test_encode_record_refuses_a_nul_character_anywhere(where):
    value = ["a\x00b"] if where == "depends" else "a\x00b"
    with pytest.raises(PackageRecordError, match="holds a NUL character"):
        encode_record(record(**{where: value}))


def test_encode_record_accepts_a_backslash_before_u0000_text():
    # The escaped text "\\u0000" is six characters, not a NUL.
    assert encode_record(record(license="\\u0000")).json
