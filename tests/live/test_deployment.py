"""Tier 2: the deploy/ recipe brought up on loopback, as an operator would run it.

nginx with the shipped configuration, then the Procfile's processes (release, web,
worker, beat) against PostgreSQL, Redis and S3 on moto. rattler-build uploads a burst
through nginx while the worker restarts; py-rattler installs; nothing is lost and
every file lives in the bucket.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live.clients import run_client
from tests.live.nginx import Nginx
from tests.live.reader import wait_until_indexed
from tests.live.scenario import Publisher
from tests.live.service import ROOT, LiveService, free_port, wait_for
from tests.s3 import MotoS3

# ``production``: it runs on PostgreSQL and Redis only, so CI leaves it out of the
# live tier's second run on the embedded default.
pytestmark = [pytest.mark.live, pytest.mark.production]

PROCFILE = ROOT / "deploy" / "Procfile"


def procfile() -> dict[str, str]:
    entries = {}
    for line in PROCFILE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, command = line.partition(":")
            entries[name.strip()] = command.strip()
    return entries


class Deployment(LiveService):
    """The Procfile's processes, with the environment of prefixhub.env.example."""

    def run(self, name: str) -> subprocess.Popen[bytes]:
        command = procfile()[name]
        self._spawn(name, ["/bin/sh", "-c", f"exec {command}"])
        return self.processes[-1]

    def start(self) -> Deployment:
        release = subprocess.run(
            ["/bin/sh", "-c", procfile()["release"]], env=self.env, cwd=self.workdir,
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert release.returncode == 0, release.stderr
        self.run("web")
        self.worker = self.run("worker")
        self.run("beat")
        wait_for(self._responds, timeout=60, interval=0.2)
        return self

    def restart_worker(self) -> None:
        """What ``systemctl restart prefixhub-worker`` does: warm stop, then start."""
        os.killpg(self.worker.pid, signal.SIGTERM)
        self.worker.wait(600)
        self.worker = self.run("worker")


@pytest.fixture(scope="module")
def deployment(
    tmp_path_factory: pytest.TempPathFactory, s3_server: MotoS3
) -> Iterator[tuple[Deployment, Nginx, str]]:
    needed = ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL")
    missing = [name for name in needed if not os.environ.get(name)]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"the deployment test needs {', '.join(missing)}")
        pytest.skip(f"set {', '.join(missing)} (PostgreSQL and Redis) to run this")
    workdir = tmp_path_factory.mktemp("deploy")
    nginx = Nginx(workdir / "nginx", port=free_port())
    bucket = s3_server.new_bucket()
    bin_dir = str(Path(sys.executable).parent)
    web_port = free_port()
    env = {
        **s3_server.environment(bucket),
        "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}",
        "PREFIXHUB_SERVE_MODE": "accel",
        "PREFIXHUB_WEB_BIND": f"127.0.0.1:{web_port}",
        "STATIC_ROOT": str(workdir / "static"),
        "PUBLIC_URL": nginx.url,
        "WEB_CONCURRENCY": "2",
        "WORKER_CONCURRENCY": "2",
        "PREFIXHUB_REPAIR_INTERVAL": "2",
    }
    service = Deployment(workdir, env=env)
    service.port = web_port
    service.url = f"http://127.0.0.1:{web_port}"
    try:
        service.start()
        nginx.start(
            WEB=f"127.0.0.1:{web_port}", STORAGE="s3", S3_ENDPOINT=s3_server.url,
            STATIC_ROOT=str(workdir / "static"),
        )  # fmt: skip
        yield service, nginx, bucket
    finally:
        nginx.stop()
        service.stop()


def test_the_deployment_publishes_and_installs_through_nginx_with_files_in_s3(
    deployment: tuple[Deployment, Nginx, str], s3_server: MotoS3, tmp_path: Path
) -> None:
    service, nginx, bucket = deployment
    publisher = Publisher(service.manage, nginx.url, tmp_path)

    public = publisher.publish_and_install("dpub", private=False)
    private = publisher.publish_and_install("dpriv", private=True)

    keys = s3_server.keys(bucket)
    for filename in public["solved"] + private["solved"]:
        assert any(k.startswith("packages/") and k.endswith(filename) for k in keys)
    assert any(k.endswith("/repodata_shards.msgpack.zst") for k in keys)
    assert any("/shards/" in k for k in keys)
    assert any(k.endswith("/repodata.json") for k in keys)
    data = service.workdir / "data"
    stored = [p for p in data.rglob("*") if p.suffix in (".conda", ".bz2", ".zst")]
    assert stored == []


def test_a_worker_restart_mid_burst_loses_no_upload(
    deployment: tuple[Deployment, Nginx, str], tmp_path: Path
) -> None:
    service, nginx, _ = deployment
    publisher = Publisher(service.manage, nginx.url, tmp_path)
    channel = publisher.channel()
    files = [pkg for i in range(4) for pkg in publisher.packages(f"burst{i}")]
    batches = [files[i::3] for i in range(3)]
    results: list[object] = []

    def upload(batch: list[Path]) -> None:
        results.append(publisher.upload(channel, batch))

    threads = [threading.Thread(target=upload, args=(b,)) for b in batches]
    for thread in threads:
        thread.start()
    service.restart_worker()
    for thread in threads:
        thread.join()

    assert results == [{"ok": True}] * 3
    base = f"{nginx.url}/{channel}"
    for pkg in files:
        subdir = "linux-64" if pkg.name.endswith(".tar.bz2") else "noarch"
        wait_until_indexed(base, subdir, pkg.name)
    result = run_client(
        "install", channel_url=base, specs=[f"appburst{i}" for i in range(4)],
        workdir=str(tmp_path / "client"), platforms=["linux-64", "noarch"],
    )  # fmt: skip
    assert result["ok"], result
    assert len(result["solved"]) == 8


def test_the_shipped_units_run_the_procfile_commands() -> None:
    units = ROOT / "deploy" / "systemd"
    for name, command in procfile().items():
        if name == "release":
            continue
        unit = (units / f"prefixhub-{name}.service").read_text()
        [exec_start] = [
            line.split("=", 1)[1]
            for line in unit.splitlines()
            if line.startswith("ExecStart=")
        ]
        argv = shlex.split(exec_start)
        assert argv[:2] == ["/bin/sh", "-c"]
        assert argv[2] == f"exec /opt/prefixhub/venv/bin/{command}"
        assert "EnvironmentFile=/etc/prefixhub/prefixhub.env" in unit
