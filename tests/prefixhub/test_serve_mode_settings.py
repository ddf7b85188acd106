"""The serve mode is checked when the settings load, before anything is served."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.live.service import ROOT


def check(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    child = {k: v for k, v in os.environ.items() if k != "STORAGE_BACKEND"}
    child.update(
        DJANGO_SETTINGS_MODULE="prefixhub.settings",
        PREFIXHUB_DATA_DIR=str(tmp_path),
        DATABASE_URL="",
        **env,
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT, env=child, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_redirect_mode_on_local_storage_is_refused_at_startup(tmp_path: Path) -> None:
    done = check(tmp_path, PREFIXHUB_SERVE_MODE="redirect")

    assert done.returncode != 0
    assert "PREFIXHUB_SERVE_MODE=redirect" in done.stderr
    assert "needs STORAGE_BACKEND=s3" in done.stderr


@pytest.mark.parametrize("mode", ["stream", "accel"])
def test_stream_and_accel_run_on_local_storage(tmp_path: Path, mode: str) -> None:
    done = check(tmp_path, PREFIXHUB_SERVE_MODE=mode)
    assert done.returncode == 0, done.stderr


def test_an_unknown_serve_mode_is_refused_by_name(tmp_path: Path) -> None:
    done = check(tmp_path, PREFIXHUB_SERVE_MODE="sendfile")

    assert done.returncode != 0
    assert "'stream', 'redirect' or 'accel', not 'sendfile'" in done.stderr
