"""The real conda command line, installed from ``../shared/clients``, for live tests.

conda is not installable from PyPI, so the wheels next to the checkout (built from
conda's upstream sources) go into a venv of their own; their dependencies come from
PyPI. The venv is cached in the temp folder, keyed on the wheels, so reruns are
fast. Each ``Conda`` gets its own ``CONDARC`` naming no default channel, its own
package cache and envs folder. Without the wheels the tests skip with one line; in
CI (``CI=true``) they fail instead.

The ``conda_env`` fixture is registered in ``tests/conftest.py``::

    from tests.live.conda_cli import Conda

    def test_it(conda_env, tmp_path):
        conda = Conda(conda_env, tmp_path / "conda")
        done = conda.run("create", "-y", "-p", str(tmp_path / "env"),
                         "--override-channels", "-c", url, "demo")
        assert done.returncode == 0, done.output
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.live.service import ROOT

CONDA_VERSION = "26.7.1.post56"
# Next to the checkout (the shared product folder), or wherever this variable says.
CLIENTS = Path(
    os.environ.get("PREFIXHUB_CONDA_CLIENTS", ROOT.parent / "shared" / "clients")
)
_CONDARC = """\
channels: []
default_channels: []
channel_priority: flexible
solver: classic
auto_update_conda: false
notify_outdated_conda: false
report_errors: false
show_channel_urls: true
always_yes: true
pkgs_dirs: [{pkgs}]
envs_dirs: [{envs}]
"""
# conda reads these from the environment; a developer's settings must not leak in.
_SCRUB_PREFIXES = ("CONDA_", "MAMBA_", "_CE_")


def _wheels() -> list[Path]:
    return sorted(CLIENTS.glob("*.whl")) if CLIENTS.is_dir() else []


def _venv_dir(wheels: list[Path]) -> Path:
    key = hashlib.sha256()
    for wheel in wheels:
        key.update(wheel.name.encode() + hashlib.sha256(wheel.read_bytes()).digest())
    key.update(sys.version.encode())
    return Path(tempfile.gettempdir()) / f"prefixhub-conda-{key.hexdigest()[:16]}"


def install_conda() -> Path:
    """The python of a venv holding conda (created on first use); skip if no wheels."""
    wheels = _wheels()
    if not any(w.name.startswith(f"conda-{CONDA_VERSION}-") for w in wheels):
        reason = (
            f"conda wheels not found in {CLIENTS} (see ../shared/clients/README.md)"
        )
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    venv = _venv_dir(wheels)
    python = venv / "bin" / "python"
    with open(f"{venv}.lock", "w") as lock:
        # One installer at a time, across test sessions on this machine.
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (venv / ".installed").exists():
            subprocess.run(
                [sys.executable, "-m", "venv", "--clear", str(venv)], check=True
            )
            subprocess.run(
                [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                 "--find-links", str(CLIENTS), f"conda=={CONDA_VERSION}"],
                check=True, timeout=600,
            )  # fmt: skip
            (venv / ".installed").touch()
    return python


@pytest.fixture(scope="session")
def conda_env() -> Path:
    """The python of the conda venv (session-wide)."""
    return install_conda()


@dataclass
class Result:
    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


class Conda:
    """``python -m conda`` with a configuration and caches of its own under ``home``."""

    def __init__(self, python: Path, home: Path) -> None:
        self.python = python
        self.home = home
        self.pkgs = home / "pkgs"
        self.envs = home / "envs"
        home.mkdir(parents=True, exist_ok=True)
        self.condarc = home / "condarc"
        self.condarc.write_text(_CONDARC.format(pkgs=self.pkgs, envs=self.envs))

    def environment(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(_SCRUB_PREFIXES) and k not in ("NETRC", "PYTHONPATH")
        }
        env.update(
            CONDARC=str(self.condarc),
            CONDA_PKGS_DIRS=str(self.pkgs),
            CONDA_ENVS_DIRS=str(self.envs),
            HOME=str(self.home),  # no ~/.condarc, ~/.netrc or ~/.conda of the user
            NO_PROXY="*",
        )
        return env

    def run(self, *args: str, timeout: float = 300) -> Result:
        done = subprocess.run(
            [str(self.python), "-m", "conda", *args],
            env=self.environment(), cwd=self.home, capture_output=True, text=True,
            timeout=timeout,
        )  # fmt: skip
        return Result(done.returncode, done.stdout + done.stderr)

    def create(self, prefix: Path, channel_url: str, *specs: str) -> Result:
        """``conda create`` from this one channel only."""
        return self.run(
            "create", "-y", "-p", str(prefix), "--override-channels", "-c", channel_url,
            *specs,
        )  # fmt: skip

    def partial_files(self) -> Iterator[Path]:
        return self.pkgs.glob("*.partial")
