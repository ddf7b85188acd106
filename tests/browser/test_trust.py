"""Tier 3, issue 11: the website a team trusts, at desktop and phone sizes.

Commands are copied from the page with its Copy buttons and then run with the real
clients: pixi's through py-rattler, conda's with the conda CLI, rattler-build's
upload with py-rattler-build. Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.artifacts import build_package
from tests.browser.conftest import SIZES, screenshot, serious_violations, unique
from tests.browser.test_website import (
    api_upload,
    drop_files,
    item,
    log_in,
    make_channel,
    make_user,
)
from tests.live.clients import run_client
from tests.live.clients import upload as rattler_build_upload
from tests.live.conda_cli import Conda, install_conda
from tests.live.reader import wait_until_indexed
from tests.live.service import LiveService

pytestmark = pytest.mark.browser


@pytest.fixture(params=list(SIZES))
def sized(
    request: pytest.FixtureRequest, browser: Any, live: LiveService
) -> Iterator[Any]:
    """A page at desktop or phone size; ``page.size`` names it for screenshots."""
    context = browser.new_context(base_url=live.url, viewport=SIZES[request.param])
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live.url)
    page = context.new_page()
    page.set_default_timeout(15000)
    page.size = request.param
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, errors


def shot(page: Any, name: str) -> None:
    screenshot(page, f"trust-{name}-{page.size}")


def copy_command(page: Any, panel: str, title: str) -> str:
    """Show the client's tab, click the Copy button of the command under ``title``,
    and return what landed on the clipboard."""
    page.click(f"[role=tab][data-tab='{panel}']")
    block = page.locator(f"[data-panel='{panel}'] h4:text-is('{title}') + .codeblock")
    block.locator("button.copy").click()
    # The copy is asynchronous: read the clipboard once the button says it is done.
    expect(block.locator("button.copy")).to_have_text("Copied!")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == block.locator("code").inner_text().strip()
    return str(copied)


def publish(
    live: LiveService, tmp_path: Path, owner: str, **kw: Any
) -> tuple[str, Path]:
    name = make_channel(live, owner, **kw)
    pkg = build_package(
        tmp_path, unique("tool"), "1.0", summary="A tool", description="Longer words.",
        license="MIT", homepage="https://tool.example.org",
    )  # fmt: skip
    key = live.manage("createapikey", owner)
    api_upload(live, name, pkg, key)
    headers = {"Authorization": f"Bearer {key}"}
    wait_until_indexed(f"{live.url}/{name}", "noarch", pkg.name, headers)
    return name, pkg


def package_name(pkg: Path) -> str:
    return pkg.name.rsplit("-", 2)[0]


# --- 1. commands that work ----------------------------------------------------------


def test_commands_copied_from_a_public_package_page_install(
    sized: Any, live: LiveService, tmp_path: Path
) -> None:
    owner = make_user(live, "owner")
    name, pkg = publish(live, tmp_path, owner)
    pkg_name = package_name(pkg)
    sized.goto(f"/channels/{name}/packages/{pkg_name}")
    shot(sized, "package-page")

    add = shlex.split(copy_command(sized, "pixi", "Add the channel to your workspace"))
    install = shlex.split(copy_command(sized, "pixi", f"Install {pkg_name}"))
    assert add[:4] == ["pixi", "workspace", "channel", "add"]
    assert add[4] == f"{live.url}/{name}"  # PUBLIC_URL
    assert install[:2] == ["pixi", "add"] and "--channel" not in install
    result = run_client(
        "install", channel_url=add[4], specs=install[2:],
        workdir=str(tmp_path / "pixi"), platforms=["linux-64", "noarch"],
    )  # fmt: skip
    assert result["ok"], result
    assert result["solved"] == [pkg.name]

    conda = shlex.split(copy_command(sized, "conda", f"Install {pkg_name}"))
    assert conda[:3] == ["conda", "install", "--channel"]
    cli = Conda(install_conda(), tmp_path / "conda")
    env = str(cli.home / "env")
    created = cli.run("create", "-y", "-p", env)
    assert created.ok, created.output
    done = cli.run(*conda[1:], "-y", "-p", env, "--override-channels")
    assert done.ok, done.output
    assert list((Path(env) / "conda-meta").glob(f"{pkg_name}-1.0-*.json")), done.output


def test_the_upload_command_copied_by_a_contributor_uploads(
    sized: Any, live: LiveService, tmp_path: Path
) -> None:
    owner = make_user(live, "owner")
    name = make_channel(live, owner)
    log_in(sized, owner)
    sized.goto(f"/channels/{name}")
    command = shlex.split(copy_command(sized, "rattler-build", "Upload"))
    assert command[:3] == ["rattler-build", "upload", "prefix"]
    options = dict(zip(command[3:-1:2], command[4:-1:2], strict=True))
    assert options == {"--url": live.url, "--channel": name}
    assert command[-1] == "<file>.conda"

    pkg = build_package(tmp_path, unique("built"), "1.0")
    key = live.manage("createapikey", owner)
    result = rattler_build_upload(
        [str(pkg)], options["--url"], options["--channel"], api_key=key
    )
    assert result["ok"], result
    sized.reload()
    assert package_name(pkg) in sized.inner_text("table.packages")
    shot(sized, "channel-page-owner")


def test_private_channel_commands_authenticate(
    sized: Any, live: LiveService, tmp_path: Path
) -> None:
    owner = make_user(live, "owner")
    name, pkg = publish(live, tmp_path, owner, private=True)
    pkg_name = package_name(pkg)
    log_in(sized, owner)
    sized.goto(f"/channels/{name}/packages/{pkg_name}")
    shot(sized, "private-package-page")
    key = live.manage("createapikey", owner)

    conda = copy_command(sized, "conda", f"Install {pkg_name}")
    assert f"{live.url}/t/<API key>/{name}" in conda
    cli = Conda(install_conda(), tmp_path / "conda")
    env = str(cli.home / "env")
    assert cli.run("create", "-y", "-p", env).ok
    args = shlex.split(conda.replace("<API key>", key))[1:]
    done = cli.run(*args, "-y", "-p", env, "--override-channels")
    assert done.ok, done.output
    assert list((Path(env) / "conda-meta").glob(f"{pkg_name}-1.0-*.json")), done.output

    login = copy_command(sized, "pixi", "Sign in")
    host = login.split(" ")[3]
    assert login == f"pixi auth login {host} --token <API key>"
    assert host == urlsplit(live.url).netloc
    add = shlex.split(copy_command(sized, "pixi", "Add the channel to your workspace"))
    install = shlex.split(copy_command(sized, "pixi", f"Install {pkg_name}"))
    auth_file = tmp_path / "auth.json"  # what `pixi auth login HOST --token KEY` stores
    auth_file.write_text(json.dumps({host.split(":")[0]: {"BearerToken": key}}))
    result = run_client(
        "install", env={"RATTLER_AUTH_FILE": str(auth_file)}, channel_url=add[4],
        specs=install[2:], workdir=str(tmp_path / "pixi"),
        platforms=["linux-64", "noarch"],
    )  # fmt: skip
    assert result["ok"], result

    mamba = [
        sized.locator("[data-panel='mamba'] code").nth(i).inner_text() for i in range(2)
    ]
    assert mamba[0] == f"micromamba auth login {live.url} --bearer <API key>"
    assert mamba[1].startswith(f"micromamba install --channel {live.url}/{name} ")


def test_copy_works_over_plain_http_on_a_lan_name(
    sized: Any, live: LiveService
) -> None:
    owner = make_user(live, "owner")
    name = make_channel(live, owner)
    # A LAN name over http is not a secure context: no navigator.clipboard there.
    sized.add_init_script(
        """Object.defineProperty(window, "isSecureContext", {get: () => false});
        document.addEventListener("copy", (e) => {
            window.__copied = e.target.value ?? String(document.getSelection());
        }, true);"""
    )
    sized.goto(f"/channels/{name}")
    block = sized.locator("[data-panel='pixi'] .codeblock").first
    block.locator("button.copy").click()
    expect(block.locator("button.copy")).to_have_text("Copied!")
    assert (
        sized.evaluate("window.__copied")
        == f"pixi workspace channel add {live.url}/{name}"
    )


# --- 2. the channel URL opens the channel ------------------------------------------


def test_the_channel_url_opens_the_channel_page(sized: Any, live: LiveService) -> None:
    owner = make_user(live, "owner")
    name = make_channel(live, owner)
    sized.goto(f"/{name}")
    assert sized.url == f"{live.url}/channels/{name}"
    assert sized.inner_text("h1").startswith(name)


# --- 3. safe, confirmed actions ------------------------------------------------------


def test_transfer_and_removal_ask_first(sized: Any, live: LiveService) -> None:
    owner, heir, guest = (make_user(live, p) for p in ("owner", "heir", "guest"))
    name = make_channel(live, owner)
    log_in(sized, owner)
    sized.goto(f"/channels/{name}/settings/members")
    assert sized.input_value("#id_role") == "viewer"  # the least privilege
    for member, role in ((heir, "contributor"), (guest, "viewer")):
        sized.fill("#id_username", member)
        sized.select_option("#id_role", role)
        sized.click("button:has-text('Add member')")
        sized.wait_for_selector(f"text=Added {member}")
    shot(sized, "members")
    wide = sized.evaluate(
        """(width) => [...document.querySelectorAll("body *")]
            .filter((e) => e.getBoundingClientRect().right > width + 0.5)
            .map((e) => e.tagName + "." + e.className).slice(0, 8)""",
        SIZES[sized.size]["width"],
    )
    assert not wide, wide

    sized.click(f"tr:has-text('{guest}') a:has-text('Remove')")
    assert f"Remove {guest} from {name}?" in sized.inner_text("main")
    shot(sized, "confirm-remove")
    sized.click("a:has-text('Cancel')")
    assert guest in sized.inner_text("table")
    sized.click(f"tr:has-text('{guest}') a:has-text('Remove')")
    sized.click(f"button:has-text('Remove {guest}')")
    sized.wait_for_selector(f"text=Removed {guest}")
    assert guest not in sized.inner_text("table")

    sized.goto(f"/channels/{name}/settings/danger")
    sized.fill("#id_username", heir)
    shot(sized, "danger-zone")
    button = sized.locator("button:has-text('Transfer')")
    field = sized.locator("#id_username")
    if sized.size == "desktop":  # side by side, on the input's line
        assert abs(button.bounding_box()["y"] - field.bounding_box()["y"]) < 2
    else:  # stacked, aligned on the left edge
        assert abs(button.bounding_box()["x"] - field.bounding_box()["x"]) < 2
    button.click()
    assert f"Transfer {name} to {heir}?" in sized.inner_text("main")
    shot(sized, "confirm-transfer")
    sized.goto(f"/channels/{name}/settings")  # nothing happened yet: still the owner
    assert sized.inner_text("h1") == "General"
    sized.goto(f"/channels/{name}/settings/danger")
    sized.fill("#id_username", heir)
    sized.click("button:has-text('Transfer')")
    sized.click(f"button:has-text('Transfer to {heir}')")
    sized.wait_for_url(f"**/channels/{name}")
    assert f"{heir} now owns {name}" in sized.inner_text(".messages")


def test_refreshing_the_new_key_page_creates_no_second_key(
    sized: Any, live: LiveService
) -> None:
    user = make_user(live, "keys")
    log_in(sized, user)
    sized.goto("/settings/api-keys/")
    sized.fill("#id_name", "laptop")
    sized.click("button:has-text('Create key')")
    secret = sized.inner_text("#new-key")
    assert secret.startswith("phub-")
    assert sized.url.endswith("/settings/api-keys/")  # redirected after the POST
    shot(sized, "api-key-created")
    sized.reload()
    assert sized.locator("#new-key").count() == 0
    assert secret not in sized.content()
    assert sized.locator(".keys-table tbody tr").count() == 1


def test_a_duplicate_upload_can_be_replaced(
    sized: Any, live: LiveService, tmp_path: Path
) -> None:
    owner = make_user(live, "owner")
    name = make_channel(live, owner)
    pkg = build_package(tmp_path, unique("dup"), "1.0")
    log_in(sized, owner)
    sized.goto(f"/channels/{name}/settings/upload")
    drop_files(sized, [(pkg.name, pkg.read_bytes())])
    sized.wait_for_selector(
        f".upload-item[data-filename='{pkg.name}'][data-state=done]"
    )
    sized.reload()
    drop_files(sized, [(pkg.name, pkg.read_bytes())])
    row = item(sized, pkg.name)
    sized.wait_for_selector(
        f".upload-item[data-filename='{pkg.name}'][data-state=failed]"
    )
    assert "already exists" in row.inner_text()
    shot(sized, "upload-duplicate")
    row.locator("button:has-text('Replace it')").click()
    sized.wait_for_selector(
        f".upload-item[data-filename='{pkg.name}'][data-state=done]"
    )
    assert sized.locator("#replace").count() == 1  # or tick this before dropping


# --- 4. package pages ------------------------------------------------------------


def test_package_pages_search_and_home_are_worth_reading(
    sized: Any, live: LiveService, tmp_path: Path
) -> None:
    owner = make_user(live, "owner")
    name = make_channel(live, owner)
    key = live.manage("createapikey", owner)
    lib = build_package(tmp_path, unique("lib"), "2.0", summary="The library")
    app = build_package(
        tmp_path, unique("app"), "1.0", depends=[f"{package_name(lib)} >=2"],
        summary="The app", description="It does\nmany things.", license="MIT",
        homepage="https://app.example.org",
    )  # fmt: skip
    for pkg in (lib, app):
        api_upload(live, name, pkg, key)
    log_in(sized, owner)

    sized.goto(f"/channels/{name}/packages/{package_name(app)}")
    about = sized.inner_text("main")
    for text in (
        "The app",
        "It does",
        "many things.",
        "MIT",
        "https://app.example.org",
    ):
        assert text in about
    matrix = sized.inner_text("table.matrix")
    assert "h0_0" in matrix and owner in matrix  # build, time and uploader
    shot(sized, "package-about")
    sized.click(f"ul.deps a:has-text('{package_name(lib)}')")
    sized.wait_for_url(f"**/packages/{package_name(lib)}")

    sized.goto(f"/?q={package_name(lib)}")
    results = sized.inner_text("table.search-results")
    assert "2.0" in results and "The library" in results
    shot(sized, "search")

    sized.goto("/")
    assert sized.locator(f"a.channel-tile[href='/channels/{name}']").count() == 1
    tile = sized.inner_text(f"a.channel-tile[href='/channels/{name}']")
    assert "2 packages" in tile and "owner" in tile
    shot(sized, "home")


# --- 5. phone layout --------------------------------------------------------------


def test_settings_menu_shows_every_section_and_broken_logos_show_a_letter(
    sized: Any, live: LiveService
) -> None:
    owner = make_user(live, "owner")
    name = unique("logo")
    log_in(sized, owner)
    sized.goto("/channels/new")
    sized.fill("#id_name", name)
    sized.fill("#id_logo_url", "https://127.0.0.1:1/missing.png")
    sized.click("button:has-text('Create channel')")
    sized.wait_for_url(f"**/channels/{name}")
    sized.wait_for_selector("span.channel-logo-letter")
    assert sized.locator("img.channel-logo").count() == 0
    assert sized.inner_text("span.channel-logo-letter") == name[0].upper()
    shot(sized, "broken-logo")

    sized.goto(f"/channels/{name}/settings/activity")
    width = SIZES[sized.size]["width"]
    for link in sized.locator(".channel-menu a").all():
        box = link.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, link.inner_text()
    assert sized.evaluate("document.documentElement.scrollWidth") <= width
    shot(sized, "settings-menu")


# --- 6. words and small things ---------------------------------------------------


def test_words_and_small_things(sized: Any, live: LiveService, tmp_path: Path) -> None:
    sized.goto("/")
    header = sized.inner_text("header")
    assert "Sign in" in header and "Sign up" in header and "Log in" not in header
    owner, member = make_user(live, "owner"), make_user(live, "bob")
    name = make_channel(live, owner)
    log_in(sized, owner)
    sized.goto(f"/channels/{name}/settings/members")
    sized.fill("#id_username", member)
    sized.click("button:has-text('Add member')")
    sized.select_option(f"select[aria-label='Role of {member}']", "contributor")
    sized.click(f"tr:has-text('{member}') button:has-text('Change')")
    assert f"{member} is now a contributor." in sized.inner_text(".messages")

    sized.goto(f"/channels/{name}/settings/upload")
    good = build_package(tmp_path, "renamed", "1.0")
    drop_files(sized, [("other-1.0-h0_0.conda", good.read_bytes())])
    sized.wait_for_selector(".upload-item[data-state=failed]")
    message = sized.inner_text(".upload-item .upload-status")
    assert message.startswith("The file name does not match its metadata"), message
    # A drop beside the zone stays on the page.
    url = sized.url
    prevented = sized.evaluate(
        """() => {
            const event = new DragEvent("drop", {bubbles: true, cancelable: true,
                                                 dataTransfer: new DataTransfer()});
            document.body.dispatchEvent(event);
            return event.defaultPrevented;
        }"""
    )
    assert prevented and sized.url == url
    shot(sized, "upload-errors")

    sized.goto("/accounts/3rdparty/")
    assert "Add a Third-Party Account" not in sized.inner_text("main")
    shot(sized, "connected-accounts")


# --- 7. accessibility ------------------------------------------------------------


def test_keyboard_skip_link_tabs_and_readable_commands(
    sized: Any, live: LiveService
) -> None:
    owner = make_user(live, "owner")
    name = make_channel(live, owner)
    sized.goto(f"/channels/{name}")
    sized.keyboard.press("Tab")
    assert sized.evaluate("document.activeElement.textContent") == "Skip to content"
    sized.keyboard.press("Enter")
    assert sized.evaluate("location.hash") == "#content"

    sized.focus("[role=tab][data-tab='pixi']")
    sized.keyboard.press("ArrowRight")
    focused = sized.evaluate("document.activeElement.dataset.tab")
    assert focused == "conda"
    assert sized.get_attribute("[data-tab='conda']", "aria-selected") == "true"
    assert sized.is_visible("[data-panel='conda']")
    assert not sized.is_visible("[data-panel='pixi']")
    sized.keyboard.press("End")
    assert sized.evaluate("document.activeElement.dataset.tab") == "rattler-build"
    sized.keyboard.press("ArrowRight")  # wraps around
    assert sized.evaluate("document.activeElement.dataset.tab") == "pixi"

    sizes = sized.eval_on_selector_all(
        ".codeblock code",
        "els => els.map(e => parseFloat(getComputedStyle(e).fontSize))",
    )
    assert sizes and min(sizes) >= 13, sizes

    log_in(sized, owner)
    sized.goto("/channels/new")
    described = sized.get_attribute("#id_description", "aria-describedby")
    assert "id_description_helptext" in described.split()
    assert (
        sized.locator(
            "fieldset:has(legend:text-is('Visibility')) input[type=radio]"
        ).count()
        == 2
    )


def _main_pages(live: LiveService, tmp_path: Path) -> tuple[str, list[str]]:
    owner = make_user(live, "axe")
    name, pkg = publish(live, tmp_path, owner)
    pages = [
        "/", f"/?q={package_name(pkg)[:4]}", f"/channels/{name}",
        f"/channels/{name}/packages/{package_name(pkg)}", "/channels/new",
        f"/channels/{name}/settings", f"/channels/{name}/settings/members",
        f"/channels/{name}/settings/danger", f"/channels/{name}/settings/upload",
        f"/channels/{name}/settings/activity", "/settings/", "/settings/api-keys/",
        "/accounts/3rdparty/", "/channels/no-such-channel",
    ]  # fmt: skip
    return owner, pages


@pytest.fixture
def axe_page(
    browser: Any, live: LiveService, request: pytest.FixtureRequest
) -> Iterator[Any]:
    # axe is injected as a script tag, which a Content-Security-Policy without
    # inline scripts would refuse: this context alone sets the policy aside.
    size = request.param
    context = browser.new_context(
        base_url=live.url, viewport=SIZES[size], bypass_csp=True
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    page.size = size
    yield page
    context.close()


@pytest.mark.parametrize("axe_page", list(SIZES), indirect=True)
def test_axe_finds_no_serious_problems_on_the_main_pages(
    axe_page: Any, live: LiveService, tmp_path: Path, axe_js: Path
) -> None:
    owner, pages = _main_pages(live, tmp_path)
    found: dict[str, list[str]] = {}
    for path in ["/accounts/login/", "/accounts/signup/", "/"]:
        axe_page.goto(path)
        found[f"anonymous {path}"] = serious_violations(axe_page, axe_js)
    log_in(axe_page, owner)
    for path in pages:
        axe_page.goto(path)
        found[path] = serious_violations(axe_page, axe_js)
    problems = {path: v for path, v in found.items() if v}
    assert not problems, json.dumps(problems, indent=1)
    assert len(found) == len(pages) + 3
