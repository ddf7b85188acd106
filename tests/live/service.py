"""A prefixhub deployment in child processes: granian, a Celery worker, a database.

Tiers 2 and 3 share one per test session. It follows the environment the suite runs
in: with ``DATABASE_URL`` (PostgreSQL), ``CELERY_BROKER_URL`` and ``REDIS_URL`` set it
uses a fresh database and its own queue on those servers, as production would;
without them it runs the embedded default (SQLite, a file-system broker).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
_SCRUB = ("GITHUB_ACTIONS", "GITLAB_CI", "ACTIONS_ID_TOKEN_REQUEST_URL")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate: Any, *, timeout: float, interval: float = 0.05) -> Any:
    """Poll ``predicate`` until it returns something truthy; raise on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout} s")
        time.sleep(interval)


def _create_database(url: str, name: str) -> str:
    import psycopg

    base, _, _ = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


def _drop_database(url: str, name: str) -> None:
    import psycopg

    base, _, _ = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class LiveService:
    def __init__(
        self, workdir: Path, *, workers: int = 2, env: dict[str, str] | None = None
    ) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.mail_dir = workdir / "mail"
        self.log_dir = workdir / "logs"
        self.workers = workers
        self.processes: list[subprocess.Popen[bytes]] = []
        self.database: str | None = None
        self._logs: list[Any] = []
        self.env = self._environment()
        self.env.update(env or {})

    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        env.update(
            PREFIXHUB_DATA_DIR=str(self.workdir / "data"),
            PUBLIC_URL=self.url,
            SECRET_KEY="live-test-secret-key-" + uuid.uuid4().hex,
            ALLOWED_HOSTS="127.0.0.1,localhost",
            EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
            EMAIL_FILE_PATH=str(self.mail_dir),
            CELERY_TASK_DEFAULT_QUEUE=f"live-{uuid.uuid4().hex[:12]}",
            CELERY_TASK_ALWAYS_EAGER="false",
            PYTHONUNBUFFERED="1",
        )
        if env.get("DATABASE_URL"):
            self.database = f"prefixhub_live_{uuid.uuid4().hex[:10]}"
            env["DATABASE_URL"] = _create_database(env["DATABASE_URL"], self.database)
        return env

    def manage(self, *args: str, check: bool = True) -> str:
        """Run a ``prefixhub`` command against this deployment; its stdout."""
        done = subprocess.run(
            [sys.executable, "-m", "prefixhub.cli", *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"prefixhub {' '.join(args)} failed:\n{done.stderr}")
        return done.stdout.strip()

    def _spawn(self, name: str, argv: list[str]) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 (closed in stop)
        self._logs.append(log)
        self.processes.append(
            subprocess.Popen(
                argv, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )  # fmt: skip

    def start(self) -> LiveService:
        self.mail_dir.mkdir(parents=True, exist_ok=True)
        self.manage("migrate", "--noinput")
        self.manage("collectstatic", "--noinput")
        # Through `prefixhub web`, as production starts it: granian's main process,
        # whose children are the workers that run Django (see web_workers).
        self._spawn("web", [
            sys.executable, "-m", "prefixhub.cli", "web",
            "--bind", f"127.0.0.1:{self.port}", "--workers", "2",
            "--blocking-threads", "8",
        ])  # fmt: skip
        self.start_worker()
        wait_for(self._responds, timeout=60, interval=0.2)
        return self

    def start_worker(
        self, name: str = "worker", *, beat: bool = False
    ) -> subprocess.Popen[bytes]:
        schedule = ["--beat", "--schedule", str(self.workdir / f"beat-{name}")]
        self._spawn(name, [
            sys.executable, "-m", "celery", "--app", "prefixhub", "worker",
            *(schedule if beat else []),
            "--concurrency", str(self.workers), "--loglevel", "INFO",
            "--queues", self.env["CELERY_TASK_DEFAULT_QUEUE"],
            "--hostname", f"{name}-{uuid.uuid4().hex[:6]}@%h",
            "--without-gossip", "--without-mingle",
        ])  # fmt: skip
        return self.processes[-1]

    def web_workers(self) -> list[int]:
        """The pids of the web worker processes, which run Django: the children of
        granian's main process (``prefixhub web`` execs into it)."""
        from tests.resources import children

        return children(self.processes[0].pid)

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        """SIGKILL a process group at once: no clean-up, as a crash would."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def shell(self, code: str) -> str:
        """Run Python in this deployment's Django shell; what it prints."""
        return self.manage("shell", "--no-imports", "-c", code)

    def shell_process(self, code: str) -> subprocess.Popen[bytes]:
        """Start Python in this deployment's Django shell, in its own process group."""
        return subprocess.Popen(
            [sys.executable, "-m", "prefixhub.cli", "shell", "--no-imports", "-c", code],
            env=self.env, cwd=ROOT, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def _responds(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/", timeout=2) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def logs(self) -> str:
        return "\n".join(
            f"== {path.name}\n{path.read_text(errors='replace')[-4000:]}"
            for path in sorted(self.log_dir.glob("*.log"))
        )

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        for log in self._logs:
            log.close()
        if self.database:
            _drop_database(os.environ["DATABASE_URL"], self.database)


def service_or_skip(workdir: Path, env: dict[str, str] | None = None) -> LiveService:
    """Start the deployment; in CI a missing service fails, on a laptop it skips."""
    import pytest

    try:
        return LiveService(workdir, env=env).start()
    except Exception as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"live server unavailable here: {exc}")
        raise  # unreachable: skip raises
