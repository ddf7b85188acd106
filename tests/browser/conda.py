"""The real conda CLI (wheels in ``../shared/clients``) for running the conda
commands the website shows. A venv of its own, cached in the temp folder; a
``CONDARC`` naming no default channel. (issue 12 builds a fuller fixture in
``tests/live/conda_cli.py``; this one is the small part the browser tests need.)
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.live.service import ROOT

CONDA_VERSION = "26.7.1.post56"
CLIENTS = Path(
    os.environ.get("PREFIXHUB_CONDA_CLIENTS", ROOT.parent / "shared" / "clients")
)
CONDARC = """\
channels: []
default_channels: []
solver: classic
report_errors: false
notify_outdated_conda: false
always_yes: true
pkgs_dirs: [{home}/pkgs]
envs_dirs: [{home}/envs]
"""


def conda_python() -> Path:
    """The python of a venv with conda installed (made once); skips without wheels
    on a laptop, fails in CI."""
    wheels = sorted(CLIENTS.glob("*.whl")) if CLIENTS.is_dir() else []
    if not any(w.name.startswith(f"conda-{CONDA_VERSION}-") for w in wheels):
        reason = f"no conda wheels in {CLIENTS} (see ../shared/clients/README.md)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    digest = hashlib.sha256(b"".join(w.read_bytes() for w in wheels)).hexdigest()
    venv = Path(tempfile.gettempdir()) / f"prefixhub-browser-conda-{digest[:12]}"
    with open(f"{venv}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one installer at a time on this machine
        if not (venv / ".installed").exists():
            subprocess.run(
                [sys.executable, "-m", "venv", "--clear", str(venv)], check=True
            )
            subprocess.run(
                [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                 "--disable-pip-version-check", "--find-links", str(CLIENTS),
                 f"conda=={CONDA_VERSION}"],
                check=True, timeout=900,
            )  # fmt: skip
            (venv / ".installed").touch()
    return venv / "bin" / "python"


def run_conda(python: Path, home: Path, args: list[str]) -> tuple[int, str]:
    """``python -m conda ARGS`` with its own configuration and caches under ``home``."""
    home.mkdir(parents=True, exist_ok=True)
    condarc = home / "condarc"
    condarc.write_text(CONDARC.format(home=home))
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("CONDA_", "MAMBA_"))
    }
    env.update(CONDARC=str(condarc), HOME=str(home), NO_PROXY="*")
    done = subprocess.run(
        [str(python), "-m", "conda", *args], env=env, cwd=home,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    return done.returncode, done.stdout + done.stderr
