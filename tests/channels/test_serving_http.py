"""HTTP semantics of the channel URLs through the test client: ranges, validators,
the gzip copy of repodata.json, and HEAD on pages. The live tier repeats the
client-facing ones over a real socket."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path
from typing import Any

import pytest

from channels.models import Subdir
from tests.channels import test_serving
from tests.channels.test_serving import FILE_KINDS, get
from tests.conftest import body

public_files = test_serving.public_files  # the fixture: demo 1.0 in ``demo``

OLD = "Mon, 01 Jan 2001 00:00:00 GMT"


def test_a_byte_range_of_a_package_file_gives_206(
    client: Any, public_files: dict[str, str], noarch_pkg: Path
) -> None:
    data = noarch_pkg.read_bytes()
    response, part = get(client, public_files["package"], HTTP_RANGE="bytes=3-12")

    assert response.status_code == 206
    assert part == data[3:13]
    assert response["Content-Range"] == f"bytes 3-12/{len(data)}"
    assert response["Content-Length"] == "10"
    assert response["Accept-Ranges"] == "bytes"


def test_a_range_past_the_end_gives_416(
    client: Any, public_files: dict[str, str], noarch_pkg: Path
) -> None:
    size = noarch_pkg.stat().st_size
    response, _ = get(client, public_files["package"], HTTP_RANGE=f"bytes={size}-")

    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{size}"
    assert response["Cache-Control"] == "no-store"


def test_a_stale_if_range_gets_the_whole_file(
    client: Any, public_files: dict[str, str], noarch_pkg: Path
) -> None:
    response, data = get(
        client, public_files["package"], HTTP_RANGE="bytes=0-1", HTTP_IF_RANGE='"x"'
    )
    assert response.status_code == 200
    assert data == noarch_pkg.read_bytes()


def test_a_whole_file_leaves_in_64_kib_blocks(
    client: Any, public_files: dict[str, str]
) -> None:
    # The web server has no wsgi.file_wrapper: every block is a trip through Python.
    response = client.get(public_files["package"])
    response.close()

    assert response.status_code == 200
    assert response.block_size == 64 * 1024


def test_head_ignores_range(client: Any, public_files: dict[str, str]) -> None:
    response = client.head(public_files["package"], HTTP_RANGE="bytes=0-1")
    assert response.status_code == 200
    assert response["Accept-Ranges"] == "bytes"


def test_accel_leaves_ranges_and_encodings_to_the_server_behind(
    client: Any, public_files: dict[str, str], settings: Any
) -> None:
    # ``redirect`` needs S3 (refused on local storage); S3 answers ranges itself.
    settings.PREFIXHUB_SERVE_MODE = "accel"
    package = client.get(public_files["package"], HTTP_RANGE="bytes=0-1")
    index = client.get(public_files["repodata.json"], HTTP_ACCEPT_ENCODING="gzip")

    assert package.status_code in (200, 302)
    assert not package.has_header("Content-Range")
    assert not index.has_header("Content-Encoding")


def test_weak_if_none_match_gives_304(
    client: Any, public_files: dict[str, str]
) -> None:
    for kind in FILE_KINDS:
        etag = get(client, public_files[kind])[0]["ETag"]
        response, _ = get(client, public_files[kind], HTTP_IF_NONE_MATCH=f"W/{etag}")
        assert response.status_code == 304, kind


def test_if_modified_since_gives_304_where_last_modified_is_sent(
    client: Any, public_files: dict[str, str]
) -> None:
    for kind in FILE_KINDS:
        first, _ = get(client, public_files[kind])
        modified = first.get("Last-Modified")
        if kind == "shard":
            assert modified is None
            continue
        same, _ = get(client, public_files[kind], HTTP_IF_MODIFIED_SINCE=modified)
        older, _ = get(client, public_files[kind], HTTP_IF_MODIFIED_SINCE=OLD)
        assert same.status_code == 304, kind
        assert same["Last-Modified"] == modified
        assert older.status_code == 200, kind


def test_repodata_json_comes_gzipped_from_the_stored_copy(
    client: Any, public_files: dict[str, str], settings: Any
) -> None:
    url = public_files["repodata.json"]
    packed, packed_body = get(client, url, HTTP_ACCEPT_ENCODING="gzip, deflate")
    plain, plain_body = get(client, url)

    assert packed["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed_body) == plain_body
    assert not plain.has_header("Content-Encoding")
    assert packed["ETag"] == f'"{hashlib.sha256(packed_body).hexdigest()}"'
    assert packed["ETag"] != plain["ETag"]
    assert packed["Vary"] == plain["Vary"]
    assert "Accept-Encoding" in packed["Vary"]
    root = Path(settings.STORAGES["index"]["OPTIONS"]["location"])
    assert [p.read_bytes() for p in root.rglob("repodata.json.gz")] == [packed_body]


def test_while_the_gzip_copy_is_rewritten_the_plain_file_is_served(
    client: Any, channel: Any, public_files: dict[str, str]
) -> None:
    Subdir.objects.filter(channel=channel, name="noarch").update(repodata_gz_sha256="")
    response, _ = get(
        client, public_files["repodata.json"], HTTP_ACCEPT_ENCODING="gzip"
    )

    assert response.status_code == 200
    assert not response.has_header("Content-Encoding")
    assert "Accept-Encoding" in response["Vary"]


def test_empty_repodata_json_varies_on_encoding_too(client: Any, channel: Any) -> None:
    response, data = get(client, "/demo/linux-64/repodata.json")
    assert "Accept-Encoding" in response["Vary"]
    assert b'"linux-64"' in data


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/channels/demo",
        "/channels/demo/packages/demo",
        "/channels/demo/settings/upload",
        "/channels/demo/files/noarch/demo-1.0-h0_0.conda/delete",
        "/settings/api-keys/",
    ],
)
def test_head_on_html_pages_answers_like_get(
    client: Any, public_files: dict[str, str], alice: Any, url: str
) -> None:
    client.force_login(alice)
    got = client.get(url)
    head = client.head(url)

    assert head.status_code == got.status_code == 200
    assert head["Content-Type"] == got["Content-Type"]
    assert body(head) == b""
    # HEAD on the delete confirmation must not delete.
    assert get(client, public_files["package"])[0].status_code == 200
