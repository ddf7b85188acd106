"""The API keys page: create, list, revoke; and what the keys it makes may do."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from accounts.models import ApiKey, hash_key
from tests.conftest import upload
from tests.factories import make_channel

URL = "/settings/api-keys/"
SECRET_RE = re.compile(r'<code class="secret" id="new-key">(phub-[A-Za-z0-9]+)</code>')


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def create_key(client: Client, **data: Any) -> str:
    """Create a key through the page; the secret shown once."""
    data.setdefault("name", "laptop")
    data.setdefault("expiry", "90")
    response = client.post(URL, data, follow=True)
    assert response.redirect_chain == [(URL, 302)], response.content.decode()[:2000]
    match = SECRET_RE.search(response.content.decode())
    assert match, "the new key is shown"
    return match.group(1)


def read_private(client: Client, key: str, channel: str = "secret") -> Any:
    return client.get(
        f"/{channel}/noarch/repodata.json", HTTP_AUTHORIZATION=f"Bearer {key}"
    )


# --- the page -----------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(db: None) -> None:
    response = Client().get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_anonymous_posts_create_no_key(db: None) -> None:
    response = Client().post(URL, {"name": "x", "expiry": "30"})
    assert response.status_code == 302
    assert not ApiKey.objects.exists()


def test_alice_sees_an_empty_list_and_the_form(alice: Any) -> None:
    response = signed_in(alice).get(URL)
    assert response.status_code == 200
    assert b"You have no API keys yet." in response.content
    assert b'name="csrfmiddlewaretoken"' in response.content
    assert b"30 days" in response.content and b"No expiry" in response.content


def test_the_page_needs_a_csrf_token(alice: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(URL, {"name": "laptop", "expiry": "30"})
    assert response.status_code == 403
    assert not ApiKey.objects.exists()


def test_a_created_key_is_shown_once_with_commands_for_this_server(
    alice: Any, settings: Any
) -> None:
    settings.PUBLIC_URL = "https://conda.example.org"
    client = signed_in(alice)
    response = client.post(URL, {"name": "laptop", "expiry": "30"}, follow=True)
    html = response.content.decode()
    secret = SECRET_RE.search(html).group(1)  # type: ignore[union-attr]
    assert f"pixi auth login conda.example.org --token {secret}" in html
    assert (
        "rattler-build upload prefix --url https://conda.example.org "
        f"--channel &lt;channel&gt; --api-key {secret}"
    ) in html
    assert 'data-copy="#new-key"' in html
    assert "no-store" in response["Cache-Control"]
    key = ApiKey.objects.get()
    assert key.key_hash == hash_key(secret)
    assert secret not in key.prefix and secret.startswith(key.prefix)


def test_a_creation_redirects_so_a_refresh_creates_no_second_key(
    alice: Any,
) -> None:
    client = signed_in(alice)
    response = client.post(URL, {"name": "laptop", "expiry": "30"})
    assert response.status_code == 302
    assert response["Location"] == URL
    assert "no-store" in response["Cache-Control"]
    shown = client.get(URL)
    assert SECRET_RE.search(shown.content.decode())
    assert "no-store" in shown["Cache-Control"]
    refreshed = client.get(URL).content.decode()  # what a browser refresh does
    assert not SECRET_RE.search(refreshed)
    assert ApiKey.objects.count() == 1


def test_the_page_with_a_new_key_does_not_jump_to_the_form(alice: Any) -> None:
    client = signed_in(alice)
    assert "autofocus" in client.get(URL).content.decode()
    shown = client.post(URL, {"name": "laptop", "expiry": "30"}, follow=True)
    assert "autofocus" not in shown.content.decode()


def test_a_secret_is_not_shown_for_a_key_revoked_meanwhile(alice: Any) -> None:
    client = signed_in(alice)
    client.post(URL, {"name": "laptop", "expiry": "30"})
    ApiKey.objects.update(revoked_at=timezone.now())
    assert not SECRET_RE.search(client.get(URL).content.decode())


def test_another_user_never_sees_the_secret(alice: Any, bob: Any) -> None:
    client = signed_in(alice)
    client.post(URL, {"name": "laptop", "expiry": "30"})
    assert not SECRET_RE.search(signed_in(bob).get(URL).content.decode())


def test_the_secret_never_appears_again(alice: Any) -> None:
    client = signed_in(alice)
    secret = create_key(client, name="laptop")
    for _ in range(2):  # the list, and a reload of it
        page = client.get(URL).content.decode()
        assert "laptop" in page
        assert secret not in page
        assert secret[:11] in page  # the prefix identifies it
    assert secret not in client.get("/settings/").content.decode()
    stored = ApiKey.objects.values_list("name", "prefix", "key_hash", named=False).get()
    assert secret not in " ".join(stored)


def test_the_list_shows_name_prefix_scope_dates_and_expiry(
    alice: Any, channel: Any
) -> None:
    with time_machine.travel("2030-01-02 12:00Z", tick=False):
        client = signed_in(alice)
        create_key(client, name="ci", expiry="365", channel="demo", is_read_only="on")
        create_key(client, name="forever", expiry="never")
        page = client.get(URL).content.decode()
    ci = page[page.index(">ci<") : page.index(">forever<")]
    assert "demo" in ci and "read-only" in ci
    assert "2030-01-02" in ci and "2031-01-02" in ci
    assert "never" in ci  # last used
    forever = page[page.index(">forever<") :]
    assert "all channels" in forever and "read &amp; write" in forever


def test_last_use_is_listed(alice: Any, channel: Any, noarch_pkg: Path) -> None:
    client = signed_in(alice)
    secret = create_key(client)
    read_private(Client(), secret, channel="demo")
    assert ApiKey.objects.get().last_used_at is not None
    assert "minute" in client.get(URL).content.decode()


@pytest.mark.parametrize(
    ("days", "expiry"), [(30, "30"), (90, "90"), (365, "365"), (None, "never")]
)
def test_each_expiry_choice_sets_the_expiry(
    alice: Any, days: int | None, expiry: str
) -> None:
    before = timezone.now()
    create_key(signed_in(alice), expiry=expiry)
    expires_at = ApiKey.objects.get().expires_at
    if days is None:
        assert expires_at is None
    else:
        assert expires_at is not None
        assert (
            before + timedelta(days=days)
            <= expires_at
            <= timezone.now() + timedelta(days=days)
        )


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "", "expiry": "30"}, "name", "This field is required."),
        ({"name": "   ", "expiry": "30"}, "name", "This field is required."),
        ({"name": "x" * 101, "expiry": "30"}, "name", "at most 100 characters"),
        ({"name": "k", "expiry": "7"}, "expiry", "Select a valid choice."),
        ({"name": "k", "expiry": ""}, "expiry", "This field is required."),
        ({"name": "k", "expiry": "30", "channel": "nope"}, "channel", "valid choice"),
        ({"name": "k", "expiry": "30", "channel": "a" * 5000}, "channel", "valid"),
    ],
)
def test_malformed_input_is_a_field_error(
    alice: Any, data: dict[str, str], field: str, message: str
) -> None:
    response = signed_in(alice).post(URL, data)
    assert response.status_code == 400
    assert message in str(response.context["form"].errors[field])
    html = response.content.decode()
    # The error sits in the field's own block, next to its input.
    block = html[html.index(f'name="{field}"') :]
    assert "errorlist" in block[: block.index('class="field')]
    assert not ApiKey.objects.exists()


def test_a_key_cannot_be_narrowed_to_a_channel_alice_is_not_a_member_of(
    alice: Any, charlie: Any
) -> None:
    make_channel("charlies", owner=charlie, is_private=True)
    response = signed_in(alice).post(
        URL, {"name": "k", "expiry": "30", "channel": "charlies"}
    )
    assert response.status_code == 400
    assert "channel" in response.context["form"].errors
    assert (
        b"charlies" not in response.content.split(b"<select")[1].split(b"</select")[0]
    )
    assert not ApiKey.objects.exists()


def test_the_channel_choices_are_alices_channels(alice: Any, bob: Any) -> None:
    make_channel("mine", owner=alice)
    make_channel("others", owner=bob)
    form = signed_in(alice).get(URL).context["form"]
    assert [c.name for c in form.fields["channel"].queryset] == ["mine"]


def test_alice_revokes_her_key(alice: Any) -> None:
    client = signed_in(alice)
    create_key(client, name="old laptop")
    key = ApiKey.objects.get()
    response = client.post(f"{URL}{key.pk}/revoke/", follow=True)
    assert response.redirect_chain == [(URL, 302)]
    assert "was revoked" in response.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert ">old laptop<" not in response.content.decode()


def test_revoking_needs_a_post(alice: Any) -> None:
    key, _ = ApiKey.issue(alice, name="k")
    assert signed_in(alice).get(f"{URL}{key.pk}/revoke/").status_code == 405


def test_someone_elses_key_cannot_be_revoked(alice: Any, charlie: Any) -> None:
    key, _ = ApiKey.issue(alice, name="alices")
    response = signed_in(charlie).post(f"{URL}{key.pk}/revoke/")
    assert response.status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None


def test_an_unknown_key_id_is_a_404(alice: Any) -> None:
    assert signed_in(alice).post(f"{URL}999999/revoke/").status_code == 404


def test_anonymous_revoke_is_sent_to_log_in(alice: Any) -> None:
    key, _ = ApiKey.issue(alice, name="k")
    assert Client().post(f"{URL}{key.pk}/revoke/").status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is None


# --- what keys made on the page may do --------------------------------------------


def test_a_full_key_uploads(alice: Any, channel: Any, noarch_pkg: Path) -> None:
    secret = create_key(signed_in(alice))
    assert upload(Client(), "demo", noarch_pkg, secret).status_code == 200


def test_a_read_only_key_reads_a_private_channel_but_cannot_upload(
    alice: Any, private_channel: Any, noarch_pkg: Path
) -> None:
    secret = create_key(signed_in(alice), is_read_only="on")
    assert read_private(Client(), secret).status_code == 200
    response = upload(Client(), "secret", noarch_pkg, secret)
    assert response.status_code == 403
    assert "may not write" in response.json()["detail"]


def test_a_read_only_key_cannot_delete(
    alice: Any, channel: Any, noarch_pkg: Path, alice_key: str
) -> None:
    assert upload(Client(), "demo", noarch_pkg, alice_key).status_code == 200
    secret = create_key(signed_in(alice), is_read_only="on")
    response = Client().delete(
        f"/api/v1/delete/demo/noarch/{noarch_pkg.name}",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )
    assert response.status_code == 403


def test_a_key_narrowed_to_one_channel_uploads_there_only(
    alice: Any, channel: Any, private_channel: Any, noarch_pkg: Path
) -> None:
    secret = create_key(signed_in(alice), channel="demo")
    assert upload(Client(), "demo", noarch_pkg, secret).status_code == 200
    assert upload(Client(), "secret", noarch_pkg, secret).status_code == 403


def test_a_key_narrowed_to_one_channel_cannot_read_another_private_one(
    alice: Any, channel: Any, private_channel: Any
) -> None:
    make_channel("other-secret", owner=alice, is_private=True)
    secret = create_key(signed_in(alice), channel="secret")
    assert read_private(Client(), secret, "secret").status_code == 200
    assert read_private(Client(), secret, "other-secret").status_code == 403


def test_a_narrowed_read_only_key_is_refused_everywhere_beyond_its_scope(
    alice: Any, channel: Any, private_channel: Any, noarch_pkg: Path
) -> None:
    secret = create_key(signed_in(alice), channel="secret", is_read_only="on")
    assert read_private(Client(), secret).status_code == 200
    assert upload(Client(), "secret", noarch_pkg, secret).status_code == 403
    assert upload(Client(), "demo", noarch_pkg, secret).status_code == 403


def test_a_key_gives_bob_no_more_than_his_role(
    bob: Any, private_channel: Any, noarch_pkg: Path
) -> None:
    """bob is a viewer of ``secret``: his key reads it and may not upload."""
    secret = create_key(signed_in(bob), channel="secret")
    assert read_private(Client(), secret).status_code == 200
    assert upload(Client(), "secret", noarch_pkg, secret).status_code == 403


def test_a_revoked_key_is_refused_with_401(
    alice: Any, private_channel: Any, noarch_pkg: Path
) -> None:
    client = signed_in(alice)
    secret = create_key(client)
    client.post(f"{URL}{ApiKey.objects.get().pk}/revoke/")
    assert upload(Client(), "secret", noarch_pkg, secret).status_code == 401
    assert read_private(Client(), secret).status_code == 401
    assert Client().get(f"/t/{secret}/secret/noarch/repodata.json").status_code == 401


def test_an_expired_key_is_refused_with_401(
    alice: Any, private_channel: Any, noarch_pkg: Path
) -> None:
    secret = create_key(signed_in(alice), expiry="30")
    assert read_private(Client(), secret).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        assert upload(Client(), "secret", noarch_pkg, secret).status_code == 401
        assert read_private(Client(), secret).status_code == 401
        assert "expired" in signed_in(alice).get(URL).content.decode()
