"""The pure core imports no Django, only the stdlib and the format libraries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Imports each core module in turn and reports the top-level modules it pulled in.
_PROBE = """
import json, sys
def tops():
    return sorted({name.partition(".")[0] for name in sys.modules})
before = set(tops())
import channels.repodata
after_repodata = set(tops())
import packages.artifact
after_artifact = set(tops())
print(json.dumps({
    "repodata": sorted(after_repodata - before),
    "artifact": sorted(after_artifact - after_repodata),
    "all": sorted(sys.modules),
}))
"""

# Stdlib modules are filtered out below; these are the format libraries.
# cython_runtime is a built-in module that Cython extensions (msgpack) register.
ALLOWED = {
    "repodata": {"channels", "msgpack", "zstandard"},
    "artifact": {"packages", "zstandard"},
}


@pytest.fixture(scope="module")
def imported() -> dict[str, list[str]]:
    # A fresh interpreter: this one already has Django loaded by pytest-django.
    result = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
    )
    return json.loads(result.stdout)


def test_the_core_imports_no_django(imported: dict[str, list[str]]) -> None:
    assert [m for m in imported["all"] if m.startswith("django")] == []


@pytest.mark.parametrize("module", ["repodata", "artifact"])
def test_the_core_imports_only_the_stdlib_and_format_libraries(
    imported: dict[str, list[str]], module: str
) -> None:
    third_party = {
        name
        for name in imported[module]
        if name not in sys.stdlib_module_names
        and not name.startswith("_")
        and name != "cython_runtime"
    }
    assert third_party <= ALLOWED[module]
