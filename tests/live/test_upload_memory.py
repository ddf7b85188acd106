"""Tier 2: a big upload does not grow a web worker's memory (performance.md M1).

A ~300 MB package is streamed from disk to the live server (granian), once as a raw
body and once as multipart, and the peak resident memory of the workers (VmHWM,
reset before each upload) must grow by under 64 MB: a loose safety net, the tight
figure is ``bench_upload``'s M1. Figures are printed for the benchmark record.
"""

from __future__ import annotations

import http.client
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from rattler_build import assemble_package

from tests.live.service import LiveService
from tests.resources import peak_memory, reset_peak_memory

pytestmark = pytest.mark.live

MiB = 1024**2


def big_package(out: Path, name: str, size: int) -> Path:
    """A noarch package holding ``size`` random (incompressible) bytes."""
    files = out / f"files-{name}"
    (files / "share").mkdir(parents=True)
    with open(files / "share" / f"{name}.bin", "wb") as handle:
        for start in range(0, size, 4 * MiB):
            handle.write(os.urandom(min(4 * MiB, size - start)))
    output = assemble_package(
        name, "1.0", "noarch", "h0_0", out, files_dir=files, noarch="generic",
        compression_level=1,
    )  # fmt: skip
    return Path(output.path)


def _file_chunks(path: Path, head: bytes = b"", tail: bytes = b"") -> Iterator[bytes]:
    yield head
    with open(path, "rb") as handle:
        while chunk := handle.read(MiB):
            yield chunk
    yield tail


def stream_upload(url: str, key: str, path: Path, *, multipart: bool) -> int:
    """POST ``path`` streamed from disk (never read whole); the status code."""
    headers = {"Authorization": f"Bearer {key}"}
    if multipart:
        boundary = uuid.uuid4().hex
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{path.name}"\r\nContent-Type: application/octet-stream'
            "\r\n\r\n"
        ).encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    else:
        head = tail = b""
        headers["Content-Type"] = "application/octet-stream"
        headers["X-File-Name"] = path.name
    headers["Content-Length"] = str(len(head) + path.stat().st_size + len(tail))
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=300)
    try:
        connection.request(
            "POST", parts.path, body=_file_chunks(path, head, tail), headers=headers
        )
        response = connection.getresponse()
        body = response.read()
        assert response.status == 200, body[:500]
        return int(response.status)
    finally:
        connection.close()


@pytest.fixture(scope="module")
def target(live: LiveService) -> tuple[str, str]:
    user = f"m{uuid.uuid4().hex[:8]}"
    channel = f"big{uuid.uuid4().hex[:6]}"
    live.manage("createuser", user)
    live.manage("createchannel", channel, "--owner", user)
    key = live.manage("createapikey", user)
    return f"{live.url}/api/v1/upload/{channel}", key


@pytest.mark.parametrize("multipart", [False, True], ids=["raw", "multipart"])
def test_a_300_mb_upload_grows_a_web_worker_by_under_64_mb(
    live: LiveService,
    target: tuple[str, str],
    tmp_path: Path,
    multipart: bool,
) -> None:
    url, key = target
    kind = "multi" if multipart else "raw"
    big = big_package(tmp_path, f"big{kind}", 300 * MiB)
    for n in range(4):  # both workers import and cache what an upload needs
        small = big_package(tmp_path, f"warm{kind}{n}", 64 * 1024)
        stream_upload(url, key, small, multipart=multipart)
    workers = live.web_workers()
    assert workers
    base = {pid: reset_peak_memory(pid) for pid in workers}

    stream_upload(url, key, big, multipart=multipart)

    growth = max(peak_memory(pid) - base[pid] for pid in workers)
    print(f"\n{big.name} ({big.stat().st_size / MiB:.0f} MiB, "
          f"{'multipart' if multipart else 'raw'}): worker peak memory "
          f"+{growth / MiB:.1f} MiB")  # fmt: skip
    assert growth < 64 * MiB
