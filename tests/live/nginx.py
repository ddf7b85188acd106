"""Debian's nginx on loopback, running the configuration shipped in deploy/nginx/.

The server blocks come from ``deploy/nginx/render.py`` exactly as an operator would
render them; only the few process-level lines a test needs (pid, temp folders,
running as the current user) are written here around them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

from tests.live.service import ROOT, free_port, wait_for

RENDER = ROOT / "deploy" / "nginx" / "render.py"


def nginx_binary() -> str:
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(found).exists():
        raise RuntimeError("nginx is not installed (apt-get install nginx)")
    return found


def render(**values: str) -> str:
    """deploy/nginx/prefixhub.conf rendered for these values."""
    done = subprocess.run(
        [sys.executable, str(RENDER)], env={**os.environ, **values},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout


class Nginx:
    def __init__(self, workdir: Path, *, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        # More server blocks for the same nginx (the benchmark's static reference).
        self.extra = ""

    def main_config(self, site: str) -> str:
        temp = self.workdir / "tmp"
        temps = "\n".join(
            f"    {kind}_temp_path {temp / kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        # As root, nginx would hand its workers to "nobody", who cannot read the
        # test's private temporary folders.
        user = "user root;" if os.geteuid() == 0 else ""
        return (
            f"{user}\nworker_processes 1;\npid {self.workdir / 'nginx.pid'};\n"
            f"error_log {self.workdir / 'error.log'} warn;\n"
            "events { worker_connections 4096; }\n"
            "http {\n    include /etc/nginx/mime.types;\n"
            "    default_type application/octet-stream;\n"
            "    sendfile on;\n    tcp_nopush on;\n    keepalive_requests 100000;\n"
            f"{temps}\n{site}\n{self.extra}\n}}\n"
        )

    def start(self, **values: str) -> Nginx:
        """Render the shipped configuration with ``values`` and start nginx on it."""
        binary = nginx_binary()
        (self.workdir / "state").mkdir(parents=True, exist_ok=True)
        (self.workdir / "tmp").mkdir(exist_ok=True)
        values = {
            "LISTEN": f"127.0.0.1:{self.port}",
            "STATE": str(self.workdir / "state"),
            **values,
        }
        config = self.workdir / "nginx.conf"
        config.write_text(self.main_config(render(**values)))
        test = subprocess.run(
            [binary, "-t", "-q", "-c", str(config), "-e", str(self.workdir / "e.log")],
            capture_output=True, text=True,
        )  # fmt: skip
        if test.returncode != 0:
            raise RuntimeError(f"nginx -t refused the configuration: {test.stderr}")
        self.process = subprocess.Popen(
            [binary, "-c", str(config), "-e", str(self.workdir / "error.log"),
             "-g", "daemon off;"],
            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(self._listening, timeout=30, interval=0.05)
        return self

    def _listening(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"nginx exited: {self.errors()}")
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=2).close()
        except OSError:
            return False
        return True

    def errors(self) -> str:
        log = self.workdir / "error.log"
        return log.read_text(errors="replace")[-3000:] if log.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGQUIT)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
