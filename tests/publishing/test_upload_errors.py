"""Uploads that go wrong: a clear reason, the status clients expect, nothing kept.

A rejected upload must leave no database row, no file in package storage and no
spooled temporary file behind (protocol doc, section 9.3).
"""

from __future__ import annotations

import hashlib
import io
import json
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgpack
import pytest
import zstandard
from django.conf import settings
from django.utils import timezone

from accounts.models import ApiKey
from packages.models import PackageFile
from publishing.receive import readable_size
from tests.artifacts import build_package, handmade_package
from tests.conftest import body, upload
from tests.factories import make_channel, make_key, make_user

BOUNDARY = "prefixhub-test-boundary"


# --- helpers ------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def spool_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Uploads spool into this folder, so a test can see what they leave behind."""
    folder = tmp_path / "spool"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def stored_files() -> list[Path]:
    root = Path(settings.STORAGES["packages"]["OPTIONS"]["location"])
    return sorted(p for p in root.rglob("*") if p.is_file())


def assert_nothing_stored(spool_dir: Path) -> None:
    assert not PackageFile.objects.exists()
    assert stored_files() == []
    assert list(spool_dir.iterdir()) == []


def detail(response: Any) -> str:
    return str(response.json()["detail"])


def multipart(
    parts: list[tuple[str, dict[str, str], bytes]], *, closed: bool = True
) -> bytes:
    """A multipart body of ``(disposition, part headers, data)`` parts."""
    out = bytearray()
    for disposition, headers, data in parts:
        out += f"--{BOUNDARY}\r\nContent-Disposition: form-data; {disposition}\r\n".encode()
        out += "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode()
        out += b"\r\n" + data + b"\r\n"
    if closed:
        out += f"--{BOUNDARY}--\r\n".encode()
    return bytes(out)


def file_part(
    filename: str, data: bytes, **headers: str
) -> tuple[str, dict[str, str], bytes]:
    headers.setdefault("Content-Type", "application/octet-stream")
    return (f'name="file"; filename="{filename}"', headers, data)


def post_multipart(client: Any, channel: str, payload: bytes, key: str) -> Any:
    return client.post(
        f"/api/v1/upload/{channel}",
        data=payload,
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )


def _decode_zst(data: bytes) -> bytes:
    return zstandard.ZstdDecompressor().decompressobj().decompress(data)


def repodata(client: Any, channel: str, subdir: str) -> dict[str, Any]:
    response = client.get(f"/{channel}/{subdir}/repodata.json")
    assert response.status_code == 200
    return json.loads(body(response))


def shard(client: Any, channel: str, subdir: str, name: str) -> dict[str, Any]:
    response = client.get(f"/{channel}/{subdir}/repodata_shards.msgpack.zst")
    index = msgpack.unpackb(_decode_zst(body(response)))
    sha = index["shards"][name].hex()
    response = client.get(f"/{channel}/{subdir}/shards/{sha}.msgpack.zst")
    assert response.status_code == 200
    return msgpack.unpackb(_decode_zst(body(response)))


# --- packages (built once per session) ------------------------------------------------


@pytest.fixture(scope="session")
def bad_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bad-packages")


@pytest.fixture(scope="session")
def noarch_tar_bz2(package_dir: Path) -> Path:
    return build_package(package_dir / "upload-errors", "demo", "1.0", tar_bz2=True)


@pytest.fixture(scope="session")
def replacement_pkg(package_dir: Path) -> Path:
    """Same filename as ``noarch_pkg``, different bytes."""
    folder = package_dir / "upload-errors" / "replacement"
    return build_package(folder, "demo", "1.0", content="new")


@pytest.fixture(scope="session")
def other_pkg(package_dir: Path) -> Path:
    return build_package(package_dir / "upload-errors", "other-tool", "0.3")


def _index(name: str = "evil", subdir: str = "noarch") -> dict[str, object]:
    return {
        "name": name,
        "version": "1.0",
        "build": "0",
        "build_number": 0,
        "subdir": subdir,
        "depends": [],
    }


# --- the bytes are not a valid package: 422 -------------------------------------------


