"""Settings are read once at import: probe them in a fresh process with a given env."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from typing import Any

from tests.live.service import ROOT

# What a deployment may set; a probe starts from none of them (the embedded default).
_DEPLOYMENT_VARIABLES = ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL",
                         "SECRET_KEY", "ALLOWED_HOSTS", "PUBLIC_URL", "DEBUG",
                         "EMAIL_HOST", "EMAIL_BACKEND", "DJANGO_SETTINGS_MODULE",
                         "STORAGE_BACKEND", "CELERY_TASK_ALWAYS_EAGER")  # fmt: skip

_PROBE = """
import json, sys
from django.conf import settings
try:
    values = [getattr(settings, name) for name in sys.argv[1:]]
except Exception as exc:
    print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
else:
    print(json.dumps({"values": values}, default=str))
"""


def probe(*names: str, data_dir: str | None = None, **env: str) -> dict[str, Any]:
    """``{"values": [...]}`` of the named settings, or ``{"error": "..."}``."""
    full = {k: v for k, v in os.environ.items() if k not in _DEPLOYMENT_VARIABLES}
    full["DJANGO_SETTINGS_MODULE"] = "prefixhub.settings"
    with tempfile.TemporaryDirectory() as scratch:
        full["PREFIXHUB_DATA_DIR"] = data_dir or scratch
        full.update(env)
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, *names],
            env=full, cwd=ROOT, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    lines = done.stdout.strip().splitlines()
    if not lines:
        return {"error": done.stderr.strip().splitlines()[-1]}
    return dict(json.loads(lines[-1]))


def settings_of(name: str, **env: str) -> Any:
    result = probe(name, **env)
    assert "values" in result, result
    return result["values"][0]
