"""Uploads any signed-in user could send to hurt the site (issue 10, items 1-5).

Decompression bombs, metadata that would bloat every index download, file names
that break clients, values that used to give a 500 and symlinks out of the
package: each is refused with a clear reason and leaves nothing behind.
"""

from __future__ import annotations

import json
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from packages.models import PackageFile
from tests.artifacts import (
    bz2_bomb,
    handmade_archive,
    handmade_package,
    zstd_bomb,
)
from tests.conftest import upload
from tests.publishing.test_upload_errors import (
    assert_nothing_stored,
    detail,
    file_part,
    multipart,
    post_multipart,
)
from tests.resources import peak_memory, reset_peak_memory

MiB = 1024**2
BOMBS = {".conda": zstd_bomb, ".tar.bz2": bz2_bomb}


@pytest.fixture(autouse=True)
def spool_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Uploads spool into this folder, so a test can see what they leave behind."""
    folder = tmp_path / "spool"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _index(name: str = "evil", **changes: Any) -> dict[str, Any]:
    index = {"name": name, "version": "1.0", "build": "0", "build_number": 0,
             "subdir": "noarch", "depends": []}  # fmt: skip
    return {**index, **changes}


# --- 1. decompression bombs -----------------------------------------------------------


@pytest.mark.parametrize("ext", [".conda", ".tar.bz2"])
def test_a_10_gib_bomb_is_refused_in_about_the_time_it_takes_to_read(
    client: Any, channel: Any, alice_key: str, tmp_path: Path, spool_dir: Path, ext: str
) -> None:
    bomb = BOMBS[ext](tmp_path, f"bomb-1.0-0{ext}")
    before = reset_peak_memory()
    started = time.process_time()

    response = upload(client, "demo", bomb, alice_key)

    cpu = time.process_time() - started
    growth = peak_memory() - before
    assert response.status_code == 413
    assert "expands to more than 16,777,216 bytes" in detail(response)
    # Expected: well under 0.1 s and a few MB (main: 24 s and 62 s of CPU).
    assert cpu < 2.0, f"{cpu:.2f} s of CPU"
    assert growth < 64 * MiB, f"grew by {growth / MiB:.0f} MiB"
    assert_nothing_stored(spool_dir)


def test_a_duplicate_is_refused_before_its_archive_is_scanned(
    client: Any, channel: Any, alice_key: str, tmp_path: Path, committed: Any
) -> None:
    original = handmade_package(tmp_path, "bomb-1.0-0.conda", _index("bomb"))
    with committed():
        assert upload(client, "demo", original, alice_key).status_code == 200
    bomb = (
        zstd_bomb(tmp_path / "again", "bomb-1.0-0.conda")
        if (tmp_path / "again").mkdir() is None
        else None
    )
    assert bomb is not None

    started = time.process_time()
    response = upload(client, "demo", bomb, alice_key)

    # 409, not 413: the existing file was found before the pkg component was read
    # (main read all 10 GiB first: 24 s).
    assert response.status_code == 409
    assert time.process_time() - started < 2.0
    assert "already exists" in detail(response)
    assert PackageFile.objects.get().size == original.stat().st_size


def test_an_archive_with_too_many_entries_is_refused(
    client: Any, channel: Any, alice_key: str, tmp_path: Path, spool_dir: Path,
    settings: Any,
) -> None:  # fmt: skip
    settings.PREFIXHUB_MAX_ARCHIVE_ENTRIES = 10
    files = {f"lib/f{i}": b"" for i in range(10)}
    path = handmade_package(tmp_path, "many-1.0-0.tar.bz2", _index("many"), files)

    response = upload(client, "demo", path, alice_key)

    assert response.status_code == 413
    assert "more than 10 entries" in detail(response)
    assert_nothing_stored(spool_dir)


# --- 2. metadata amplification ----------------------------------------------------------


@pytest.mark.parametrize("member", ["info/index.json", "info/about.json"])
def test_an_info_json_over_1_mib_is_refused(
    client: Any, channel: Any, alice_key: str, tmp_path: Path, spool_dir: Path,
    member: str,
) -> None:  # fmt: skip
    padded = {**_index(), "x": "a" * MiB}
    content = json.dumps(padded if member.endswith("index.json") else {"x": "a" * MiB})
    index_json = json.dumps(_index()).encode()
    members = {"info/index.json": index_json, member: content.encode()}
    path = handmade_archive(tmp_path, "evil-1.0-0.conda", list(members.items()))

    response = upload(client, "demo", path, alice_key)

    assert response.status_code == 422
    assert f"{member.capitalize()} is too large (over 1,048,576 bytes)" in detail(
        response
    )
    assert_nothing_stored(spool_dir)


def test_only_the_record_keys_clients_read_are_stored_and_served(
    client: Any, channel: Any, alice_key: str, tmp_path: Path, committed: Any
) -> None:
    index = _index(license="MIT", fn="x.conda", custom={"big": "a" * 500_000})
    path = handmade_package(tmp_path, "evil-1.0-0.conda", index)

    with committed():
        response = upload(client, "demo", path, alice_key)

    assert response.status_code == 200
    record = PackageFile.objects.get().record
    assert record["license"] == "MIT"
    assert "custom" not in record
    assert "fn" not in record
    served = client.get("/demo/noarch/repodata.json")
    assert len(b"".join(served.streaming_content)) < 2000


def test_a_record_over_its_size_limit_is_refused(
    client: Any, channel: Any, alice_key: str, tmp_path: Path, spool_dir: Path
) -> None:
    depends = [f"dep{i} >=1.0" for i in range(6000)]  # about 80 KB of specs
    path = handmade_package(tmp_path, "evil-1.0-0.conda", _index(depends=depends))

    response = upload(client, "demo", path, alice_key)

    assert response.status_code == 422
    assert "this server's limit is 65,536" in detail(response)
    assert_nothing_stored(spool_dir)


# --- 3. file names that break clients ---------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "part"),
    [
        ("zzz-1.0é-0.conda", "version"),
        ("zzz-1.0?a=b-0.conda", "version"),
        ("zzz-1.0-0#x.conda", "build"),
    ],
)
def test_a_version_or_build_that_breaks_clients_is_refused_with_the_rule(
    client: Any, channel: Any, alice_key: str, tmp_path: Path, spool_dir: Path,
    filename: str, part: str,
) -> None:  # fmt: skip
    path = handmade_package(tmp_path, "zzz-1.0-0.conda", _index("zzz"))
    payload = multipart([file_part(filename, path.read_bytes())])

    response = post_multipart(client, "demo", payload, alice_key)

    assert response.status_code == 422
    assert detail(response).startswith(f"The {part} ")
    assert "a conda " + part + " holds only ASCII letters" in detail(response)
    assert_nothing_stored(spool_dir)


# --- 4. values that gave a 500 or the wrong status --------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"build_number": 2**70}, "'build_number' must be a whole number from 0 to"),
        ({"build_number": -1}, "'build_number' must be a whole number from 0 to"),
        ({"timestamp": float("nan")}, "NaN is not a number"),
        ({"timestamp": 1e300}, "'timestamp' must be a number of milliseconds"),
    ],
)
def test_out_of_range_metadata_is_refused_as_invalid(
    client: Any, channel: Any, alice_key: str, tmp_path: Path, spool_dir: Path,
    changes: dict[str, Any], message: str,
) -> None:  # fmt: skip
    path = handmade_package(tmp_path, "evil-1.0-0.conda", _index(**changes))

    response = upload(client, "demo", path, alice_key)

    assert response.status_code == 422
    assert message in detail(response)
    assert_nothing_stored(spool_dir)


@pytest.mark.parametrize(
    ("filename", "message"),
    [
        ("evil-1.0-0\x00.conda", "The build '0\\x00' in file name"),
        ("e" * 245 + "-1.0-0.conda", "is longer than 255 bytes"),
    ],
)
def test_a_nul_or_an_overlong_file_name_is_refused_as_invalid(
    client: Any, channel: Any, alice_key: str, tmp_path: Path, spool_dir: Path,
    filename: str, message: str,
) -> None:  # fmt: skip
    path = handmade_package(tmp_path, "evil-1.0-0.conda", _index())
    payload = multipart([file_part(filename, path.read_bytes())])

    response = post_multipart(client, "demo", payload, alice_key)

    assert response.status_code == 422
    assert message in detail(response)
    assert_nothing_stored(spool_dir)


def test_a_nul_in_the_metadata_is_refused_as_invalid(
    client: Any, channel: Any, alice_key: str, tmp_path: Path, spool_dir: Path
) -> None:
    # PostgreSQL's jsonb cannot hold one: this was a 500 there.
    path = handmade_package(tmp_path, "evil-1.0-0.conda", _index(depends=["a\x00"]))

    response = upload(client, "demo", path, alice_key)

    assert response.status_code == 422
    assert "holds a NUL character" in detail(response)
    assert_nothing_stored(spool_dir)


def test_an_attestation_with_a_nul_is_refused(
    client: Any, channel: Any, alice_key: str, tmp_path: Path, spool_dir: Path
) -> None:
    path = handmade_package(tmp_path, "evil-1.0-0.conda", _index())
    payload = multipart([
        file_part(path.name, path.read_bytes()),
        ('name="attestation"', {}, b'{"bundle": "\x00"}'),
    ])  # fmt: skip

    response = post_multipart(client, "demo", payload, alice_key)

    assert response.status_code == 400
    assert "without NUL bytes" in detail(response)
    assert_nothing_stored(spool_dir)


def test_about_fields_the_database_cannot_hold_are_left_out(
    client: Any, channel: Any, alice_key: str, tmp_path: Path, committed: Any
) -> None:
    about = {"summary": "nul \x00 inside", "description": "fine"}
    path = handmade_package(
        tmp_path, "evil-1.0-0.conda", _index(),
        {"info/about.json": json.dumps(about).encode()},
    )  # fmt: skip

    with committed():
        response = upload(client, "demo", path, alice_key)

    assert response.status_code == 200
    assert PackageFile.objects.get().about == {"description": "fine"}


# --- 5. symlinks ------------------------------------------------------------------------


@pytest.mark.parametrize("ext", [".conda", ".tar.bz2"])
def test_a_symlink_out_of_the_package_with_a_file_written_through_it_is_refused(
    client: Any, channel: Any, alice_key: str, tmp_path: Path, spool_dir: Path, ext: str
) -> None:
    link = tarfile.TarInfo("etc")
    link.type = tarfile.SYMTYPE
    link.linkname = "../../../../etc"
    index = ("info/index.json", json.dumps(_index()).encode())
    path = handmade_archive(
        tmp_path, f"evil-1.0-0{ext}", [index],
        pkg_members=[link, ("etc/cron.d/evil", b"* * * * * root evil")],
    )  # fmt: skip

    response = upload(client, "demo", path, alice_key)

    assert response.status_code == 422
    assert "Symlink 'etc' points outside the package" in detail(response)
    assert_nothing_stored(spool_dir)


@pytest.mark.parametrize("ext", [".conda", ".tar.bz2"])
def test_a_member_name_that_is_not_utf8_is_reported_readably(
    client: Any, channel: Any, alice_key: str, tmp_path: Path, spool_dir: Path, ext: str
) -> None:
    member = tarfile.TarInfo("\udcff/../../x")  # the bytes ff 2f 2e 2e ...: not UTF-8
    member.size = 0
    index = ("info/index.json", json.dumps(_index()).encode())
    path = handmade_archive(tmp_path, f"evil-1.0-0{ext}", [index], pkg_members=[member])

    response = upload(client, "demo", path, alice_key)

    assert response.status_code == 422
    assert "points outside the package" in detail(response)
    assert_nothing_stored(spool_dir)


def test_a_long_member_name_gives_a_short_message(
    client: Any, channel: Any, alice_key: str, tmp_path: Path, spool_dir: Path
) -> None:
    name = "../" + "x" * 100_000
    path = handmade_package(tmp_path, "evil-1.0-0.tar.bz2", _index(), {name: b"x"})

    response = upload(client, "demo", path, alice_key)

    assert response.status_code == 422
    assert detail(response).startswith("Archive member '../xxx")
    assert len(detail(response)) <= 1001
    assert_nothing_stored(spool_dir)
