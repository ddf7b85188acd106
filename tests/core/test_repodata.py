"""``repodata.json`` and its ``.zst`` (``write_repodata``, ``zstd_writer``, ``Tee``),
and the files of an empty subdir."""

from __future__ import annotations

import hashlib
import io
import json

import pytest
import zstandard

from channels.repodata import (
    build_record,
    empty_subdir_files,
    encode_record,
    encode_shard,
    write_repodata,
)
from channels.repodata.repodata import Tee, zstd_writer

from .decoding import unpack_zst, unzstd

EMPTY_NOARCH = (
    b'{"info":{"subdir":"noarch"},"packages":{},"packages.conda":{},'
    b'"repodata_version":1}'
)


def entry(filename: str, **fields: object) -> tuple[str, bytes, bytes]:
    """``(filename, record JSON, record msgpack)`` of a ``demo`` build."""
    version = filename.split("-")[1]
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
        size=10,
        indexed_timestamp=1_767_312_000_000,
    )
    encoded = encode_record(r)
    return filename, encoded.json, encoded.msgpack


TAR_BZ2 = [entry("demo-0.9-h0_0.tar.bz2"), entry("demo-1.0-h0_0.tar.bz2")]
CONDA = [
    entry("demo-1.0-h0_0.conda", depends=["zlib >=1.3"]),
    entry("demo-1.1-h0_0.conda", summary="café"),
]


def repodata(subdir: str = "linux-64", tar_bz2=TAR_BZ2, conda=CONDA) -> bytes:
    out = io.BytesIO()
    write_repodata(out, subdir, [e[:2] for e in tar_bz2], [e[:2] for e in conda])
    return out.getvalue()


# write_repodata


def test_repodata_of_no_packages_is_the_minimal_document():
    out = io.BytesIO()
    write_repodata(out, "noarch", [], [])
    assert out.getvalue() == EMPTY_NOARCH


def test_repodata_splits_tar_bz2_into_packages_and_conda_into_packages_conda():
    doc = json.loads(repodata())
    assert doc["info"] == {"subdir": "linux-64"}
    assert list(doc["packages"]) == ["demo-0.9-h0_0.tar.bz2", "demo-1.0-h0_0.tar.bz2"]
    assert list(doc["packages.conda"]) == ["demo-1.0-h0_0.conda", "demo-1.1-h0_0.conda"]
    assert doc["repodata_version"] == 1  # top level, not in info


def test_repodata_holds_the_encoded_records_unchanged():
    doc = json.loads(repodata())
    for filename, as_json, _ in TAR_BZ2:
        assert doc["packages"][filename] == json.loads(as_json)
    for filename, as_json, _ in CONDA:
        assert doc["packages.conda"][filename] == json.loads(as_json)
    assert doc["packages.conda"]["demo-1.0-h0_0.conda"]["depends"] == ["zlib >=1.3"]


def test_repodata_is_canonical_json_with_sorted_keys():
    data = repodata()
    canonical = json.dumps(
        json.loads(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert data == canonical.encode()
    assert list(json.loads(data)) == sorted(json.loads(data))


def test_repodata_has_hashes_as_lower_case_hex():
    for record in json.loads(repodata())["packages"].values():
        assert len(record["sha256"]) == 64
        assert len(record["md5"]) == 32
        assert record["sha256"] == record["sha256"].lower()
        int(record["sha256"], 16)
        int(record["md5"], 16)


def test_repodata_is_the_same_bytes_for_the_same_records():
    assert repodata() == repodata()


def test_repodata_records_match_the_shard_records():
    doc = json.loads(repodata())
    shard = unpack_zst(encode_shard([(e[0], e[2]) for e in TAR_BZ2 + CONDA]).data)
    for group in ("packages", "packages.conda"):
        for filename, record in shard[group].items():
            hexed = {
                **record,
                "md5": record["md5"].hex(),
                "sha256": record["sha256"].hex(),
            }
            assert doc[group][filename] == hexed


def test_repodata_escapes_subdir_and_filenames_as_json_strings():
    odd = [('we"ird\\-1.0-h0_0.conda', b"{}")]
    out = io.BytesIO()
    write_repodata(out, 'sub"dir', [], odd)
    doc = json.loads(out.getvalue())
    assert doc["info"]["subdir"] == 'sub"dir'
    assert doc["packages.conda"] == {'we"ird\\-1.0-h0_0.conda': {}}


def test_repodata_accepts_any_iterable_of_pairs():
    out = io.BytesIO()
    write_repodata(out, "noarch", iter([]), (e for e in []))
    assert out.getvalue() == EMPTY_NOARCH


# zstd_writer and Tee: the plain file and its .zst in one pass


def write_both() -> tuple[bytes, bytes]:
    plain, compressed = io.BytesIO(), io.BytesIO()
    with zstd_writer(compressed) as zst:
        tee = Tee(plain, zst)
        write_repodata(
            tee,
            "linux-64",
            [e[:2] for e in TAR_BZ2],  # type: ignore[arg-type]
            [e[:2] for e in CONDA],
        )
    return plain.getvalue(), compressed.getvalue()


def test_zst_is_zstd_over_the_exact_bytes_of_repodata_json():
    plain, compressed = write_both()
    assert plain == repodata()
    assert compressed.startswith(b"\x28\xb5\x2f\xfd")
    assert unzstd(compressed) == plain


def test_zst_decodes_with_any_streaming_reader():
    plain, compressed = write_both()
    reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(compressed))
    assert reader.read() == plain


def test_zstd_writer_leaves_the_output_open():
    out = io.BytesIO()
    with zstd_writer(out) as zst:
        zst.write(b"x")
    assert not out.closed
    assert unzstd(out.getvalue()) == b"x"


def test_the_same_records_give_the_same_zst_bytes():
    assert write_both() == write_both()


def test_tee_writes_the_same_bytes_to_every_output_and_reports_their_length():
    a, b, c = io.BytesIO(), io.BytesIO(), io.BytesIO()
    tee = Tee(a, b, c)
    assert tee.write(b"abc") == 3
    assert tee.write(b"") == 0
    assert a.getvalue() == b.getvalue() == c.getvalue() == b"abc"


# empty_subdir_files


@pytest.mark.parametrize("subdir", ["noarch", "linux-64", "win-arm64"])
def test_empty_subdir_files_are_the_three_index_files(subdir):
    files = empty_subdir_files(subdir)
    assert set(files) == {
        "repodata.json",
        "repodata.json.zst",
        "repodata_shards.msgpack.zst",
    }
    assert json.loads(files["repodata.json"]) == {
        "info": {"subdir": subdir},
        "packages": {},
        "packages.conda": {},
        "repodata_version": 1,
    }
    assert unzstd(files["repodata.json.zst"]) == files["repodata.json"]
    assert unpack_zst(files["repodata_shards.msgpack.zst"]) == {
        "info": {"base_url": "", "shards_base_url": "./shards/", "subdir": subdir},
        "shards": {},
        "version": 1,
    }


def test_empty_noarch_repodata_is_exactly_what_clients_need():
    assert empty_subdir_files("noarch")["repodata.json"] == EMPTY_NOARCH


def test_empty_subdir_files_are_deterministic():
    assert empty_subdir_files("noarch") == empty_subdir_files("noarch")
