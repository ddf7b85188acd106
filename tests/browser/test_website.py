"""Tier 3: the website in headless Chromium, against the live server and worker."""

from __future__ import annotations

import base64
import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.artifacts import build_package
from tests.browser.conftest import screenshot, unique
from tests.live.clients import run_client
from tests.live.reader import wait_until_indexed
from tests.live.service import LiveService

pytestmark = pytest.mark.browser

PASSWORD = "pass-word-123"
PHONE = {"width": 390, "height": 844}


def make_user(live: LiveService, prefix: str) -> str:
    username = unique(prefix)
    live.manage(
        "createuser", username, "--email", f"{username}@example.org",
        "--password", PASSWORD,
    )  # fmt: skip
    return username


def make_channel(
    live: LiveService, owner: str, *, private: bool = False, prefix: str = "ch"
) -> str:
    name = unique(prefix)
    live.manage("createchannel", name, "--owner", owner, *(["--private"] * private))
    return name


def log_in(page: Any, username: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_url(lambda url: "/accounts/login" not in url)


def new_page(page: Any, live: LiveService) -> Any:
    """A second browser session (another person) on the same live server."""
    context = page.context.browser.new_context(
        base_url=live.url, viewport={"width": 1280, "height": 860}
    )
    other = context.new_page()
    other.set_default_timeout(15000)
    return other


def drop_files(page: Any, files: list[tuple[str, bytes]]) -> None:
    """Drop files on the upload page's drop area, as a person dragging them would."""
    payload = [
        {"name": name, "b64": base64.b64encode(data).decode()} for name, data in files
    ]
    transfer = page.evaluate_handle(
        """(files) => {
            const dt = new DataTransfer();
            for (const f of files) {
                const bytes = Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0));
                dt.items.add(new File([bytes], f.name,
                                      {type: "application/octet-stream"}));
            }
            return dt;
        }""",
        payload,
    )
    page.dispatch_event("#dropzone", "dragover", {"dataTransfer": transfer})
    page.dispatch_event("#dropzone", "drop", {"dataTransfer": transfer})


def api_upload(live: LiveService, channel: str, path: Path, key: str) -> None:
    """Upload with an API key, as pixi does (a raw body)."""
    request = urllib.request.Request(
        f"{live.url}/api/v1/upload/{channel}",
        data=path.read_bytes(),
        headers={"Authorization": f"Bearer {key}", "X-File-Name": path.name},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200


def item(page: Any, filename: str) -> Any:
    return page.locator(f".upload-item[data-filename='{filename}']")


def test_create_a_channel(page: Any, live: LiveService) -> None:
    alice = make_user(live, "alice")
    log_in(page, alice)
    name = unique("made")

    page.click("text=New channel")
    page.fill("#id_name", "api")
    page.wait_for_selector(".name-status.bad")
    assert "reserved" in page.inner_text("#name-status")
    page.fill("#id_name", name)
    page.wait_for_selector(".name-status.ok")
    page.fill("#id_description", "Packages made in the browser test.")
    page.fill("#id_logo_url", "https://github.com/prefix-dev.png")
    screenshot(page, "website-new-channel")
    page.click("button[type=submit]:has-text('Create channel')")

    page.wait_for_url(f"**/channels/{name}")
    assert page.inner_text("h1").startswith(name)
    assert f"{live.url}/{name}" in page.inner_text("aside")
    assert "No packages yet" in page.content()
    screenshot(page, "website-channel-empty")


def test_drag_and_drop_two_valid_files_and_one_invalid(
    page: Any, live: LiveService, tmp_path: Path
) -> None:
    owner = make_user(live, "owner")
    name = make_channel(live, owner)
    lib = build_package(tmp_path, "dndlib", "1.0", license="MIT")
    app = build_package(
        tmp_path, "dndapp", "2.0", platform="linux-64", depends=["dndlib"],
        tar_bz2=True,
    )  # fmt: skip
    log_in(page, owner)
    page.goto(f"/channels/{name}/settings/upload")
    screenshot(page, "website-upload-empty")

    drop_files(
        page,
        [
            (lib.name, lib.read_bytes()),
            (app.name, app.read_bytes()),
            ("broken-1.0-0.conda", b"this is not a conda package"),
        ],
    )

    for filename in (lib.name, app.name, "broken-1.0-0.conda"):
        row = item(page, filename)
        page.wait_for_selector(
            f".upload-item[data-filename='{filename}'][data-state]", timeout=30000
        )
        assert row.locator("[role=progressbar]").get_attribute("aria-valuenow") == "100"
    screenshot(page, "website-upload-results")
    for done in (lib.name, app.name):
        status = item(page, done).locator(".upload-status").inner_text()
        assert item(page, done).get_attribute("data-state") == "done", status
    broken = item(page, "broken-1.0-0.conda")
    assert broken.get_attribute("data-state") == "failed"
    message = broken.locator(".upload-status").inner_text()
    assert message and "HTTP" not in message, message

    page.goto(f"/channels/{name}")
    table = page.inner_text("table.packages")
    assert "dndlib" in table
    assert "dndapp" in table
    assert "broken" not in table
    screenshot(page, "website-channel-page")
    page.set_viewport_size(PHONE)
    screenshot(page, "website-channel-page-phone")
    page.set_viewport_size({"width": 1280, "height": 860})

    page.click("a.name:has-text('dndapp')")
    page.wait_for_url(f"**/channels/{name}/packages/dndapp")
    details = page.inner_text("#files")
    assert app.name in details
    assert "dndlib" in details  # depends
    assert "SHA-256" in details
    assert f"{live.url}/{name}" in page.inner_text("aside")
    screenshot(page, "website-package-page")
    page.set_viewport_size(PHONE)
    screenshot(page, "website-package-page-phone")


def test_a_new_member_sees_the_private_channel_and_installs_from_it(
    page: Any, live: LiveService, tmp_path: Path
) -> None:
    owner = make_user(live, "owner")
    member = make_user(live, "member")
    name = make_channel(live, owner, private=True, prefix="priv")
    pkg = build_package(tmp_path, "secretpkg", "1.0")
    api_upload(live, name, pkg, live.manage("createapikey", owner))
    log_in(page, owner)
    page.goto(f"/channels/{name}/settings/members")
    page.fill("#id_username", member)
    page.select_option("#id_role", "viewer")
    page.click("button:has-text('Add member')")
    page.wait_for_selector(f"text=Added {member}")
    assert member in page.inner_text("table")
    screenshot(page, "website-members")

    other = new_page(page, live)
    log_in(other, member)
    other.goto("/")
    assert name in other.inner_text("main")
    other.click(f".channel-tile:has-text('{name}')")
    assert "secretpkg" in other.inner_text("table.packages")
    assert other.locator(".page-head-actions a:has-text('Settings')").count() == 0
    screenshot(other, "website-member-sees-private-channel")
    other.context.close()

    key = live.manage("createapikey", member, "--name", "browser-test")
    base = f"{live.url}/{name}"
    wait_until_indexed(base, "noarch", pkg.name, {"Authorization": f"Bearer {key}"})
    auth_file = tmp_path / "auth.json"
    auth_file.write_text(json.dumps({"127.0.0.1": {"BearerToken": key}}))
    result = run_client(
        "install", env={"RATTLER_AUTH_FILE": str(auth_file)}, channel_url=base,
        specs=["secretpkg"], workdir=str(tmp_path / "client"),
        platforms=["linux-64", "noarch"],
    )  # fmt: skip
    assert result["ok"], result
    assert result["solved"] == [pkg.name]


def test_transfer_ownership(page: Any, live: LiveService) -> None:
    owner = make_user(live, "owner")
    heir = make_user(live, "heir")
    name = make_channel(live, owner)
    log_in(page, owner)
    page.goto(f"/channels/{name}/settings/members")
    page.fill("#id_username", heir)
    page.click("button:has-text('Add member')")
    page.wait_for_selector(f"text=Added {heir}")

    page.goto(f"/channels/{name}/settings/danger")
    page.fill("#id_username", heir)
    screenshot(page, "website-danger-zone")
    page.click("button:has-text('Transfer')")
    page.click(f"button:has-text('Transfer to {heir}')")  # the confirmation

    page.wait_for_url(f"**/channels/{name}")
    assert f"{heir} now owns {name}" in page.inner_text(".messages")
    assert page.locator(".page-head-actions a:has-text('Settings')").count() == 0
    assert page.locator("a:has-text('Upload packages')").count() == 1  # contributor
    screenshot(page, "website-after-transfer")
    response = page.goto(f"/channels/{name}/settings")
    assert response.status == 403
    screenshot(page, "website-403")


def test_delete_a_channel(page: Any, live: LiveService, tmp_path: Path) -> None:
    owner = make_user(live, "owner")
    name = make_channel(live, owner)
    log_in(page, owner)
    page.goto(f"/channels/{name}/settings/danger")
    button = page.locator("button:has-text('Delete channel')")
    assert button.is_disabled()
    page.fill("#id_confirm", name[:-1])
    assert button.is_disabled()
    page.fill("#id_confirm", name)
    assert button.is_enabled()
    button.click()

    page.wait_for_url(lambda url: url.rstrip("/") == live.url)
    assert f"Deleted channel {name}" in page.inner_text(".messages")
    screenshot(page, "website-home-after-delete")
    response = page.goto(f"/channels/{name}")
    assert response.status == 404
    screenshot(page, "website-404")
