"""Tier 2: py-rattler installs through each serve mode that hands the bytes to
another server: ``accel`` behind the shipped nginx configuration, ``redirect`` to
signed URLs of an S3 bucket (moto). ``stream`` is the ``live`` service's own mode."""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live.nginx import Nginx
from tests.live.reader import shard_index, wait_until_indexed
from tests.live.scenario import Publisher
from tests.live.service import LiveService, free_port
from tests.s3 import MotoS3

pytestmark = pytest.mark.live


def start_or_skip(*parts: LiveService | Nginx, **values: str) -> None:
    """Start the service, then nginx (if any); in CI a failure fails."""
    try:
        for part in parts:
            part.start(**values) if isinstance(part, Nginx) else part.start()
    except Exception as exc:
        for part in parts:
            part.stop()
        if os.environ.get("CI"):
            raise
        pytest.skip(f"cannot start {type(part).__name__} here: {exc}")


@pytest.fixture(scope="module")
def accel(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Nginx, LiveService]]:
    """prefixhub (accel, local storage) behind the deploy/ nginx configuration."""
    workdir = tmp_path_factory.mktemp("accel")
    nginx = Nginx(workdir / "nginx", port=free_port())
    service = LiveService(
        workdir, env={"PREFIXHUB_SERVE_MODE": "accel", "PUBLIC_URL": nginx.url}
    )
    data = workdir / "data"
    start_or_skip(
        service, nginx, WEB=f"127.0.0.1:{service.port}", STORAGE="local",
        STORAGE_ROOT=str(data / "storage"), STATIC_ROOT=str(data / "static"),
    )  # fmt: skip
    try:
        yield nginx, service
    finally:
        nginx.stop()
        service.stop()


@pytest.fixture(scope="module")
def redirect(
    tmp_path_factory: pytest.TempPathFactory, s3_server: MotoS3
) -> Iterator[tuple[LiveService, str]]:
    """prefixhub with its files in a bucket, sending clients to signed URLs."""
    bucket = s3_server.new_bucket()
    env = {**s3_server.environment(bucket), "PREFIXHUB_SERVE_MODE": "redirect"}
    service = LiveService(tmp_path_factory.mktemp("redirect"), env=env)
    start_or_skip(service)
    try:
        yield service, bucket
    finally:
        service.stop()


def test_accel_behind_nginx_installs_from_public_and_private_channels(
    accel: tuple[Nginx, LiveService], tmp_path: Path
) -> None:
    nginx, service = accel
    publisher = Publisher(service.manage, nginx.url, tmp_path)

    public = publisher.publish_and_install("acp", private=False)
    private = publisher.publish_and_install("acq", private=True)

    assert public["ok"] and private["ok"]
    assert "error" not in nginx.errors().lower(), nginx.errors()


def cache_status(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    """Status of a GET through nginx and whether nginx's shard cache answered it."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
            return response.status, response.headers.get("X-Cache", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("X-Cache", "")


def test_nginx_keeps_public_shards_and_asks_django_for_every_private_one(
    accel: tuple[Nginx, LiveService], tmp_path: Path
) -> None:
    nginx, service = accel
    publisher = Publisher(service.manage, nginx.url, tmp_path)
    auth = {"Authorization": f"Bearer {publisher.key}"}
    seen = {}
    for private in (False, True):
        channel = publisher.channel(private=private)
        [lib] = publisher.packages(f"cache{int(private)}")[:1]
        assert publisher.upload(channel, [lib]) == {"ok": True}
        base = f"{nginx.url}/{channel}"
        wait_until_indexed(base, "noarch", lib.name, auth)
        sha = shard_index(base, "noarch", auth)["shards"][lib.name.split("-")[0]]
        url = f"{base}/noarch/shards/{sha.hex()}.msgpack.zst"
        seen[private] = [cache_status(url, auth) for _ in range(3)] + [
            cache_status(url)
        ]

    # wait_until_indexed fetched each shard once already.
    assert seen[False] == [(200, "HIT")] * 4
    # Private answers never come from the cache (nginx says MISS, or nothing for
    # those it handed to the storage location after Django's decision).
    assert [status for status, _ in seen[True]] == [200, 200, 200, 401]
    assert all(cache != "HIT" for _, cache in seen[True])


def test_accel_serves_package_bytes_with_the_content_hash_as_etag(
    accel: tuple[Nginx, LiveService], tmp_path: Path
) -> None:
    nginx, service = accel
    publisher = Publisher(service.manage, nginx.url, tmp_path)
    channel = publisher.channel()
    [lib] = publisher.packages("etag")[:1]
    assert publisher.upload(channel, [lib]) == {"ok": True}

    with urllib.request.urlopen(f"{nginx.url}/{channel}/noarch/{lib.name}") as resp:
        data, etag = resp.read(), resp.headers["ETag"]

    assert data == lib.read_bytes()
    assert etag == f'"{hashlib.sha256(data).hexdigest()}"'


def test_redirect_to_s3_installs_with_every_file_in_the_bucket(
    redirect: tuple[LiveService, str], s3_server: MotoS3, tmp_path: Path
) -> None:
    service, bucket = redirect
    publisher = Publisher(service.manage, service.url, tmp_path)

    public = publisher.publish_and_install("rdp", private=False)
    private = publisher.publish_and_install("rdq", private=True)

    keys = s3_server.keys(bucket)
    for result in (public, private):
        for filename in result["solved"]:
            assert any(k.startswith("packages/") and k.endswith(filename) for k in keys)
    assert any(k.endswith("/repodata_shards.msgpack.zst") for k in keys)
    assert any("/shards/" in k for k in keys)
    assert any(k.endswith("/repodata.json.zst") for k in keys)
    local = service.workdir / "data" / "storage"
    on_disk = [p for p in local.rglob("*") if p.is_file()] if local.exists() else []
    assert on_disk == []
