"""Channel settings: who may open each page and do each action, and what they do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from channels.models import Activity, Channel, Membership
from prefixhub.storage import index_storage, package_storage
from tests.channels.visitors import OWNER_ONLY, VISITORS, visit
from tests.conftest import upload
from tests.factories import make_user


@pytest.fixture
def users(
    channel: Any, private_channel: Any, alice: Any, bob: Any, charlie: Any
) -> dict[str, Any]:
    dave = make_user("dave")
    return {"alice": alice, "bob": bob, "charlie": charlie, "dave": dave}


def snapshot() -> tuple[Any, ...]:
    return (
        list(
            Channel.objects.values_list("name", "description", "is_private", "logo_url")
        ),
        sorted(
            Membership.objects.values_list("channel__name", "user__username", "role")
        ),
        Activity.objects.count(),
    )


PAGES = [
    "settings",
    "settings/members",
    "settings/trusted-publishers",
    "settings/danger",
    "settings/activity",
]


@pytest.mark.parametrize("role", VISITORS)
@pytest.mark.parametrize("page", PAGES)
def test_settings_pages_are_for_the_owner_only(
    users: dict[str, Any], role: str, page: str
) -> None:
    client, name = visit(role, users)

    response = client.get(f"/channels/{name}/{page}")

    assert response.status_code == OWNER_ONLY[role]
    if response.status_code == 302:
        assert response["Location"].startswith("/accounts/login/")
    if response.status_code == 404:
        assert name.encode() not in response.content


def _actions(name: str) -> list[tuple[str, dict[str, str]]]:
    return [
        (
            f"/channels/{name}/settings",
            {"description": "x", "visibility": "public", "logo_url": ""},
        ),
        (
            f"/channels/{name}/settings/members/add",
            {"username": "dave", "role": "viewer"},
        ),
        (
            f"/channels/{name}/settings/members/bob/role",
            {"role": "viewer" if name == "demo" else "contributor"},
        ),
        (f"/channels/{name}/settings/members/bob/remove", {}),
        (
            f"/channels/{name}/settings/transfer",
            {"username": "bob", "confirmed": "true"},
        ),
        (f"/channels/{name}/settings/delete", {"confirm": name}),
    ]


@pytest.mark.parametrize("role", VISITORS)
@pytest.mark.parametrize("action", range(6))
def test_settings_actions_are_for_the_owner_only(
    users: dict[str, Any], role: str, action: int
) -> None:
    client, name = visit(role, users)
    url, data = _actions(name)[action]
    before = snapshot()

    response = client.post(url, data)

    if role == "owner":
        assert response.status_code == 302, response.content
        assert snapshot() != before
    else:
        assert response.status_code == OWNER_ONLY[role]
        assert snapshot() == before


@pytest.mark.parametrize(
    "url",
    ["members/add", "members/bob/role", "transfer", "delete"],
)
def test_settings_actions_only_accept_post(users: dict[str, Any], url: str) -> None:
    client, _ = visit("owner", users)

    assert client.get(f"/channels/demo/settings/{url}").status_code == 405


def test_settings_actions_need_a_csrf_token(users: dict[str, Any]) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["alice"])

    response = client.post("/channels/demo/settings/delete", {"confirm": "demo"})

    assert response.status_code == 403
    assert Channel.objects.filter(name="demo").exists()


# --- general ------------------------------------------------------------------


def test_alice_changes_description_visibility_and_logo(
    client: Client, alice: Any, channel: Any
) -> None:
    client.force_login(alice)

    response = client.post(
        "/channels/demo/settings",
        {
            "description": "New words",
            "visibility": "private",
            "logo_url": "https://github.com/x.png",
        },
    )

    assert response.status_code == 302
    channel.refresh_from_db()
    assert (channel.description, channel.is_private, channel.logo_url) == (
        "New words",
        True,
        "https://github.com/x.png",
    )
    event = Activity.objects.filter(channel=channel).first()
    assert event is not None
    assert event.verb == "settings_changed"
    assert "private" in event.detail


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"description": "d" * 2001}, "description"),
        ({"logo_url": "javascript:alert(1)"}, "logo_url"),
        ({"logo_url": "ftp://example.org/x.png"}, "logo_url"),
        ({"visibility": "hidden"}, "visibility"),
    ],
)
def test_general_settings_reject_bad_input_next_to_the_field(
    client: Client, alice: Any, channel: Any, data: dict[str, str], field: str
) -> None:
    client.force_login(alice)
    form = {"description": "", "visibility": "public", "logo_url": ""}

    response = client.post("/channels/demo/settings", {**form, **data})

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert b'class="errorlist' in response.content
    channel.refresh_from_db()
    assert channel.description == ""


# --- members ------------------------------------------------------------------


def test_members_page_lists_only_members(client: Client, users: dict[str, Any]) -> None:
    client.force_login(users["alice"])

    content = client.get("/channels/demo/settings/members").content

    assert b"bob" in content
    assert b"charlie" not in content
    assert b"dave" not in content


def test_alice_adds_dave_as_viewer_by_exact_username(
    client: Client, users: dict[str, Any]
) -> None:
    client.force_login(users["alice"])

    response = client.post(
        "/channels/secret/settings/members/add", {"username": "dave", "role": "viewer"}
    )

    assert response.status_code == 302
    assert (
        Membership.objects.get(channel__name="secret", user__username="dave").role
        == "viewer"
    )
    event = Activity.objects.filter(channel__name="secret").first()
    assert event is not None
    assert (event.verb, event.detail) == ("member_added", "dave as viewer")
    dave = Client()
    dave.force_login(users["dave"])
    assert dave.get("/channels/secret").status_code == 200


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"username": "dav", "role": "viewer"},
            "username",
            "No user with that username",
        ),
        (
            {"username": "DAVE", "role": "viewer"},
            "username",
            "No user with that username",
        ),
        ({"username": "", "role": "viewer"}, "username", "required"),
        ({"username": "u" * 151, "role": "viewer"}, "username", "at most 150"),
        ({"username": "dave", "role": "owner"}, "role", "valid choice"),
        ({"username": "dave", "role": "admin"}, "role", "valid choice"),
        ({"username": "bob", "role": "viewer"}, "username", "already a member"),
    ],
)
def test_adding_a_member_rejects_bad_input(
    client: Client,
    users: dict[str, Any],
    data: dict[str, str],
    field: str,
    message: str,
) -> None:
    client.force_login(users["alice"])
    before = snapshot()

    response = client.post("/channels/demo/settings/members/add", data)

    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert snapshot() == before


def test_alice_changes_bobs_role(client: Client, users: dict[str, Any]) -> None:
    client.force_login(users["alice"])

    client.post("/channels/demo/settings/members/bob/role", {"role": "viewer"})

    assert (
        Membership.objects.get(channel__name="demo", user__username="bob").role
        == "viewer"
    )


@pytest.mark.parametrize(
    ("username", "role"),
    [("bob", "owner"), ("bob", "boss"), ("alice", "viewer"), ("charlie", "viewer")],
)
def test_changing_a_role_refuses_owner_changes_and_unknown_roles(
    client: Client, users: dict[str, Any], username: str, role: str
) -> None:
    client.force_login(users["alice"])
    before = snapshot()

    response = client.post(
        f"/channels/demo/settings/members/{username}/role", {"role": role}, follow=True
    )

    assert response.status_code == 200
    assert snapshot() == before
    assert "flash-error" in response.content.decode()


def test_changing_the_role_of_an_unknown_user_is_not_found(
    client: Client, users: dict[str, Any]
) -> None:
    client.force_login(users["alice"])

    response = client.post(
        "/channels/demo/settings/members/nobody/role", {"role": "viewer"}
    )

    assert response.status_code == 404


def test_alice_removes_bob_but_not_herself(
    client: Client, users: dict[str, Any]
) -> None:
    client.force_login(users["alice"])

    client.post("/channels/demo/settings/members/bob/remove")
    client.post("/channels/demo/settings/members/alice/remove")

    assert list(
        Membership.objects.filter(channel__name="demo").values_list(
            "user__username", "role"
        )
    ) == [("alice", "owner")]


# --- trusted publishers, activity -----------------------------------------------


def test_trusted_publishers_page_is_in_the_menu(
    client: Client, users: dict[str, Any]
) -> None:
    client.force_login(users["alice"])

    content = client.get("/channels/demo/settings/trusted-publishers").content

    assert b"No trusted publishers yet." in content
    assert b'aria-current="page">Trusted publishers' in content


def test_activity_lists_who_did_what_newest_first(
    client: Client, users: dict[str, Any], alice_key: str, noarch_pkg: Path
) -> None:
    client.force_login(users["alice"])
    client.post(
        "/channels/demo/settings/members/add", {"username": "dave", "role": "viewer"}
    )
    upload(Client(), "demo", noarch_pkg, alice_key)

    response = client.get("/channels/demo/settings/activity")

    verbs = [a.verb for a in response.context["page"].object_list]
    assert verbs[:2] == ["uploaded", "member_added"]
    assert verbs[-1] == "created"
    assert b"dave as viewer" in response.content


def test_activity_is_paginated(
    client: Client, users: dict[str, Any], channel: Any
) -> None:
    Activity.objects.bulk_create(
        [
            Activity(channel=channel, verb="settings_changed", detail=f"n{i}")
            for i in range(120)
        ]
    )
    client.force_login(users["alice"])

    response = client.get("/channels/demo/settings/activity", {"page": 3})

    assert response.context["page"].number == 3
    assert len(response.context["page"].object_list) == 21  # 120 + created - 100


# --- danger zone ------------------------------------------------------------------


def test_alice_transfers_demo_to_bob_and_stays_as_contributor(
    client: Client, users: dict[str, Any]
) -> None:
    client.force_login(users["alice"])

    response = client.post(
        "/channels/demo/settings/transfer", {"username": "bob", "confirmed": "true"}
    )

    assert response.status_code == 302
    roles = dict(
        Membership.objects.filter(channel__name="demo").values_list(
            "user__username", "role"
        )
    )
    assert roles == {"alice": "contributor", "bob": "owner"}
    assert client.get("/channels/demo/settings").status_code == 403
    event = Activity.objects.filter(channel__name="demo").first()
    assert event is not None
    assert (event.verb, event.detail) == ("transferred", "to bob")


def test_a_transfer_first_asks_again_naming_the_new_owner(
    client: Client, users: dict[str, Any]
) -> None:
    client.force_login(users["alice"])
    before = snapshot()

    response = client.post("/channels/demo/settings/transfer", {"username": "bob"})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Transfer demo to bob?" in page
    assert 'name="confirmed" value="true"' in page
    assert ">Transfer to bob</button>" in page
    assert snapshot() == before


@pytest.mark.parametrize("confirmed", ["", "false", "no"])
def test_an_unconfirmed_transfer_changes_nothing(
    client: Client, users: dict[str, Any], confirmed: str
) -> None:
    client.force_login(users["alice"])
    before = snapshot()
    client.post(
        "/channels/demo/settings/transfer", {"username": "bob", "confirmed": confirmed}
    )
    assert snapshot() == before


def test_removing_a_member_first_asks_on_a_page_of_its_own(
    client: Client, users: dict[str, Any]
) -> None:
    client.force_login(users["alice"])
    before = snapshot()

    response = client.get("/channels/demo/settings/members/bob/remove")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Remove bob from demo?" in page
    assert 'action="/channels/demo/settings/members/bob/remove"' in page
    assert snapshot() == before


@pytest.mark.parametrize("username", ["charlie", "nobody"])
def test_the_remove_page_of_a_non_member_is_not_found(
    client: Client, users: dict[str, Any], username: str
) -> None:
    client.force_login(users["alice"])
    url = f"/channels/demo/settings/members/{username}/remove"
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("role", [r for r in VISITORS if r != "owner"])
def test_only_the_owner_sees_the_remove_page(users: dict[str, Any], role: str) -> None:
    client, name = visit(role, users)
    response = client.get(f"/channels/{name}/settings/members/bob/remove")
    assert response.status_code == OWNER_ONLY[role]
    assert b"Remove bob" not in response.content


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("charlie", "must be a member"),
        ("nobody", "No user with that username"),
        ("alice", "already owns"),
        ("", "required"),
    ],
)
def test_transfer_needs_an_existing_member(
    client: Client, users: dict[str, Any], username: str, message: str
) -> None:
    client.force_login(users["alice"])
    before = snapshot()

    response = client.post("/channels/demo/settings/transfer", {"username": username})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize("typed", ["", "dem", "DEMO", "secret"])
def test_deleting_needs_the_channel_name_typed(
    client: Client, users: dict[str, Any], typed: str
) -> None:
    client.force_login(users["alice"])

    response = client.post("/channels/demo/settings/delete", {"confirm": typed})

    assert response.status_code == 400
    assert Channel.objects.filter(name="demo").exists()


def test_deleting_a_channel_removes_its_files_and_index_from_storage(
    client: Client,
    users: dict[str, Any],
    channel: Any,
    alice_key: str,
    noarch_pkg: Path,
    committed: Any,
) -> None:
    with committed():
        assert upload(Client(), "demo", noarch_pkg, alice_key).status_code == 200
    folder = str(channel.pk)
    assert package_storage.exists(folder)
    assert index_storage.exists(f"{folder}/noarch/repodata.json")
    client.force_login(users["alice"])

    with committed():
        response = client.post("/channels/demo/settings/delete", {"confirm": "demo"})

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert not Channel.objects.filter(name="demo").exists()
    assert not package_storage.exists(folder)
    assert not index_storage.exists(folder)
    assert client.get("/channels/demo").status_code == 404
