"""``prefixhub serve`` on a fresh data folder, with no PostgreSQL or Redis: end to end."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.artifacts import build_package
from tests.live.clients import run_client
from tests.live.service import ROOT, free_port, wait_for

pytestmark = pytest.mark.live

# The embedded default: nothing configured but a data folder.
_SERVER_VARIABLES = ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "SECRET_KEY",
                     "ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE", "PUBLIC_URL",
                     "CELERY_TASK_ALWAYS_EAGER", "STORAGE_BACKEND")  # fmt: skip


def _prefixhub() -> str:
    script = Path(sys.executable).with_name("prefixhub")
    return str(script) if script.exists() else "prefixhub"


def _responds(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def test_prefixhub_serve_runs_the_whole_service_with_no_servers(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in _SERVER_VARIABLES}
    env["PREFIXHUB_DATA_DIR"] = str(tmp_path / "data")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(
        [_prefixhub(), "serve", "--port", str(port)],
        env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        wait_for(lambda: _responds(url + "/"), timeout=90, interval=0.3)

        def cli(*args: str) -> str:
            done = subprocess.run(
                [_prefixhub(), *args], env=env, cwd=ROOT, capture_output=True,
                text=True, check=True, timeout=60,
            )  # fmt: skip
            return done.stdout.strip()

        cli(
            "createuser",
            "maria",
            "--email",
            "maria@example.org",
            "--password",
            "pw-12345678",
        )
        cli("createchannel", "tools", "--owner", "maria")
        key = cli("createapikey", "maria")
        assert key.startswith("phub-") and "\n" not in key

        package = build_package(tmp_path / "pkgs", "embeddedtool", "0.1")
        result = run_client(
            "upload", files=[str(package)], url=url, channel="tools", api_key=key
        )
        assert result == {"ok": True}

        def indexed() -> bool:
            with urllib.request.urlopen(
                f"{url}/tools/noarch/repodata.json"
            ) as response:
                return package.name in json.loads(response.read())["packages.conda"]

        wait_for(indexed, timeout=30, interval=0.2)
        installed = run_client(
            "install", channel_url=f"{url}/tools", specs=["embeddedtool"],
            workdir=str(tmp_path / "client"), platforms=["linux-64", "noarch"],
        )  # fmt: skip
        assert installed["ok"], installed
        assert "share/embeddedtool.txt" in installed["files"]
        assert (tmp_path / "data" / "prefixhub.sqlite3").exists()
    finally:
        os.killpg(server.pid, signal.SIGINT)  # Ctrl-C, as a user would
        try:
            code = server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            raise
        log.close()
    assert code == 0, (tmp_path / "serve.log").read_text()[-3000:]
    assert not _responds(url + "/")