def test_a_file_that_is_not_an_archive_is_rejected_as_invalid(
    client: Any, channel: Any, alice_key: str, bad_dir: Path, spool_dir: Path
) -> None:
    path = bad_dir / "demo-1.0-h0_0.conda"
    path.write_bytes(b"this is not a zip file at all" * 10)

    response = upload(client, "demo", path, alice_key)

    assert response.status_code == 422
    assert "Not a valid conda package" in detail(response)
    assert_nothing_stored(spool_dir)


@pytest.mark.parametrize("fmt", ["conda", "tar_bz2"])
def test_a_truncated_archive_is_rejected_as_invalid(
    client: Any,
    channel: Any,
    alice_key: str,
    noarch_pkg: Path,
    noarch_tar_bz2: Path,
    bad_dir: Path,
    spool_dir: Path,
    fmt: str,
) -> None:
    whole = noarch_pkg if fmt == "conda" else noarch_tar_bz2
    path = bad_dir / "truncated" / whole.name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])

    response = upload(client, "demo", path, alice_key)

    assert response.status_code == 422
    assert "damaged or truncated" in detail(response)
    assert_nothing_stored(spool_dir)


def test_a_filename_that_does_not_match_the_metadata_is_rejected(
    client: Any, channel: Any, alice_key: str, noarch_tar_bz2: Path, spool_dir: Path
) -> None:
    response = upload(
        client, "demo", noarch_tar_bz2, alice_key, filename="demo-2.0-h0_0.tar.bz2"
    )

    assert response.status_code == 422
    assert "does not match the package metadata" in detail(response)
    assert "demo-1.0-h0_0" in detail(response)
    assert_nothing_stored(spool_dir)


def test_a_conda_archive_whose_metadata_disagrees_with_its_name_is_rejected(
    client: Any, channel: Any, alice_key: str, tmp_path: Path, spool_dir: Path
) -> None:
    path = handmade_package(tmp_path, "evil-2.0-0.conda", _index("evil"))

    response = upload(client, "demo", path, alice_key)

    assert response.status_code == 422
    assert "does not match the package metadata" in detail(response)
    assert "evil-1.0-0" in detail(response)
    assert_nothing_stored(spool_dir)


def test_a_renamed_conda_archive_is_rejected(
    client: Any, channel: Any, alice_key: str, noarch_pkg: Path, spool_dir: Path
) -> None:
    # Its components are named after the original file, so no client could read it.
    response = upload(
        client, "demo", noarch_pkg, alice_key, filename="demo-2.0-h0_0.conda"
    )

    assert response.status_code == 422
    assert detail(response) == (
        "The file name does not match its metadata: "
        "the archive was built as demo-1.0-h0_0.conda."
    )
    assert_nothing_stored(spool_dir)


def test_a_filename_that_is_not_a_package_name_is_rejected(
    client: Any, channel: Any, alice_key: str, noarch_pkg: Path, spool_dir: Path
) -> None:
    response = upload(client, "demo", noarch_pkg, alice_key, filename="demo.zip")

    assert response.status_code == 422
    assert "is not a conda package filename" in detail(response)
    assert_nothing_stored(spool_dir)


def test_an_unknown_platform_in_index_json_is_rejected(
    client: Any, channel: Any, alice_key: str, bad_dir: Path, spool_dir: Path
) -> None:
    path = handmade_package(
        bad_dir, "alien-1.0-0.tar.bz2", _index("alien", subdir="linux-65")
    )

    response = upload(client, "demo", path, alice_key)

    assert response.status_code == 422
    assert "Unknown platform 'linux-65'" in detail(response)
    assert_nothing_stored(spool_dir)


@pytest.mark.parametrize("ext", [".conda", ".tar.bz2"])
@pytest.mark.parametrize(
    ("member", "reason"),
    [("/etc/evil.sh", "absolute path"), ("../../evil.sh", "outside the package")],
)
def test_archive_members_with_unsafe_paths_are_rejected(
    client: Any,
    channel: Any,
    alice_key: str,
    tmp_path: Path,
    spool_dir: Path,
    ext: str,
    member: str,
    reason: str,
) -> None:
    path = handmade_package(
        tmp_path, f"evil-1.0-0{ext}", _index(), extra_members={member: b"rm -rf ~"}
    )

    response = upload(client, "demo", path, alice_key)

    assert response.status_code == 422
    assert reason in detail(response)
    assert member in detail(response)
    assert_nothing_stored(spool_dir)


