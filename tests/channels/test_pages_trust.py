"""The website a team trusts (issue 11): the channel URL in a browser, a home page
without repeats, search results worth reading, safe defaults and accessible forms."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.factories import make_channel
from tests.packages.rows import add_rows, package_row

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture
def channels(channel: Any, private_channel: Any) -> tuple[Any, Any]:
    numpy = package_row(channel, "numpy", "1.26", subdir="linux-64", age=5)
    numpy.about = {"summary": "Arrays for Python"}
    add_rows(
        channel,
        package_row(channel, "numpy", "1.25", subdir="linux-64", age=50),
        numpy,
        package_row(channel, "scipy", "1.0"),
    )
    add_rows(private_channel, package_row(private_channel, "numpy-secret", "0.1"))
    return channel, private_channel


# --- the channel URL --------------------------------------------------------------


@pytest.mark.parametrize("path", ["/demo", "/demo/"])
def test_a_browser_opening_the_channel_url_is_sent_to_the_channel_page(
    client: Client, channel: Any, path: str
) -> None:
    response = client.get(path, HTTP_ACCEPT=BROWSER_ACCEPT)
    assert response.status_code == 302
    assert response["Location"] == "/channels/demo"


@pytest.mark.parametrize("accept", ["", "*/*", "application/json"])
def test_clients_opening_the_channel_url_get_no_page(
    client: Client, channel: Any, accept: str
) -> None:
    response = client.get("/demo", HTTP_ACCEPT=accept)
    assert response.status_code == 404


def test_the_redirect_reveals_nothing_about_private_channels(
    client: Client, private_channel: Any
) -> None:
    # Known and unknown names are redirected alike; the channel page decides.
    for name in ("secret", "no-such-channel"):
        response = client.get(f"/{name}", HTTP_ACCEPT=BROWSER_ACCEPT)
        assert response.status_code == 302
        assert response["Location"] == f"/channels/{name}"
    assert client.get("/channels/secret").status_code == 404


def test_the_channel_url_answers_only_reads(client: Client, channel: Any) -> None:
    assert client.post("/demo", HTTP_ACCEPT=BROWSER_ACCEPT).status_code == 405


# --- home and search --------------------------------------------------------------


def test_the_home_page_lists_each_channel_once(
    client: Client, channels: Any, bob: Any
) -> None:
    client.force_login(bob)
    content = client.get("/").content.decode()
    assert content.count('href="/channels/demo"') == 1
    assert content.count('href="/channels/secret"') == 1


def test_home_tiles_show_package_counts_and_your_role(
    client: Client, channels: Any, bob: Any
) -> None:
    client.force_login(bob)
    mine = {c.name: c for c in client.get("/").context["mine"]}
    assert (mine["demo"].package_count, mine["demo"].role) == (2, "contributor")
    assert (mine["secret"].package_count, mine["secret"].role) == (1, "viewer")


def test_home_shows_other_channels_without_a_role(
    client: Client, channels: Any, charlie: Any
) -> None:
    client.force_login(charlie)
    response = client.get("/")
    [demo] = response.context["page"].object_list
    assert (demo.name, demo.package_count, demo.role) == ("demo", 2, None)
    assert "2 packages" in response.content.decode()


def test_search_results_show_latest_version_summary_and_privacy(
    client: Client, channels: Any, bob: Any
) -> None:
    client.force_login(bob)
    response = client.get("/", {"q": "numpy"})
    rows = {row["name"]: row for row in response.context["packages"]}
    assert rows["numpy"]["version"] == "1.26"
    assert rows["numpy"]["summary"] == "Arrays for Python"
    assert rows["numpy"]["channel__is_private"] is False
    assert rows["numpy-secret"]["channel__is_private"] is True
    table = response.content.decode().split('class="search-results"')[1]
    assert "Arrays for Python" in table
    [secret_row] = [r for r in table.split("<tr>") if ">numpy-secret</a>" in r]
    [numpy_row] = [r for r in table.split("<tr>") if ">numpy</a>" in r]
    assert "badge-private" in secret_row
    assert "badge-private" not in numpy_row


def test_search_stays_within_a_constant_number_of_queries(
    client: Client, alice: Any, django_assert_max_num_queries: Any
) -> None:
    for i in range(5):
        other = make_channel(f"c{i}", owner=alice)
        add_rows(other, *[package_row(other, f"pkg{j}", "1.0") for j in range(5)])
    with django_assert_max_num_queries(8):
        response = client.get("/", {"q": "pkg"})
    assert len(response.context["packages"]) == 25


# --- members and menus ------------------------------------------------------------


def test_a_new_member_is_a_viewer_unless_chosen_otherwise(
    client: Client, channel: Any, alice: Any
) -> None:
    client.force_login(alice)
    page = client.get("/channels/demo/settings/members").content.decode()
    add_form = page.split('id="id_role"')[1].split("</select>")[0]
    assert '<option value="viewer" selected>' in add_form
    assert 'contributor" selected' not in add_form


def test_a_role_change_reads_as_a_sentence(
    client: Client, channel: Any, alice: Any
) -> None:
    client.force_login(alice)
    response = client.post(
        "/channels/demo/settings/members/bob/role", {"role": "viewer"}, follow=True
    )
    assert "bob is now a viewer." in response.content.decode()


def test_staff_find_the_admin_in_their_menu(client: Client, alice: Any) -> None:
    client.force_login(alice)
    assert 'href="/admin/"' not in client.get("/").content.decode()
    alice.is_staff = True
    alice.save(update_fields=["is_staff"])
    assert 'href="/admin/"' in client.get("/").content.decode()


def test_every_page_starts_with_a_skip_link(client: Client, channel: Any) -> None:
    content = client.get("/channels/demo").content.decode()
    body = content.split("<body>")[1].lstrip()
    assert body.startswith('<a class="skip-link" href="#content">Skip to content</a>')
    assert 'id="content"' in content


def test_help_text_is_linked_to_its_field_and_radios_sit_in_a_fieldset(
    client: Client, alice: Any
) -> None:
    client.force_login(alice)
    page = client.get("/channels/new").content.decode()
    assert 'aria-describedby="id_description_helptext"' in page
    assert 'id="id_description_helptext"' in page
    assert "<legend>Visibility</legend>" in page
    keys = client.get("/settings/api-keys/").content.decode()
    assert 'aria-describedby="id_name_helptext"' in keys
    assert 'id="id_name_helptext"' in keys


def test_connected_accounts_show_no_empty_heading_without_providers(
    client: Client, alice: Any
) -> None:
    client.force_login(alice)
    page = client.get("/accounts/3rdparty/").content.decode()
    assert "Connect another account" not in page
    assert "Add a Third-Party Account" not in page
    assert "no sign-in through GitHub or Google" in page


def test_the_upload_page_offers_replacing_to_those_who_may_overwrite(
    client: Client, channel: Any, bob: Any
) -> None:
    client.force_login(bob)  # a contributor
    page = client.get("/channels/demo/settings/upload").content.decode()
    assert 'id="replace"' in page
    assert 'aria-describedby="replace_helptext"' in page
