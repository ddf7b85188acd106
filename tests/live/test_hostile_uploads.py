"""Tier 2: decompression bombs against a live server (issue 10, item 1).

Each bomb must be refused within 2 s of a web worker's CPU, with the worker's
memory growing by under 64 MB, and while four are processed at once the home page
must answer in under 1 s. Figures are printed for the benchmark record.
"""

from __future__ import annotations

import hashlib
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.artifacts import bz2_bomb, zstd_bomb
from tests.live.service import LiveService
from tests.resources import cpu_seconds, peak_memory, reset_peak_memory

pytestmark = pytest.mark.live

MiB = 1024**2


def post(url: str, key: str, path: Path) -> tuple[int, str]:
    data = path.read_bytes()
    request = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/octet-stream",
            "X-File-Name": path.name,
            "X-File-SHA256": hashlib.sha256(data).hexdigest(),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def home_page_seconds(url: str) -> float:
    started = time.monotonic()
    with urllib.request.urlopen(url + "/", timeout=30) as response:
        response.read()
        assert response.status == 200
    return time.monotonic() - started


@pytest.fixture(scope="module")
def target(live: LiveService) -> tuple[str, str]:
    """(upload URL, API key) for a fresh channel on the live server."""
    user = f"h{uuid.uuid4().hex[:8]}"
    channel = f"bombs{uuid.uuid4().hex[:6]}"
    live.manage("createuser", user)
    live.manage("createchannel", channel, "--owner", user)
    key = live.manage("createapikey", user)
    return f"{live.url}/api/v1/upload/{channel}", key


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("bombs")
    return [
        zstd_bomb(folder, "bomb-1.0-0.conda"),
        bz2_bomb(folder, "bomb-1.0-0.tar.bz2"),
    ]


@pytest.mark.parametrize("kind", [0, 1], ids=["zstd-10GiB", "bz2-10GiB"])
def test_a_bomb_costs_a_web_worker_under_2_s_of_cpu_and_64_mb(
    live: LiveService, target: tuple[str, str], bombs: list[Path], kind: int
) -> None:
    url, key = target
    bomb = bombs[kind]
    for _ in range(4):  # warm both workers up: first requests import and cache
        assert post(url, key, bomb)[0] == 413
    workers = live.web_workers()
    assert workers
    base = {pid: reset_peak_memory(pid) for pid in workers}
    cpu = {pid: cpu_seconds(pid) for pid in workers}

    status, body = post(url, key, bomb)

    spent = sum(cpu_seconds(pid) - cpu[pid] for pid in workers)
    growth = max(peak_memory(pid) - base[pid] for pid in workers)
    print(f"\n{bomb.name} ({bomb.stat().st_size} bytes): {spent:.3f} s CPU, "
          f"peak memory +{growth / MiB:.1f} MiB")  # fmt: skip
    assert status == 413, body
    assert "expands to more than" in body
    assert spent < 2.0
    assert growth < 64 * MiB


def test_four_bombs_at_once_do_not_slow_the_home_page(
    live: LiveService, target: tuple[str, str], bombs: list[Path]
) -> None:
    url, key = target
    statuses: list[int] = []
    done = threading.Event()

    def send(path: Path) -> None:
        statuses.append(post(url, key, path)[0])

    senders = [threading.Thread(target=send, args=(bombs[i % 2],)) for i in range(4)]
    quiet = [home_page_seconds(live.url) for _ in range(3)]
    for thread in senders:
        thread.start()
    latencies = []
    while any(thread.is_alive() for thread in senders) or not latencies:
        latencies.append(home_page_seconds(live.url))
    for thread in senders:
        thread.join()
    done.set()
    print(f"\nhome page: {max(quiet) * 1000:.0f} ms quiet, "
          f"{max(latencies) * 1000:.0f} ms at most during 4 bombs "
          f"({len(latencies)} requests)")  # fmt: skip
    assert statuses == [413] * 4
    assert max(latencies) < 1.0
