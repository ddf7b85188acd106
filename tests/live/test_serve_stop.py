"""``prefixhub serve`` bound to every interface: what it announces, and a clean stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.live.service import free_port, wait_for
from tests.live.test_serve import _SERVER_VARIABLES, _prefixhub, _responds

pytestmark = pytest.mark.live


def test_serve_on_all_interfaces_announces_a_usable_url_and_stops_cleanly(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in _SERVER_VARIABLES}
    env["PREFIXHUB_DATA_DIR"] = str(tmp_path / "data")
    port = free_port()
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [_prefixhub(), "serve", "--host", "0.0.0.0", "--port", str(port)],  # noqa: S104
            env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        wait_for(
            lambda: _responds(f"http://127.0.0.1:{port}/"), timeout=90, interval=0.3
        )
        time.sleep(2)  # the worker and beat settle, as in normal use
    finally:
        started = time.monotonic()
        os.killpg(server.pid, signal.SIGINT)  # Ctrl-C
        try:
            code = server.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            raise
    stopped_after = time.monotonic() - started
    output = log_path.read_text(errors="replace")
    print(f"\nserve stopped {stopped_after:.2f} s after Ctrl-C")
    assert code == 0, output[-3000:]
    announced = next(line for line in output.splitlines() if "Serving on" in line)
    assert "0.0.0.0" not in announced  # noqa: S104
    assert f"http://{socket.gethostname()}:{port}/" in announced
    assert "ERROR" not in output and "Traceback" not in output, output[-3000:]
    # Measured about 7 s (Celery's warm shutdown); a safety net for a busy machine.
    assert stopped_after < 30, f"serve took {stopped_after:.1f} s to stop"