# --- malformed requests: 400 ----------------------------------------------------------


def test_a_sha256_mismatch_is_rejected(
    client: Any, channel: Any, alice_key: str, noarch_pkg: Path, spool_dir: Path
) -> None:
    response = upload(client, "demo", noarch_pkg, alice_key, sha256="0" * 64)

    assert response.status_code == 400
    assert "SHA-256 mismatch" in detail(response)
    assert hashlib.sha256(noarch_pkg.read_bytes()).hexdigest() in detail(response)
    assert_nothing_stored(spool_dir)


def test_a_sha256_mismatch_in_a_multipart_part_header_is_rejected(
    client: Any, channel: Any, alice_key: str, noarch_pkg: Path, spool_dir: Path
) -> None:
    payload = multipart(
        [
            file_part(
                noarch_pkg.name, noarch_pkg.read_bytes(), **{"x-file-sha256": "ab" * 32}
            )
        ]
    )

    response = post_multipart(client, "demo", payload, alice_key)

    assert response.status_code == 400
    assert "SHA-256 mismatch" in detail(response)
    assert_nothing_stored(spool_dir)


@pytest.mark.parametrize("value", ["abc", "g" * 64, "0" * 65])
def test_a_malformed_sha256_header_is_rejected(
    client: Any,
    channel: Any,
    alice_key: str,
    noarch_pkg: Path,
    spool_dir: Path,
    value: str,
) -> None:
    response = upload(client, "demo", noarch_pkg, alice_key, sha256=value)

    assert response.status_code == 400
    assert "64 hexadecimal characters" in detail(response)
    assert_nothing_stored(spool_dir)


def test_an_upper_case_sha256_header_is_accepted(
    client: Any, channel: Any, alice_key: str, noarch_pkg: Path
) -> None:
    digest = hashlib.sha256(noarch_pkg.read_bytes()).hexdigest().upper()

    response = upload(client, "demo", noarch_pkg, alice_key, sha256=digest)

    assert response.status_code == 200, response.content
    assert response.json()["sha256"] == digest.lower()


def test_an_empty_body_is_rejected(
    client: Any, channel: Any, alice_key: str, spool_dir: Path
) -> None:
    response = client.post(
        "/api/v1/upload/demo",
        data=b"",
        content_type="application/octet-stream",
        HTTP_AUTHORIZATION=f"Bearer {alice_key}",
        HTTP_X_FILE_NAME="demo-1.0-h0_0.conda",
    )

    assert response.status_code == 400
    assert "body is empty" in detail(response)
    assert_nothing_stored(spool_dir)


def test_an_empty_file_part_is_rejected(
    client: Any, channel: Any, alice_key: str, spool_dir: Path
) -> None:
    payload = multipart([file_part("demo-1.0-h0_0.conda", b"")])

    response = post_multipart(client, "demo", payload, alice_key)

    assert response.status_code == 400
    assert "'file' part is empty" in detail(response)
    assert_nothing_stored(spool_dir)


def test_a_raw_body_without_a_filename_is_rejected(
    client: Any, channel: Any, alice_key: str, noarch_pkg: Path, spool_dir: Path
) -> None:
    response = client.post(
        "/api/v1/upload/demo",
        data=noarch_pkg.read_bytes(),
        content_type="application/octet-stream",
        HTTP_AUTHORIZATION=f"Bearer {alice_key}",
    )

    assert response.status_code == 400
    assert "file name is missing" in detail(response)
    assert_nothing_stored(spool_dir)


def test_a_multipart_body_without_a_file_part_is_rejected(
    client: Any, channel: Any, alice_key: str, spool_dir: Path
) -> None:
    payload = multipart([('name="attestation"', {}, b'{"bundle": 1}')])

    response = post_multipart(client, "demo", payload, alice_key)

    assert response.status_code == 400
    assert "no 'file' part" in detail(response)
    assert_nothing_stored(spool_dir)


def test_a_multipart_body_with_two_file_parts_is_rejected(
    client: Any, channel: Any, alice_key: str, noarch_pkg: Path, spool_dir: Path
) -> None:
    data = noarch_pkg.read_bytes()
    payload = multipart(
        [file_part(noarch_pkg.name, data), file_part(noarch_pkg.name, data)]
    )

    response = post_multipart(client, "demo", payload, alice_key)

    assert response.status_code == 400
    assert "one package per request" in detail(response)
    assert_nothing_stored(spool_dir)


