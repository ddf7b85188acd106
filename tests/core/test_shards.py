"""CEP-16 shards (``encode_shard``) and the shard index (``encode_shard_index``)."""

from __future__ import annotations

import dataclasses
import hashlib

import msgpack
import pytest

from channels.repodata import Shard, build_record, encode_record, encode_shard
from channels.repodata import encode_shard_index as index_of

from .decoding import unpack_pairs, unpack_zst, unzstd


def packed(version: str, ext: str, **fields: object) -> tuple[str, bytes]:
    """A ``(filename, msgpack record)`` pair of ``demo``, as the caller stores them."""
    filename = f"demo-{version}-h0_0{ext}"
    index = {
        "name": "demo",
        "version": version,
        "build": "h0_0",
        "build_number": 0,
        "subdir": "linux-64",
        **fields,
    }
    digest = hashlib.sha256(filename.encode()).hexdigest()
    r = build_record(
        index,
        sha256=digest,
        md5=digest[:32],
        size=len(filename),
        indexed_timestamp=1_767_312_000_000,
    )
    return filename, encode_record(r).msgpack


ENTRIES = [
    packed("1.0", ".tar.bz2"),
    packed("1.1", ".conda", depends=["zlib"]),
    packed("1.0", ".conda"),
    packed("0.9", ".tar.bz2"),
]


# encode_shard


def test_shard_is_named_by_the_sha256_of_its_compressed_bytes():
    shard = encode_shard(ENTRIES)
    assert shard.sha256 == hashlib.sha256(shard.data).hexdigest()
    assert shard.filename == f"{shard.sha256}.msgpack.zst"


def test_shard_has_packages_packages_conda_and_removed_in_sorted_order():
    pairs = unpack_pairs(encode_shard(ENTRIES).data)
    assert [key for key, _ in pairs] == ["packages", "packages.conda", "removed"]
    assert dict(pairs)["removed"] == []


def test_empty_shard_still_has_every_key():
    # rattler: "missing field `packages`" otherwise
    assert unpack_zst(encode_shard([]).data) == {
        "packages": {},
        "packages.conda": {},
        "removed": [],
    }


def test_shard_splits_tar_bz2_into_packages_and_conda_into_packages_conda():
    shard = unpack_zst(encode_shard(ENTRIES).data)
    assert list(shard["packages"]) == ["demo-0.9-h0_0.tar.bz2", "demo-1.0-h0_0.tar.bz2"]
    assert list(shard["packages.conda"]) == [
        "demo-1.0-h0_0.conda",
        "demo-1.1-h0_0.conda",
    ]


def test_shard_holds_the_encoded_records_unchanged():
    shard = unpack_zst(encode_shard(ENTRIES).data)
    for filename, record in ENTRIES:
        group = "packages.conda" if filename.endswith(".conda") else "packages"
        assert shard[group][filename] == msgpack.unpackb(record)


def test_shard_records_have_hashes_as_msgpack_bin():
    shard = unpack_zst(encode_shard(ENTRIES).data)
    for group in ("packages", "packages.conda"):
        for record in shard[group].values():
            assert type(record["sha256"]) is bytes
            assert len(record["sha256"]) == 32
            assert type(record["md5"]) is bytes
            assert len(record["md5"]) == 16


def test_shard_bytes_do_not_depend_on_the_order_of_the_entries():
    assert encode_shard(ENTRIES) == encode_shard(reversed(ENTRIES))
    assert encode_shard(ENTRIES) == encode_shard(iter(sorted(ENTRIES)))


def test_shards_with_different_content_have_different_names():
    assert encode_shard(ENTRIES).sha256 != encode_shard(ENTRIES[1:]).sha256


def test_shard_is_a_zstd_frame_that_decodes_as_a_stream():
    shard = encode_shard(ENTRIES)
    assert shard.data.startswith(b"\x28\xb5\x2f\xfd")  # zstd magic number
    assert msgpack.unpackb(unzstd(shard.data))["removed"] == []


def test_shard_is_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        encode_shard([]).sha256 = "0" * 64  # type: ignore[misc]


def test_shard_filename_comes_from_its_sha256():
    assert Shard(sha256="ab" * 32, data=b"").filename == "ab" * 32 + ".msgpack.zst"


# encode_shard_index

HASHES = {
    "demo": hashlib.sha256(b"demo").hexdigest(),
    "demo-lib": hashlib.sha256(b"demo-lib").hexdigest(),
    "_libgcc_mutex": hashlib.sha256(b"_libgcc_mutex").hexdigest(),
}


def test_shard_index_info_has_base_url_shards_base_url_and_subdir():
    index = unpack_zst(index_of("linux-64", HASHES))
    assert index["info"] == {
        "base_url": "",
        "shards_base_url": "./shards/",
        "subdir": "linux-64",
    }


def test_shard_index_maps_each_name_to_its_shard_hash_as_32_bytes_of_bin():
    shards = unpack_zst(index_of("linux-64", HASHES))["shards"]
    assert shards == {name: bytes.fromhex(h) for name, h in HASHES.items()}
    for value in shards.values():
        assert type(value) is bytes  # conda calls bytes(v).hex(): a hex str breaks it
        assert len(value) == 32


def test_shard_index_has_version_1_and_no_draft_keys():
    index = unpack_zst(index_of("noarch", HASHES))
    assert set(index) == {"info", "shards", "version"}
    assert index["version"] == 1


def test_shard_index_keys_and_names_are_sorted():
    pairs = unpack_pairs(index_of("linux-64", HASHES))
    assert [key for key, _ in pairs] == ["info", "shards", "version"]
    info, shards = dict(pairs)["info"], dict(pairs)["shards"]
    assert [key for key, _ in info] == ["base_url", "shards_base_url", "subdir"]
    assert [name for name, _ in shards] == sorted(HASHES)


def test_shard_index_bytes_do_not_depend_on_the_order_of_the_names():
    reordered = dict(reversed(list(HASHES.items())))
    assert index_of("linux-64", reordered) == index_of("linux-64", HASHES)


def test_shard_index_reads_upper_case_hex():
    upper = {name: h.upper() for name, h in HASHES.items()}
    assert index_of("linux-64", upper) == index_of("linux-64", HASHES)


def test_shard_index_of_an_empty_subdir_has_no_shards():
    index = unpack_zst(index_of("noarch", {}))
    assert index["shards"] == {}
    assert index["info"]["subdir"] == "noarch"


def test_shard_index_has_created_at_as_a_string_only_when_given():
    assert "created_at" not in unpack_zst(index_of("noarch", {}))["info"]
    info = unpack_zst(index_of("noarch", {}, created_at="2026-01-01T00:00:00Z"))["info"]
    assert info["created_at"] == "2026-01-01T00:00:00Z"
    assert list(info) == ["base_url", "created_at", "shards_base_url", "subdir"]


def test_shard_index_points_at_the_shard_files_by_name():
    shard = encode_shard(ENTRIES)
    index = unpack_zst(index_of("linux-64", {"demo": shard.sha256}))
    info = index["info"]
    path = info["shards_base_url"] + index["shards"]["demo"].hex() + ".msgpack.zst"
    assert path == f"./shards/{shard.filename}"
