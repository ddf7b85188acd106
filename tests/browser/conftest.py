"""Tier 3: the website in headless Chromium (the system's), driven by Playwright."""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.live.service import ROOT, LiveService

CHROMIUM = os.environ.get("PREFIXHUB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            raise RuntimeError(f"Chromium is missing at {CHROMIUM}")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any, live: LiveService) -> Iterator[Any]:
    context = browser.new_context(
        base_url=live.url, viewport={"width": 1280, "height": 860}
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live.url)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/screenshots/ for review."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^a-z0-9_-]+', '-', name.lower())}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}"


AXE_VERSION = "4.14.1"
AXE_DIR = ROOT / "test-artifacts" / "axe"
AXE_JS = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
SIZES = {
    "desktop": {"width": 1280, "height": 800},
    "phone": {"width": 390, "height": 844},
}


@pytest.fixture(scope="session")
def axe_js() -> Path:
    """axe-core's browser bundle, from the npm registry into a git-ignored folder
    (``.ci/run`` installs it up front; a developer's first run fetches it)."""
    if not AXE_JS.exists():
        done = subprocess.run(
            ["npm", "install", "--no-save", "--no-audit", "--no-fund",
             "--prefix", str(AXE_DIR), f"axe-core@{AXE_VERSION}"],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        if done.returncode != 0 or not AXE_JS.exists():
            reason = f"could not install axe-core with npm: {done.stderr[-500:]}"
            if os.environ.get("CI"):
                raise RuntimeError(reason)
            pytest.skip(reason)
    return AXE_JS


def serious_violations(page: Any, axe: Path) -> list[str]:
    """Run axe-core on the page; its serious and critical violations, readable."""
    page.add_script_tag(path=str(axe))
    result = page.evaluate("async () => await axe.run(document)")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(n["target"]) for n in v["nodes"][:3])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
