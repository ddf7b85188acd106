"""Home / explore, creating a channel, and the channel page."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from channels.models import Activity, Channel, Membership
from tests.factories import make_channel
from tests.packages.rows import add_rows, package_row


@pytest.fixture
def channels(channel: Any, private_channel: Any) -> tuple[Any, Any]:
    add_rows(channel, package_row(channel, "numpy", "1.26", subdir="linux-64"))
    add_rows(private_channel, package_row(private_channel, "hushpkg", "0.1"))
    return channel, private_channel


def test_home_lists_public_channels_to_anonymous_visitors(
    client: Client, channels: Any
) -> None:
    response = client.get("/")

    assert response.status_code == 200
    assert b"demo" in response.content
    assert b"secret" not in response.content


def test_home_lists_private_channels_to_their_members(
    client: Client, bob: Any, channels: Any
) -> None:
    client.force_login(bob)

    response = client.get("/")

    assert b"Your channels" in response.content
    assert b"secret" in response.content


def test_home_hides_private_channels_from_strangers(
    client: Client, charlie: Any, channels: Any
) -> None:
    client.force_login(charlie)

    response = client.get("/")

    assert b"secret" not in response.content
    assert b"You have no channels yet" in response.content


def test_search_finds_channels_by_name_and_packages_by_name(
    client: Client, channels: Any
) -> None:
    by_channel = client.get("/", {"q": "dem"})
    by_package = client.get("/", {"q": "nump"})

    assert b'href="/channels/demo"' in by_channel.content
    assert b'href="/channels/demo/packages/numpy"' in by_package.content


@pytest.mark.parametrize("who", ["anonymous", "charlie"])
def test_search_never_reveals_private_packages_or_channels(
    client: Client, channels: Any, who: str, charlie: Any
) -> None:
    if who == "charlie":
        client.force_login(charlie)

    for query in ("hush", "secret", "s"):
        response = client.get("/", {"q": query})
        assert b"hushpkg" not in response.content
        assert b"/channels/secret" not in response.content


def test_search_shows_private_packages_to_members(
    client: Client, bob: Any, channels: Any
) -> None:
    client.force_login(bob)

    response = client.get("/", {"q": "hush"})

    assert b'href="/channels/secret/packages/hushpkg"' in response.content


def test_home_paginates_channels(client: Client, alice: Any) -> None:
    for i in range(35):
        make_channel(f"chan{i:02d}", owner=alice)

    first = client.get("/")
    second = client.get("/", {"page": 2})

    assert b"chan00" in first.content
    assert b"chan34" not in first.content
    assert b"chan34" in second.content


# --- create a channel ---------------------------------------------------------


def test_creating_a_channel_needs_a_login(client: Client) -> None:
    response = client.get("/channels/new")

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_alice_creates_a_private_channel(client: Client, alice: Any) -> None:
    client.force_login(alice)

    response = client.post(
        "/channels/new",
        {
            "name": "tools",
            "description": "Our tools",
            "visibility": "private",
            "logo_url": "https://github.com/prefix-dev.png",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/channels/tools"
    tools = Channel.objects.get(name="tools")
    assert tools.is_private
    assert tools.logo_url == "https://github.com/prefix-dev.png"
    assert Membership.objects.get(channel=tools).user == alice
    assert Activity.objects.filter(channel=tools, verb="created").exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "Bad Name"}, "name", "lowercase letters"),
        ({"name": "api"}, "name", "reserved"),
        ({"name": "channels"}, "name", "reserved"),
        ({"name": "demo"}, "name", "already exists"),
        ({"name": "x" * 65}, "name", "at most 64"),
        ({"name": ""}, "name", "required"),
        ({"description": "d" * 2001}, "description", "at most 2000"),
        ({"logo_url": "not a url"}, "logo_url", "valid URL"),
        ({"logo_url": "http://example.org/logo.png"}, "logo_url", "https://"),
        ({"logo_url": "https://e.org/" + "a" * 500}, "logo_url", "at most 500"),
        ({"visibility": "secret-ish"}, "visibility", "valid choice"),
    ],
)
def test_the_create_form_shows_errors_next_to_the_field(
    client: Client,
    alice: Any,
    channel: Any,
    data: dict[str, str],
    field: str,
    message: str,
) -> None:
    client.force_login(alice)
    form = {"name": "fresh", "description": "", "visibility": "public", "logo_url": ""}

    response = client.post("/channels/new", {**form, **data})

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors
    assert message in " ".join(errors[field])
    assert b'class="errorlist' in response.content
    assert not Channel.objects.filter(name="fresh").exists()


@pytest.mark.parametrize(
    ("name", "ok", "message"),
    [
        ("fresh", True, "Available"),
        ("demo", False, "already exists"),
        ("admin", False, "reserved"),
        ("No Caps", False, "lowercase"),
        ("", False, "Choose a name"),
    ],
)
def test_name_check_says_whether_a_name_can_be_used(
    client: Client, alice: Any, channel: Any, name: str, ok: bool, message: str
) -> None:
    client.force_login(alice)

    response = client.get("/channels/new/check", {"name": name})

    assert response.json()["ok"] is ok
    assert message in response.json()["message"]


def test_name_check_needs_a_login(client: Client, channel: Any) -> None:
    assert client.get("/channels/new/check", {"name": "demo"}).status_code == 302


# --- the channel page ---------------------------------------------------------


def test_channel_page_shows_packages_and_how_to_use_the_channel(
    client: Client, channels: Any, settings: Any
) -> None:
    response = client.get("/channels/demo")

    content = response.content.decode()
    assert response.status_code == 200
    assert "numpy" in content
    assert "1.26" in content
    assert "linux-64" in content
    url = f"{settings.PUBLIC_URL}/demo"
    assert f"pixi workspace channel add {url}" in content
    assert f"conda install --channel {url}" in content
    assert f"mamba install --channel {url}" in content
    assert f"rattler-build build --channel {url}" in content
    assert "pixi upload" not in content  # anonymous visitors cannot upload
    # The placeholder is text, not a tag the browser would hide.
    assert ">pixi add &lt;package&gt;</code>" in content
    assert "--channel" not in content.split("pixi add")[1].split("</code>")[0]


def test_commands_use_the_public_url_not_the_request_host(
    client: Client, channels: Any, settings: Any
) -> None:
    settings.PUBLIC_URL = "https://conda.example.org"
    content = client.get("/channels/demo", HTTP_HOST="127.0.0.1").content.decode()
    assert "pixi workspace channel add https://conda.example.org/demo" in content
    assert "http://127.0.0.1" not in content


def test_a_private_channel_page_shows_commands_that_authenticate(
    client: Client, private_channel: Any, bob: Any, settings: Any
) -> None:
    settings.PUBLIC_URL = "https://conda.example.org"
    client.force_login(bob)
    content = client.get("/channels/secret").content.decode()
    key = "&lt;API key&gt;"
    assert f"pixi auth login conda.example.org --token {key}" in content
    assert (
        f"conda install --channel https://conda.example.org/t/{key}/secret "
        "&lt;package&gt;"
    ) in content
    assert f"micromamba auth login https://conda.example.org --bearer {key}" in content
    assert "micromamba install --channel https://conda.example.org/secret" in content
    assert "mamba install --channel https://conda.example.org/secret" in content
    assert f"rattler-build auth login conda.example.org --token {key}" in content


def test_channel_page_shows_the_logo_and_description(
    client: Client, alice: Any
) -> None:
    make_channel(
        "logos", owner=alice, description="Nice things",
        logo_url="https://github.com/prefix-dev.png",
    )  # fmt: skip

    content = client.get("/channels/logos").content.decode()

    assert 'src="https://github.com/prefix-dev.png"' in content
    assert "Nice things" in content


def test_channel_page_latest_version_is_the_last_uploaded(
    client: Client, channel: Any
) -> None:
    add_rows(
        channel,
        package_row(channel, "pkg", "2.0", age=100),
        package_row(channel, "pkg", "1.5", age=5),
        package_row(channel, "pkg", "1.0", age=200),
    )

    response = client.get("/channels/demo")

    (summary,) = response.context["packages"]
    assert summary.latest_version == "1.5"
    assert summary.file_count == 3


def test_channel_page_searches_and_paginates_packages(
    client: Client, channel: Any
) -> None:
    add_rows(channel, *(package_row(channel, f"pkg{i:03d}") for i in range(120)))

    first = client.get("/channels/demo")
    third = client.get("/channels/demo", {"page": 3})
    found = client.get("/channels/demo", {"q": "pkg07"})

    assert [p.name for p in first.context["packages"]][:2] == ["pkg000", "pkg001"]
    assert len(first.context["packages"]) == 50
    assert [p.name for p in third.context["packages"]][-1] == "pkg119"
    assert {p.name for p in found.context["packages"]} == {
        f"pkg07{i}" for i in range(10)
    }


def test_channel_page_offers_upload_and_settings_by_role(
    client: Client, channel: Any, alice: Any, bob: Any, charlie: Any
) -> None:
    def buttons(user: Any) -> tuple[bool, bool]:
        client.force_login(user)
        content = client.get("/channels/demo").content
        return b"/settings/upload" in content, b'/channels/demo/settings"' in content

    assert buttons(alice) == (True, True)
    assert buttons(bob) == (True, False)
    assert buttons(charlie) == (False, False)


@pytest.mark.parametrize("who", ["anonymous", "charlie"])
def test_private_channel_page_is_not_found_for_strangers(
    client: Client, channels: Any, charlie: Any, who: str
) -> None:
    if who == "charlie":
        client.force_login(charlie)

    response = client.get("/channels/secret")

    assert response.status_code == 404
    assert b"hushpkg" not in response.content
    assert b"This page does not exist" in response.content


def test_private_channel_page_is_shown_to_a_viewer(
    client: Client, bob: Any, channels: Any
) -> None:
    client.force_login(bob)

    response = client.get("/channels/secret")

    assert response.status_code == 200
    assert b"hushpkg" in response.content
    assert b"private" in response.content


def test_unknown_channel_is_a_friendly_404(client: Client, db: None) -> None:
    response = client.get("/channels/nothing-here")

    assert response.status_code == 404
    assert b"Back to channels" in response.content
