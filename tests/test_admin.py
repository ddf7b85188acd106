"""The admin: the site's rate-limited login, one writer (the services), read-only
bookkeeping, and its own name."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from channels.models import Channel, Lease, Membership, Role, ShardName
from packages.models import PackageFile
from prefixhub.storage import index_storage, package_storage
from tests.conftest import body, upload
from tests.factories import make_user

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def staff(db: None) -> Any:
    user = make_user("root")
    user.is_staff = user.is_superuser = True
    user.save(update_fields=["is_staff", "is_superuser"])
    return user


@pytest.fixture
def admin_client(staff: Any) -> Client:
    client = Client()
    client.force_login(staff)
    return client


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


# --- login ----------------------------------------------------------------------------


def test_the_admin_login_sends_people_to_the_site_login(staff: Any) -> None:
    response = Client().get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_thirty_wrong_admin_passwords_then_the_right_one_stay_locked_out(
    staff: Any,
) -> None:
    attacker = Client()
    for attempt in range(30):
        for url in ("/admin/login/", "/accounts/login/"):
            attacker.post(
                url,
                {
                    "username": "root",
                    "login": "root",
                    "password": f"guess {attempt}",
                },
            )
    for url in ("/admin/login/", "/accounts/login/"):
        attacker.post(url, {"username": "root", "login": "root", "password": PASSWORD})
        assert not _signed_in(attacker), url
    assert attacker.get("/admin/").status_code == 302


def test_staff_signed_in_on_the_site_reach_the_admin(staff: Any) -> None:
    client = Client()
    response = client.post("/accounts/login/", {"login": "root", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/admin/login/?next=/admin/")["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_signed_in_user_who_is_not_staff_gets_no_admin(alice: Any) -> None:
    client = Client()
    client.force_login(alice)
    assert client.get("/admin/login/").status_code == 403


# --- name and sections ------------------------------------------------------------------


def test_the_admin_is_titled_prefixhub_with_one_accounts_section(
    admin_client: Client,
) -> None:
    response = admin_client.get("/admin/")
    assert response.status_code == 200
    assert "prefixhub administration" in response.text
    assert "Django administration" not in response.text
    sections = [app["name"] for app in response.context["app_list"]]
    assert sections.count("Accounts") == 1
    (accounts,) = [a for a in response.context["app_list"] if a["name"] == "Accounts"]
    models = {m["object_name"] for m in accounts["models"]}
    assert {"User", "ApiKey", "EmailAddress"} <= models


# --- one writer ------------------------------------------------------------------------


@pytest.fixture
def indexed(
    client: Client, channel: Any, alice_key: str, noarch_pkg: Path, committed: Any
) -> PackageFile:
    with committed():
        assert upload(client, "demo", noarch_pkg, alice_key).status_code == 200
    return PackageFile.objects.get()


def _repodata_files(client: Client) -> list[str]:
    response = client.get("/demo/noarch/repodata.json")
    assert response.status_code == 200
    data = json.loads(body(response))
    return sorted([*data["packages"], *data["packages.conda"]])


def test_deleting_a_package_file_in_the_admin_unindexes_it_and_removes_its_bytes(
    admin_client: Client, client: Client, indexed: PackageFile, committed: Any
) -> None:
    assert _repodata_files(client) == [indexed.filename]
    with committed():
        response = admin_client.post(
            f"/admin/packages/packagefile/{indexed.pk}/delete/", {"post": "yes"}
        )
    assert response.status_code == 302
    assert not PackageFile.objects.exists()
    assert _repodata_files(client) == []
    assert not package_storage.exists(indexed.storage_key)


def test_the_bulk_delete_action_goes_through_the_service_too(
    admin_client: Client, client: Client, indexed: PackageFile, committed: Any
) -> None:
    with committed():
        response = admin_client.post(
            "/admin/packages/packagefile/",
            {
                "action": "delete_selected",
                "_selected_action": [indexed.pk],
                "post": "yes",
            },
        )
    assert response.status_code == 302
    assert _repodata_files(client) == []
    assert not package_storage.exists(indexed.storage_key)


def test_a_package_file_cannot_be_edited_in_the_admin(
    admin_client: Client, indexed: PackageFile
) -> None:
    url = f"/admin/packages/packagefile/{indexed.pk}/change/"
    assert admin_client.get(url).status_code == 200  # staff may look
    response = admin_client.post(url, {"filename": "other-1.0-0.conda"})
    assert response.status_code == 403
    assert PackageFile.objects.get().filename == indexed.filename


def test_deleting_a_channel_in_the_admin_removes_its_storage(
    admin_client: Client, indexed: PackageFile, committed: Any
) -> None:
    channel_id = indexed.channel_id
    assert index_storage.exists(f"{channel_id}/noarch/repodata.json")
    with committed():
        response = admin_client.post(
            f"/admin/channels/channel/{channel_id}/delete/", {"post": "yes"}
        )
    assert response.status_code == 302
    assert not Channel.objects.exists()
    assert not package_storage.exists(indexed.storage_key)
    assert not index_storage.exists(f"{channel_id}/noarch/repodata.json")


def _change_form_data(response: Any) -> dict[str, Any]:
    """The POST a browser would send for an admin change page, unchanged."""
    data: dict[str, Any] = {}

    def add(form: Any) -> None:
        for name, field in form.fields.items():
            value = form.initial.get(name, field.initial)
            if isinstance(value, bool):
                if value:
                    data[form.add_prefix(name)] = "on"
            elif value is not None:
                data[form.add_prefix(name)] = getattr(value, "pk", value)

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        add(inline.formset.management_form)
        for form in inline.formset.forms:
            add(form)
    return data


def test_the_membership_inline_cannot_remove_the_only_owner(
    admin_client: Client, channel: Any, alice: Any
) -> None:
    url = f"/admin/channels/channel/{channel.pk}/change/"
    data = _change_form_data(admin_client.get(url))
    owner_row = next(
        key.removesuffix("-role")
        for key, value in data.items()
        if key.endswith("-role") and value == Role.OWNER
    )
    response = admin_client.post(url, {**data, f"{owner_row}-DELETE": "on"})
    assert response.status_code == 200
    assert "exactly one owner" in response.text
    assert Membership.objects.get(channel=channel, role=Role.OWNER).user == alice

    demoted = admin_client.post(url, {**data, f"{owner_row}-role": Role.VIEWER})
    assert "exactly one owner" in demoted.text
    assert Membership.objects.get(channel=channel, role=Role.OWNER).user == alice


def test_the_membership_inline_still_changes_other_members(
    admin_client: Client, channel: Any, bob: Any
) -> None:
    url = f"/admin/channels/channel/{channel.pk}/change/"
    data = _change_form_data(admin_client.get(url))
    bob_row = next(
        key.removesuffix("-user")
        for key, value in data.items()
        if key.endswith("-user") and value == bob.pk
    )
    response = admin_client.post(url, {**data, f"{bob_row}-role": Role.VIEWER})
    assert response.status_code == 302
    assert Membership.objects.get(channel=channel, user=bob).role == Role.VIEWER


@pytest.mark.parametrize(
    "model",
    ["lease", "shardname", "retiredshard", "subdir", "activity", "membership"],
)
def test_internal_tables_are_read_only(
    admin_client: Client, indexed: PackageFile, model: str
) -> None:
    base = f"/admin/channels/{model}/"
    assert admin_client.get(base).status_code == 200
    assert admin_client.get(f"{base}add/").status_code == 403
    row = {
        "lease": Lease,
        "shardname": ShardName,
    }.get(model)
    if row is not None and row.objects.exists():
        pk = row.objects.first().pk  # type: ignore[union-attr]
        assert (
            admin_client.post(f"{base}{pk}/delete/", {"post": "yes"}).status_code == 403
        )
        assert admin_client.post(f"{base}{pk}/change/", {}).status_code == 403


def test_a_channel_owner_cannot_be_deleted_in_the_admin(
    admin_client: Client, channel: Any, alice: Any, bob: Any, charlie: Any
) -> None:
    response = admin_client.post(
        f"/admin/accounts/user/{alice.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 200
    assert "transfer or delete it first" in response.text
    assert Membership.objects.get(channel=channel, role=Role.OWNER).user == alice
    bulk = admin_client.post(
        "/admin/accounts/user/",
        {"action": "delete_selected", "_selected_action": [alice.pk], "post": "yes"},
    )
    assert "transfer or delete it first" in bulk.text
    assert Membership.objects.get(channel=channel, role=Role.OWNER).user == alice

    # A contributor (bob) and a stranger (charlie) go, memberships and all.
    for user in (bob, charlie):
        gone = admin_client.post(
            f"/admin/accounts/user/{user.pk}/delete/", {"post": "yes"}
        )
        assert gone.status_code == 302
    assert list(Membership.objects.values_list("user__username", flat=True)) == [
        "alice"
    ]