def test_a_garbled_multipart_body_is_rejected(
    client: Any, channel: Any, alice_key: str, spool_dir: Path
) -> None:
    response = post_multipart(client, "demo", b"this is no multipart body", alice_key)

    assert response.status_code == 400
    assert "Malformed multipart body" in detail(response)
    assert_nothing_stored(spool_dir)


def test_a_multipart_body_without_a_boundary_is_rejected(
    client: Any, channel: Any, alice_key: str, noarch_pkg: Path, spool_dir: Path
) -> None:
    response = client.post(
        "/api/v1/upload/demo",
        data=multipart([file_part(noarch_pkg.name, noarch_pkg.read_bytes())]),
        content_type="multipart/form-data",
        HTTP_AUTHORIZATION=f"Bearer {alice_key}",
    )

    assert response.status_code == 400
    assert "no boundary" in detail(response)
    assert_nothing_stored(spool_dir)


def test_a_multipart_body_cut_off_before_its_closing_boundary_is_rejected(
    client: Any, channel: Any, alice_key: str, noarch_pkg: Path, spool_dir: Path
) -> None:
    # The whole package arrived, but not the end of the request: it is incomplete.
    payload = multipart(
        [file_part(noarch_pkg.name, noarch_pkg.read_bytes())], closed=False
    )

    response = post_multipart(client, "demo", payload, alice_key)

    assert response.status_code == 400
    assert "Malformed multipart body" in detail(response)
    assert_nothing_stored(spool_dir)


