"""Tier 3: sign up with email, confirm, log in, make an API key and upload with it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.artifacts import build_package
from tests.browser.conftest import screenshot, unique
from tests.live.clients import run_client
from tests.live.service import LiveService, wait_for

pytestmark = pytest.mark.browser

PASSWORD = "a long and unusual passphrase"


def confirmation_link(live: LiveService, email: str) -> str:
    """The confirmation link in the newest mail to ``email`` (file-based backend)."""

    def find() -> str | None:
        for path in sorted(live.mail_dir.glob("*"), key=lambda p: p.stat().st_mtime)[
            ::-1
        ]:
            text = path.read_text(errors="replace")
            if email in text:
                match = re.search(r"(http://\S+/accounts/confirm-email/\S+/)", text)
                if match:
                    return match.group(1)
        return None

    return str(wait_for(find, timeout=15))


def everything_logged(live: LiveService) -> str:
    logs = "".join(p.read_text(errors="replace") for p in live.log_dir.glob("*.log"))
    mails = "".join(p.read_text(errors="replace") for p in live.mail_dir.glob("*"))
    return logs + mails


def test_sign_up_confirm_log_in_create_a_key_and_upload_with_it(
    page: Any, live: LiveService, tmp_path: Path
) -> None:
    username = unique("dana")
    email = f"{username}@example.org"

    page.goto("/accounts/signup/")
    page.fill("#id_email", email)
    page.fill("#id_username", username)
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    screenshot(page, "accounts-signup")
    page.click("form.form-signup button[type=submit]")
    page.wait_for_url("**/accounts/confirm-email/")
    screenshot(page, "accounts-verification-sent")

    page.goto(confirmation_link(live, email))
    screenshot(page, "accounts-confirm-email")
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/accounts/login/**")

    page.fill("#id_login", username)
    page.fill("#id_password", PASSWORD)
    screenshot(page, "accounts-login")
    page.click("form.form-login button[type=submit]")
    page.wait_for_url(f"{live.url}/")
    assert page.locator(".user-menu .username").inner_text() == username

    page.locator(".user-menu summary").click()
    screenshot(page, "accounts-user-menu")
    page.get_by_role("link", name="Account settings").click()
    page.wait_for_url("**/settings/")
    assert email in page.content()
    screenshot(page, "accounts-settings")
    page.get_by_role("link", name="Email", exact=True).click()
    screenshot(page, "accounts-email")
    page.get_by_role("link", name="API keys", exact=True).click()
    page.wait_for_url("**/settings/api-keys/")
    screenshot(page, "accounts-api-keys-empty")
    page.fill("#id_name", "laptop")
    page.select_option("#id_expiry", "30")
    page.get_by_role("button", name="Create key").click()

    key = page.locator("#new-key").inner_text()
    assert re.fullmatch(r"phub-[A-Za-z0-9]{32}", key)
    assert key in page.locator("#pixi-command").inner_text()
    page.click("#copy-key")
    # The copy is asynchronous: expect() waits for the label to change.
    expect(page.locator("#copy-key")).to_have_text("Copied!")
    assert page.evaluate("navigator.clipboard.readText()") == key
    screenshot(page, "accounts-api-key-created")

    page.goto("/settings/api-keys/")
    assert key not in page.content()
    assert key[:11] in page.content()
    screenshot(page, "accounts-api-keys-list")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "accounts-api-keys-list-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    channel = unique("c")
    live.manage("createchannel", channel, "--owner", username)
    package = build_package(tmp_path, unique("pkg"), "1.0")
    result = run_client(
        "upload", files=[str(package)], url=live.url, channel=channel, api_key=key
    )
    assert result == {"ok": True}
    assert key not in everything_logged(live)


def test_account_pages_on_a_phone(page: Any, live: LiveService) -> None:
    username = unique("erin")
    live.manage("createuser", username, "--email", f"{username}@example.org")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/accounts/login/")
    screenshot(page, "accounts-login-phone")
    # The sign-in form fits the screen: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
