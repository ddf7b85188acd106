"""The site's own pages pass its Content-Security-Policy: Chromium blocks nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.artifacts import build_package
from tests.browser.conftest import unique
from tests.browser.test_website import PASSWORD, api_upload, log_in
from tests.live.service import LiveService

pytestmark = pytest.mark.browser


def _visit(page: Any, url: str, violations: list[str]) -> None:
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_load_state("networkidle")
    assert violations == [], f"{url}: {violations}"


def test_the_main_pages_and_the_admin_break_no_rule_of_the_policy(
    page: Any, live: LiveService, tmp_path: Path
) -> None:
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    _visit(page, "/accounts/login/", violations)
    _visit(page, "/accounts/signup/", violations)

    staff = unique("csp")
    live.manage(
        "createuser", staff, "--email", f"{staff}@example.org",
        "--password", PASSWORD, "--superuser",
    )  # fmt: skip
    channel = unique("csp")
    live.manage("createchannel", channel, "--owner", staff)
    key = live.manage("createapikey", staff)
    api_upload(live, channel, build_package(tmp_path, "csptool", "1.0"), key)
    log_in(page, staff)
    for url in (
        "/",
        "/channels/new",
        f"/channels/{channel}",
        f"/channels/{channel}/packages/csptool",
        f"/channels/{channel}/settings",
        f"/channels/{channel}/settings/members",
        f"/channels/{channel}/settings/upload",
        f"/channels/{channel}/settings/danger",
        "/settings/",
        "/settings/api-keys/",
        "/admin/",
        "/admin/channels/channel/",
        "/admin/packages/packagefile/",
    ):
        _visit(page, url, violations)