def test_a_raw_body_cut_short_by_a_dropped_connection_is_rejected(
    client: Any, channel: Any, alice_key: str, noarch_pkg: Path, spool_dir: Path
) -> None:
    # The web server ends the body where the client hung up, without an error.
    data = noarch_pkg.read_bytes()
    response = client.post(
        "/api/v1/upload/demo",
        data=b"",
        content_type="application/octet-stream",
        HTTP_AUTHORIZATION=f"Bearer {alice_key}",
        HTTP_X_FILE_NAME=noarch_pkg.name,
        CONTENT_LENGTH=str(len(data)),
        **{"wsgi.input": io.BytesIO(data[: len(data) // 2])},
    )

    assert response.status_code == 400
    assert f"ended after {len(data) // 2} of the {len(data)} bytes" in detail(response)
    assert_nothing_stored(spool_dir)


@pytest.mark.parametrize(
    "filename", ["../demo-1.0-h0_0.conda", "sub/demo-1.0-h0_0.conda", "a\\b.conda"]
)
def test_a_filename_with_a_path_is_rejected(
    client: Any,
    channel: Any,
    alice_key: str,
    noarch_pkg: Path,
    spool_dir: Path,
    filename: str,
) -> None:
    response = upload(client, "demo", noarch_pkg, alice_key, filename=filename)

    assert response.status_code == 400
    assert "must not contain a path" in detail(response)
    assert_nothing_stored(spool_dir)


def test_a_multipart_filename_with_a_path_is_rejected(
    client: Any, channel: Any, alice_key: str, noarch_pkg: Path, spool_dir: Path
) -> None:
    payload = multipart(
        [file_part("../../" + noarch_pkg.name, noarch_pkg.read_bytes())]
    )

    response = post_multipart(client, "demo", payload, alice_key)

    assert response.status_code == 400
    assert "must not contain a path" in detail(response)
    assert_nothing_stored(spool_dir)


# --- too large: 413 ---------------------------------------------------------------------


def test_an_upload_declared_over_the_size_limit_is_rejected_unread(
    client: Any, channel: Any, alice_key: str, settings: Any, spool_dir: Path
) -> None:
    settings.PREFIXHUB_MAX_UPLOAD_SIZE = 4096
    # The declared length alone decides: the test client's payload is shorter than
    # declared and would fail the request if the server tried to read it.
    response = client.post(
        "/api/v1/upload/demo",
        data=b"x" * 10,
        content_type="application/octet-stream",
        HTTP_AUTHORIZATION=f"Bearer {alice_key}",
        HTTP_X_FILE_NAME="demo-1.0-h0_0.conda",
        CONTENT_LENGTH=str(4096 + 2 * 1024 * 1024),
    )

    assert response.status_code == 413
    assert "larger than this server's limit of 4 KiB." in detail(response)
    assert_nothing_stored(spool_dir)


def test_a_raw_upload_over_the_size_limit_is_rejected_while_streaming(
    client: Any, channel: Any, alice_key: str, settings: Any, spool_dir: Path
) -> None:
    settings.PREFIXHUB_MAX_UPLOAD_SIZE = 4096
    response = client.post(
        "/api/v1/upload/demo",
        data=b"x" * 4097,
        content_type="application/octet-stream",
        HTTP_AUTHORIZATION=f"Bearer {alice_key}",
        HTTP_X_FILE_NAME="demo-1.0-h0_0.conda",
    )

    assert response.status_code == 413
    assert "larger than this server's limit of 4 KiB." in detail(response)
    assert_nothing_stored(spool_dir)


def test_a_multipart_upload_over_the_size_limit_is_rejected_while_streaming(
    client: Any, channel: Any, alice_key: str, settings: Any, spool_dir: Path
) -> None:
    settings.PREFIXHUB_MAX_UPLOAD_SIZE = 1000
    payload = multipart([file_part("demo-1.0-h0_0.conda", b"x" * 1001)])

    response = post_multipart(client, "demo", payload, alice_key)

    assert response.status_code == 413
    assert_nothing_stored(spool_dir)


def test_an_upload_of_exactly_the_size_limit_is_read(
    client: Any, channel: Any, alice_key: str, settings: Any, noarch_pkg: Path
) -> None:
    settings.PREFIXHUB_MAX_UPLOAD_SIZE = noarch_pkg.stat().st_size

    response = upload(client, "demo", noarch_pkg, alice_key)

    assert response.status_code == 200, response.content


# --- who may upload: 401, 403, 404 --------------------------------------------------


def test_uploading_to_an_unknown_channel_is_not_found(
    client: Any, channel: Any, alice_key: str, noarch_pkg: Path, spool_dir: Path
) -> None:
    response = upload(client, "nowhere", noarch_pkg, alice_key)

    assert response.status_code == 404
    assert detail(response) == "Channel 'nowhere' does not exist."
    assert_nothing_stored(spool_dir)


def test_uploading_without_a_key_asks_for_authentication(
    client: Any, channel: Any, noarch_pkg: Path, spool_dir: Path
) -> None:
    response = upload(client, "demo", noarch_pkg, None)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "API key" in detail(response)
    assert_nothing_stored(spool_dir)


def _unusable_key(alice: Any, kind: str) -> str:
    if kind == "unknown":
        return "phub-" + "x" * 32
    secret = make_key(alice)
    key = ApiKey.objects.get(prefix=secret[:11])
    if kind == "expired":
        key.expires_at = timezone.now() - timedelta(seconds=1)
        key.save(update_fields=["expires_at"])
    elif kind == "revoked":
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    elif kind == "inactive user":
        alice.is_active = False
        alice.save(update_fields=["is_active"])
    return secret


@pytest.mark.parametrize("kind", ["unknown", "expired", "revoked", "inactive user"])
def test_uploading_with_an_unusable_key_is_unauthorised(
    client: Any,
    channel: Any,
    alice: Any,
    noarch_pkg: Path,
    spool_dir: Path,
    kind: str,
) -> None:
    response = upload(client, "demo", noarch_pkg, _unusable_key(alice, kind))

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert detail(response) == "Invalid, expired or revoked API key."
    assert_nothing_stored(spool_dir)


def test_an_unsupported_authorization_scheme_is_unauthorised(
    client: Any, channel: Any, alice_key: str, noarch_pkg: Path, spool_dir: Path
) -> None:
    response = upload(
        client, "demo", noarch_pkg, None, HTTP_AUTHORIZATION=f"Digest {alice_key}"
    )

    assert response.status_code == 401
    assert_nothing_stored(spool_dir)


def test_a_viewer_may_not_upload(
    client: Any, private_channel: Any, bob_key: str, noarch_pkg: Path, spool_dir: Path
) -> None:
    response = upload(client, "secret", noarch_pkg, bob_key)

    assert response.status_code == 403
    assert detail(response) == "You may not upload to channel 'secret'."
    assert_nothing_stored(spool_dir)


def test_a_stranger_may_not_upload_to_a_public_channel(
    client: Any, channel: Any, charlie_key: str, noarch_pkg: Path, spool_dir: Path
) -> None:
    response = upload(client, "demo", noarch_pkg, charlie_key)

    assert response.status_code == 403
    assert detail(response) == "You may not upload to channel 'demo'."
    assert_nothing_stored(spool_dir)


def test_a_stranger_cannot_tell_a_private_channel_from_a_missing_one(
    client: Any,
    private_channel: Any,
    charlie_key: str,
    noarch_pkg: Path,
    spool_dir: Path,
) -> None:
    secret = upload(client, "secret", noarch_pkg, charlie_key)
    missing = upload(client, "secrex", noarch_pkg, charlie_key)

    assert secret.status_code == missing.status_code == 404
    assert detail(secret) == detail(missing).replace("secrex", "secret")
    assert "WWW-Authenticate" not in secret
    assert_nothing_stored(spool_dir)


def test_a_read_only_key_may_not_upload(
    client: Any, channel: Any, alice: Any, noarch_pkg: Path, spool_dir: Path
) -> None:
    response = upload(client, "demo", noarch_pkg, make_key(alice, is_read_only=True))

    assert response.status_code == 403
    assert detail(response) == "This API key may not write to channel 'demo'."
    assert_nothing_stored(spool_dir)


def test_a_key_narrowed_to_another_channel_may_not_upload(
    client: Any,
    channel: Any,
    private_channel: Any,
    alice: Any,
    noarch_pkg: Path,
    spool_dir: Path,
) -> None:
    key = make_key(alice, channel=private_channel)

    response = upload(client, "demo", noarch_pkg, key)

    assert response.status_code == 403
    assert detail(response) == "This API key may not write to channel 'demo'."
    assert_nothing_stored(spool_dir)


def test_a_key_narrowed_to_the_channel_may_upload(
    client: Any, channel: Any, alice: Any, noarch_pkg: Path
) -> None:
    response = upload(client, "demo", noarch_pkg, make_key(alice, channel=channel))

    assert response.status_code == 200, response.content


def test_a_contributor_may_upload_and_is_recorded_as_uploader(
    client: Any, channel: Any, bob: Any, bob_key: str, noarch_pkg: Path
) -> None:
    response = upload(client, "DEMO", noarch_pkg, bob_key)

    assert response.status_code == 200, response.content
    assert PackageFile.objects.get().uploaded_by == bob


# --- existing files and force -------------------------------------------------------


def test_reuploading_a_file_without_force_conflicts_and_keeps_the_original(
    client: Any,
    channel: Any,
    alice_key: str,
    noarch_pkg: Path,
    committed: Any,
    spool_dir: Path,
) -> None:
    with committed():
        assert upload(client, "demo", noarch_pkg, alice_key).status_code == 200
    files_before = stored_files()

    with committed():
        response = upload(client, "demo", noarch_pkg, alice_key)

    assert response.status_code == 409
    assert "already exists" in detail(response)
    assert "force" in detail(response)
    assert stored_files() == files_before
    assert list(spool_dir.iterdir()) == []
    download = client.get(f"/demo/noarch/{noarch_pkg.name}")
    assert download.status_code == 200
    assert body(download) == noarch_pkg.read_bytes()


def test_uploading_different_bytes_under_an_existing_name_conflicts(
    client: Any,
    channel: Any,
    alice_key: str,
    noarch_pkg: Path,
    replacement_pkg: Path,
    committed: Any,
) -> None:
    with committed():
        upload(client, "demo", noarch_pkg, alice_key)
    files_before = stored_files()

    with committed():
        response = upload(client, "demo", replacement_pkg, alice_key)

    assert response.status_code == 409
    assert stored_files() == files_before
    assert (
        PackageFile.objects.get().sha256
        == hashlib.sha256(noarch_pkg.read_bytes()).hexdigest()
    )


def test_force_replaces_a_file_and_the_index_shows_the_new_hash(
    client: Any,
    channel: Any,
    alice_key: str,
    noarch_pkg: Path,
    replacement_pkg: Path,
    committed: Any,
) -> None:
    new_sha = hashlib.sha256(replacement_pkg.read_bytes()).hexdigest()
    assert new_sha != hashlib.sha256(noarch_pkg.read_bytes()).hexdigest()
    with committed():
        upload(client, "demo", noarch_pkg, alice_key)

    with committed():
        response = upload(client, "demo", replacement_pkg, alice_key, force=True)

    assert response.status_code == 200, response.content
    assert response.json()["sha256"] == new_sha
    name = noarch_pkg.name
    assert repodata(client, "demo", "noarch")["packages.conda"][name]["sha256"] == (
        new_sha
    )
    records = shard(client, "demo", "noarch", "demo")["packages.conda"]
    assert list(records) == [name]
    assert records[name]["sha256"].hex() == new_sha
    assert body(client.get(f"/demo/noarch/{name}")) == replacement_pkg.read_bytes()
    # The replaced bytes are removed once the replacement is committed.
    assert [p.read_bytes() for p in stored_files()] == [replacement_pkg.read_bytes()]


def test_forcing_the_same_bytes_again_keeps_the_file(
    client: Any, channel: Any, alice_key: str, noarch_pkg: Path, committed: Any
) -> None:
    with committed():
        upload(client, "demo", noarch_pkg, alice_key)

    with committed():
        response = upload(client, "demo", noarch_pkg, alice_key, force=True)

    assert response.status_code == 200, response.content
    assert body(client.get(f"/demo/noarch/{noarch_pkg.name}")) == (
        noarch_pkg.read_bytes()
    )
    assert len(stored_files()) == 1


def test_a_contributor_may_force_a_replacement(
    client: Any,
    channel: Any,
    alice_key: str,
    bob_key: str,
    noarch_pkg: Path,
    replacement_pkg: Path,
    committed: Any,
) -> None:
    with committed():
        upload(client, "demo", noarch_pkg, alice_key)

    response = upload(client, "demo", replacement_pkg, bob_key, force=True)

    assert response.status_code == 200, response.content
    assert PackageFile.objects.get().uploaded_by.username == "bob"


def test_force_on_a_new_file_simply_uploads_it(
    client: Any, channel: Any, bob_key: str, noarch_pkg: Path
) -> None:
    response = upload(client, "demo", noarch_pkg, bob_key, force=True)

    assert response.status_code == 200, response.content


def test_a_viewer_may_not_force_a_replacement(
    client: Any,
    private_channel: Any,
    alice_key: str,
    bob_key: str,
    noarch_pkg: Path,
    replacement_pkg: Path,
    committed: Any,
) -> None:
    with committed():
        upload(client, "secret", noarch_pkg, alice_key)

    response = upload(client, "secret", replacement_pkg, bob_key, force=True)

    assert response.status_code == 403
    assert (
        PackageFile.objects.get().sha256
        == hashlib.sha256(noarch_pkg.read_bytes()).hexdigest()
    )


# --- several packages ------------------------------------------------------------------


def test_two_different_packages_both_appear_in_the_index(
    client: Any,
    channel: Any,
    alice_key: str,
    noarch_pkg: Path,
    other_pkg: Path,
    committed: Any,
) -> None:
    with committed():
        assert upload(client, "demo", noarch_pkg, alice_key).status_code == 200
    with committed():
        assert upload(client, "demo", other_pkg, alice_key).status_code == 200

    packages = repodata(client, "demo", "noarch")["packages.conda"]
    assert set(packages) == {noarch_pkg.name, other_pkg.name}
    assert list(shard(client, "demo", "noarch", "demo")["packages.conda"]) == [
        noarch_pkg.name
    ]
    assert list(shard(client, "demo", "noarch", "other-tool")["packages.conda"]) == [
        other_pkg.name
    ]


def test_a_stranger_can_upload_to_their_own_channel_but_not_to_others(
    client: Any, channel: Any, noarch_pkg: Path
) -> None:
    dave = make_user("dave")
    make_channel("daves", owner=dave)
    key = make_key(dave)

    assert upload(client, "daves", noarch_pkg, key).status_code == 200
    assert upload(client, "demo", noarch_pkg, key).status_code == 403


@pytest.mark.parametrize(
    ("size", "shown"),
    [(512, "512 bytes"), (4096, "4 KiB"), (1536 * 1024, "1.5 MiB"), (2 << 30, "2 GiB")],
)
def test_sizes_are_shown_in_a_readable_unit(size: int, shown: str) -> None:
    assert readable_size(size) == shown
