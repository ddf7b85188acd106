"""One contract for every storage backend: local folders and S3 (moto's server).

Whatever ``STORAGE_BACKEND`` says, the index pipeline, deletions and serve modes
rely on exactly these behaviours.
"""

from __future__ import annotations

import threading
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from channels import layout
from prefixhub.storage import (
    AtomicFileSystemStorage,
    PrefixS3Storage,
    delete_prefix,
    write_bytes,
)
from publishing.receive import ReceivedFile, SpooledFile
from tests.s3 import MotoS3


@pytest.fixture(params=["local", "s3"])
def backend(request: Any, tmp_path: Path) -> str:
    return str(request.param)


@pytest.fixture
def store(backend: str, request: Any, tmp_path: Path) -> Any:
    if backend == "local":
        return AtomicFileSystemStorage(location=str(tmp_path / "index"))
    s3: MotoS3 = request.getfixturevalue("s3_server")
    return PrefixS3Storage(**s3.storage_options(s3.new_bucket(), "index"))


def read(store: Any, name: str) -> bytes:
    with store.open(name, "rb") as handle:
        return bytes(handle.read())


def test_written_bytes_read_back_with_their_size(store: Any) -> None:
    name = layout.shard_key(3, "noarch", "a" * 64)
    write_bytes(store, name, b"shard bytes")

    assert store.exists(name)
    assert read(store, name) == b"shard bytes"
    assert store.size(name) == len(b"shard bytes")


def test_a_missing_object_does_not_exist(store: Any) -> None:
    assert not store.exists(layout.index_key(3, "noarch", layout.REPODATA))


def test_a_write_replaces_the_object_under_the_same_name(store: Any) -> None:
    name = layout.index_key(3, "noarch", layout.SHARD_INDEX)
    write_bytes(store, name, b"first version")
    write_bytes(store, name, b"second")

    assert read(store, name) == b"second"
    assert store.size(name) == len(b"second")


def test_readers_see_the_old_index_or_the_new_one_never_a_mix(store: Any) -> None:
    name = layout.index_key(3, "noarch", layout.REPODATA)
    old, new = b"o" * 300_000, b"n" * 200_000
    write_bytes(store, name, old)
    seen: list[bytes] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            seen.append(read(store, name))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for i in range(10):
            write_bytes(store, name, new if i % 2 == 0 else old)
    finally:
        stop.set()
        thread.join()
    assert seen
    assert all(data in (old, new) for data in seen)


def test_delete_removes_one_object(store: Any) -> None:
    name = layout.package_key(3, "noarch", "b" * 64, "demo-1.0-0.conda")
    write_bytes(store, name, b"package")

    store.delete(name)

    assert not store.exists(name)


def test_delete_prefix_removes_one_channel_and_spares_similar_names(
    store: Any,
) -> None:
    doomed = [
        layout.package_key(5, "noarch", "c" * 64, "demo-1.0-0.conda"),
        layout.shard_key(5, "linux-64", "d" * 64),
        layout.index_key(5, "noarch", layout.REPODATA_ZST),
    ]
    kept = [
        layout.index_key(50, "noarch", layout.REPODATA),
        layout.index_key(51, "noarch", layout.REPODATA),
    ]
    for name in doomed + kept:
        write_bytes(store, name, b"x")

    delete_prefix(store, layout.channel_prefix(5))

    assert [store.exists(name) for name in doomed] == [False] * len(doomed)
    assert [store.exists(name) for name in kept] == [True] * len(kept)


def test_deleting_an_absent_prefix_is_harmless(store: Any) -> None:
    delete_prefix(store, layout.channel_prefix(404))


def test_the_local_backend_has_no_signed_urls(tmp_path: Path) -> None:
    local = AtomicFileSystemStorage(location=str(tmp_path))
    with pytest.raises(ImproperlyConfigured, match="STORAGE_BACKEND=s3"):
        local.presigned_url("1/noarch/repodata.json")


def test_the_local_accel_path_is_the_quoted_key(tmp_path: Path) -> None:
    local = AtomicFileSystemStorage(location=str(tmp_path))
    assert local.accel_path("1/noarch/a b+c.conda") == "1/noarch/a%20b%2Bc.conda"


def test_a_signed_s3_url_serves_the_bytes_without_credentials(
    s3_server: MotoS3,
) -> None:
    store = PrefixS3Storage(**s3_server.storage_options(s3_server.new_bucket(), "p"))
    name = layout.package_key(3, "noarch", "e" * 64, "demo-1.0-0.conda")
    write_bytes(store, name, b"signed")

    url = store.presigned_url(name)
    with urllib.request.urlopen(url) as response:
        assert response.read() == b"signed"
    assert "X-Amz-Expires=60" in url
    # accel: nginx appends the path and signed query to the endpoint.
    with urllib.request.urlopen(f"{s3_server.url}/{store.accel_path(name)}") as resp:
        assert resp.read() == b"signed"


def test_s3_objects_live_in_the_bucket_under_the_storage_location(
    s3_server: MotoS3,
) -> None:
    bucket = s3_server.new_bucket()
    store = PrefixS3Storage(**s3_server.storage_options(bucket, "index"))
    write_bytes(store, layout.index_key(9, "noarch", layout.REPODATA), b"{}")

    assert s3_server.keys(bucket) == ["index/9/noarch/repodata.json"]


def _spooled(tmp_path: Path, data: bytes) -> ReceivedFile:
    spool = tmp_path / "spool-upload"
    spool.write_bytes(data)
    return ReceivedFile("a-1-0.conda", str(spool), "0" * 64, "0" * 32, len(data))


def test_a_spooled_upload_is_stored_and_outlives_its_spool(
    store: Any, tmp_path: Path
) -> None:
    received = _spooled(tmp_path, b"package bytes")
    name = layout.package_key(3, "noarch", "b" * 64, received.filename)
    with open(received.path, "rb") as handle:
        store.save(name, SpooledFile(received, handle))
    received.close()  # removes the spooled file

    assert not Path(received.path).exists()
    assert read(store, name) == b"package bytes"


def test_the_local_backend_links_a_spooled_upload_instead_of_copying(
    tmp_path: Path,
) -> None:
    store = AtomicFileSystemStorage(location=str(tmp_path / "packages"))
    received = _spooled(tmp_path, b"package bytes")
    with open(received.path, "rb") as handle:
        store.save("p/a-1-0.conda", SpooledFile(received, handle))

    stored = Path(store.path("p/a-1-0.conda"))
    assert stored.stat().st_ino == Path(received.path).stat().st_ino
    assert stored.stat().st_mode & 0o777 == 0o600  # FILE_UPLOAD_PERMISSIONS
    assert not list(stored.parent.glob(".tmp-*"))


def test_the_local_backend_copies_a_spooled_upload_it_cannot_link(
    tmp_path: Path,
) -> None:
    store = AtomicFileSystemStorage(location=str(tmp_path / "packages"))
    received = _spooled(tmp_path, b"package bytes")
    with open(received.path, "rb") as handle:
        Path(received.path).unlink()  # as across file systems: no link possible
        store.save("p/a-1-0.conda", SpooledFile(received, handle))

    stored = Path(store.path("p/a-1-0.conda"))
    assert stored.read_bytes() == b"package bytes"
    assert not list(stored.parent.glob(".tmp-*"))
