from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import msgpack
import zstandard

from packages.models import PackageFile
from tests.conftest import body, upload


def _decode_zst(data: bytes) -> bytes:
    return zstandard.ZstdDecompressor().decompressobj().decompress(data)


def shard_index(
    client: Any, channel: str, subdir: str, **headers: Any
) -> dict[str, Any]:
    response = client.get(f"/{channel}/{subdir}/repodata_shards.msgpack.zst", **headers)
    assert response.status_code == 200, body(response)
    return msgpack.unpackb(_decode_zst(body(response)))


def shard_for(client: Any, channel: str, subdir: str, name: str) -> dict[str, Any]:
    index = shard_index(client, channel, subdir)
    sha = index["shards"][name].hex()
    response = client.get(f"/{channel}/{subdir}/shards/{sha}.msgpack.zst")
    assert response.status_code == 200
    assert "immutable" in response["Cache-Control"]
    return msgpack.unpackb(_decode_zst(body(response)))


def repodata(client: Any, channel: str, subdir: str) -> dict[str, Any]:
    response = client.get(f"/{channel}/{subdir}/repodata.json")
    assert response.status_code == 200
    return json.loads(body(response))


def test_upload_publishes_file_to_repodata_and_shards(
    api_client: Any, channel: Any, alice_key: str, noarch_pkg: Path, committed: Any
) -> None:
    with committed():
        response = upload(api_client, "demo", noarch_pkg, alice_key)

    assert response.status_code == 200, response.content
    assert response.json()["filename"] == noarch_pkg.name
    record = repodata(api_client, "demo", "noarch")["packages.conda"][noarch_pkg.name]
    assert record["name"] == "demo"
    shard = shard_for(api_client, "demo", "noarch", "demo")
    assert shard["packages.conda"][noarch_pkg.name]["sha256"].hex() == record["sha256"]
    download = api_client.get(f"/demo/noarch/{noarch_pkg.name}")
    assert body(download) == noarch_pkg.read_bytes()


def test_multipart_upload_is_accepted(
    api_client: Any, channel: Any, alice_key: str, linux_pkg: Path, committed: Any
) -> None:
    data = linux_pkg.read_bytes()
    boundary = "XyZ123"
    payload = io.BytesIO()
    payload.write(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{linux_pkg.name}"\r\nContent-Type: application/octet-stream\r\n'
        f"x-file-name: {linux_pkg.name}\r\n\r\n".encode()
    )
    payload.write(data)
    payload.write(
        f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="attestation"\r\n\r\n'
        f'{{"bundle": 1}}\r\n--{boundary}--\r\n'.encode()
    )
    with committed():
        response = api_client.post(
            "/api/v1/upload/demo",
            data=payload.getvalue(),
            content_type=f"multipart/form-data; boundary={boundary}",
            HTTP_AUTHORIZATION=f"Bearer {alice_key}",
        )

    assert response.status_code == 200, response.content
    stored = PackageFile.objects.get(filename=linux_pkg.name)
    assert stored.attestation == '{"bundle": 1}'
    assert stored.subdir == "linux-64"
    assert linux_pkg.name in repodata(api_client, "demo", "linux-64")["packages"]


def test_upload_keeps_the_descriptive_about_fields_and_drops_unsafe_links(
    api_client: Any, channel: Any, alice_key: str, tmp_path: Path, committed: Any
) -> None:
    from tests.artifacts import build_package

    package = build_package(
        tmp_path, "described", "1.0", summary="Tools for doing things",
        homepage="javascript:alert(1)", license="MIT",
    )  # fmt: skip
    with committed():
        response = upload(api_client, "demo", package, alice_key)

    assert response.status_code == 200, response.content
    stored = PackageFile.objects.get(filename=package.name)
    assert stored.about["summary"] == "Tools for doing things"
    assert "home" not in stored.about
    page = api_client.get("/channels/demo/packages/described")
    assert b"Tools for doing things" in page.content
    assert b"javascript:alert" not in page.content
