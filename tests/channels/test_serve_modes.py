"""How the bytes leave: ``accel`` hands each storage to its own nginx location,
``redirect`` sends a short-lived signed S3 URL; access is decided first in both."""

from __future__ import annotations

import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from django.utils.functional import empty

from prefixhub.storage import index_storage, package_storage
from tests.channels import test_serving
from tests.channels.test_serving import FILE_KINDS, INDEX, bearer, get
from tests.s3 import MotoS3

# The published files of test_serving, as fixtures of this module too.
hush_pkg = test_serving.hush_pkg
public_files = test_serving.public_files
secret_files = test_serving.secret_files

LOCATIONS = dict.fromkeys(FILE_KINDS, "/_accel/index/") | {
    "package": "/_accel/packages/"
}


def storage_root(settings: Any, alias: str) -> Path:
    return Path(settings.STORAGES[alias]["OPTIONS"]["location"])


def test_accel_names_the_storage_location_and_the_stored_object(
    client: Any, settings: Any, public_files: dict[str, str], noarch_pkg: Path
) -> None:
    settings.PREFIXHUB_SERVE_MODE = "accel"
    for kind in [k for k in FILE_KINDS if k != "shard"]:  # public shards: below
        response, data = get(client, public_files[kind])

        assert response.status_code == 200, kind
        assert data == b"", kind  # nginx sends the bytes
        target = response["X-Accel-Redirect"]
        location = LOCATIONS[kind]
        assert target.startswith(location), (kind, target)
        alias = location.split("/")[2]
        key = urllib.parse.unquote(target[len(location) :])
        assert (storage_root(settings, alias) / key).is_file(), kind
    assert (storage_root(settings, "packages") / key).read_bytes() == (
        noarch_pkg.read_bytes()
    )


def test_accel_sends_public_shards_inline_for_nginx_to_keep(
    client: Any,
    settings: Any,
    public_files: dict[str, str],
    secret_files: dict[str, str],
    bob_key: str,
) -> None:
    settings.PREFIXHUB_SERVE_MODE = "stream"
    _, streamed = get(client, public_files["shard"])
    settings.PREFIXHUB_SERVE_MODE = "accel"

    public, data = get(client, public_files["shard"])
    private, hidden = get(client, "/" + secret_files["shard"], **bearer(bob_key))

    assert (public.status_code, data) == (200, streamed)
    assert not public.has_header("X-Accel-Redirect")
    assert public["Cache-Control"].startswith("public")
    assert (private.status_code, hidden) == (200, b"")
    assert private["X-Accel-Redirect"].startswith(LOCATIONS["shard"])
    assert private["Cache-Control"].startswith("private")


def test_accel_keeps_the_headers_nginx_passes_on(
    client: Any, settings: Any, public_files: dict[str, str]
) -> None:
    settings.PREFIXHUB_SERVE_MODE = "accel"
    response, _ = get(client, public_files["shard"])

    assert response["Content-Type"] == "application/zstd"
    assert "immutable" in response["Cache-Control"]


def test_accel_decides_access_before_handing_over(
    client: Any, settings: Any, secret_files: dict[str, str], charlie_key: str
) -> None:
    settings.PREFIXHUB_SERVE_MODE = "accel"
    for kind in FILE_KINDS:
        anonymous, _ = get(client, "/" + secret_files[kind])
        outsider, _ = get(client, "/" + secret_files[kind], **bearer(charlie_key))

        assert anonymous.status_code == 401, kind
        assert outsider.status_code == 403, kind
        assert not anonymous.has_header("X-Accel-Redirect")
        assert not outsider.has_header("X-Accel-Redirect")


def test_accel_answers_a_current_etag_with_304_without_nginx(
    client: Any, settings: Any, public_files: dict[str, str]
) -> None:
    settings.PREFIXHUB_SERVE_MODE = "accel"
    first, _ = get(client, public_files[INDEX])
    again, _ = get(client, public_files[INDEX], HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == 304
    assert not again.has_header("X-Accel-Redirect")


@pytest.fixture
def on_s3(settings: Any, s3_server: MotoS3) -> str:
    """Package and index files in a fresh bucket, served by redirect."""
    bucket = s3_server.new_bucket()
    settings.STORAGES = {
        **settings.STORAGES,
        "packages": {
            "BACKEND": "prefixhub.storage.PrefixS3Storage",
            "OPTIONS": s3_server.storage_options(bucket, "packages"),
        },
        "index": {
            "BACKEND": "prefixhub.storage.PrefixS3Storage",
            "OPTIONS": s3_server.storage_options(bucket, "index"),
        },
    }
    for lazy in (index_storage, package_storage):
        lazy._wrapped = empty
    return bucket


@pytest.fixture
def s3_public_files(
    db: None, on_s3: str, request: Any, settings: Any
) -> dict[str, str]:
    # ``db`` by name: pytest-django orders database tests by the fixtures it sees,
    # and a browser test's event loop (later in the run) refuses database calls.
    files = dict(request.getfixturevalue("public_files"))
    settings.PREFIXHUB_SERVE_MODE = "redirect"
    return files


@pytest.fixture
def s3_secret_files(
    db: None, on_s3: str, request: Any, settings: Any
) -> dict[str, str]:
    # ``db`` by name: pytest-django orders database tests by the fixtures it sees,
    # and a browser test's event loop (later in the run) refuses database calls.
    files = dict(request.getfixturevalue("secret_files"))
    settings.PREFIXHUB_SERVE_MODE = "redirect"
    return files


def test_redirect_sends_a_signed_url_that_serves_the_stored_bytes(
    client: Any, s3_public_files: dict[str, str], noarch_pkg: Path
) -> None:
    for kind in FILE_KINDS:
        response, _ = get(client, s3_public_files[kind])

        assert response.status_code == 302, kind
        url = response["Location"]
        assert "X-Amz-Signature=" in url and "X-Amz-Expires=60" in url
        with urllib.request.urlopen(url) as stored:
            data = stored.read()
        assert data, kind
    assert data == noarch_pkg.read_bytes()


def test_redirect_keeps_files_in_the_bucket_and_nothing_on_disk(
    client: Any,
    settings: Any,
    tmp_path: Path,
    s3_server: MotoS3,
    s3_public_files: dict[str, str],
) -> None:
    keys = s3_server.keys(settings.STORAGES["index"]["OPTIONS"]["bucket_name"])

    assert any(k.startswith("packages/") and k.endswith(".conda") for k in keys)
    assert any(k.endswith("/" + INDEX) for k in keys)
    assert any("/shards/" in k for k in keys)
    assert any(k.endswith("/repodata.json") for k in keys)
    assert not (tmp_path / "storage").exists()  # where local storage would write


def test_redirect_decides_access_before_signing(
    client: Any, s3_secret_files: dict[str, str], charlie_key: str
) -> None:
    files = s3_secret_files
    for kind in FILE_KINDS:
        anonymous, _ = get(client, "/" + files[kind])
        outsider, _ = get(client, "/" + files[kind], **bearer(charlie_key))

        assert anonymous.status_code == 401, kind
        assert outsider.status_code == 403, kind
        assert not anonymous.has_header("Location")
