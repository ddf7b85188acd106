"""Email sign-up with verification, log in, log out, password reset, email change."""

from __future__ import annotations

import re
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client

from accounts.models import User

PASSWORD = "a long and unusual passphrase"


def link_in_last_mail() -> str:
    body = mail.outbox[-1].body
    match = re.search(r"https?://[^/\s]+(/\S+)", body)
    assert match, body
    return match.group(1)


def sign_up(client: Client, username: str = "dana", **data: Any) -> Any:
    data = {
        "email": f"{username}@example.org",
        "username": username,
        "password1": PASSWORD,
        "password2": PASSWORD,
        **data,
    }
    return client.post("/accounts/signup/", data)


def log_in(client: Client, login: str, password: str = PASSWORD) -> Any:
    return client.post("/accounts/login/", {"login": login, "password": password})


def is_signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.django_db
def test_sign_up_confirm_the_email_and_log_in() -> None:
    client = Client()
    response = sign_up(client)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert not is_signed_in(client)
    assert mail.outbox[-1].to == ["dana@example.org"]

    confirm_url = link_in_last_mail()
    assert confirm_url.startswith("/accounts/confirm-email/")
    page = client.get(confirm_url)
    assert page.status_code == 200
    assert b"dana@example.org" in page.content
    assert client.post(confirm_url).status_code == 302
    assert EmailAddress.objects.get(email="dana@example.org").verified

    client = Client()
    response = log_in(client, "dana")
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert is_signed_in(client)
    assert b"dana" in client.get("/settings/").content


@pytest.mark.django_db
def test_an_unconfirmed_email_cannot_log_in() -> None:
    sign_up(Client())
    client = Client()
    response = log_in(client, "dana@example.org")
    assert response["Location"] == "/accounts/confirm-email/"
    assert not is_signed_in(client)


@pytest.mark.django_db
def test_a_confirmation_link_cannot_be_forged() -> None:
    sign_up(Client())
    response = Client().post("/accounts/confirm-email/not-a-real-key/")
    assert response.status_code in (200, 404)
    assert not EmailAddress.objects.get(email="dana@example.org").verified


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("Dana", "lowercase"),
        ("dana smith", "lowercase"),
        ("-dana", "lowercase"),
        ("api", "reserved"),
        ("settings", "reserved"),
        ("d" * 65, "at most 64"),
    ],
)
@pytest.mark.django_db
def test_usernames_follow_the_channel_name_rules(username: str, message: str) -> None:
    response = sign_up(Client(), username, email="dana@example.org")
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["username"])
    assert message in errors
    assert not User.objects.exists()
    html = response.content.decode()
    block = html[html.index('name="username"') :]
    assert "errorlist" in block[: block.index('class="field')]


def test_a_taken_username_is_refused(alice: Any) -> None:
    response = sign_up(Client(), "alice", email="other@example.org")
    assert response.status_code == 200
    assert "username" in response.context["form"].errors


@pytest.mark.django_db
def test_signing_up_with_a_mismatched_password_is_a_field_error() -> None:
    response = sign_up(Client(), password2="something else entirely")
    assert response.status_code == 200
    assert "password2" in response.context["form"].errors


@pytest.mark.django_db
def test_oversized_input_is_a_form_error_not_a_crash() -> None:
    response = sign_up(Client(), email="x" * 5000 + "@example.org")
    assert response.status_code == 200
    assert "email" in response.context["form"].errors
    response = log_in(Client(), "y" * 10_000, "z" * 10_000)
    assert response.status_code == 200


def test_alice_logs_in_with_her_username_or_email(alice: Any) -> None:
    for login in ("alice", "alice@example.org"):
        client = Client()
        assert log_in(client, login, "correct horse battery staple").status_code == 302
        assert is_signed_in(client)


def test_a_wrong_password_is_refused(alice: Any) -> None:
    client = Client()
    response = log_in(client, "alice", "wrong")
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not is_signed_in(client)


def test_alice_logs_out_with_a_post(alice: Any) -> None:
    client = Client()
    client.force_login(alice)
    assert client.post("/accounts/logout/").status_code == 302
    assert not is_signed_in(client)


def test_alice_resets_her_password(alice: Any) -> None:
    client = Client()
    response = client.post("/accounts/password/reset/", {"email": "alice@example.org"})
    assert response["Location"] == "/accounts/password/reset/done/"
    assert mail.outbox[-1].to == ["alice@example.org"]

    key_url = link_in_last_mail()
    form_url = client.get(key_url)["Location"]  # the key moves to the session
    assert client.get(form_url).status_code == 200
    response = client.post(form_url, {"password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302

    assert log_in(Client(), "alice", "correct horse battery staple").status_code == 200
    fresh = Client()
    assert log_in(fresh, "alice", PASSWORD).status_code == 302
    assert is_signed_in(fresh)
    # The link works once.
    assert b"invalid" in Client().get(key_url, follow=True).content.lower()


@pytest.mark.django_db
def test_a_reset_for_an_unknown_email_reveals_nothing() -> None:
    response = Client().post("/accounts/password/reset/", {"email": "no@example.org"})
    assert response["Location"] == "/accounts/password/reset/done/"


def test_alice_changes_her_email_after_confirming_the_new_one(alice: Any) -> None:
    client = Client()
    client.force_login(alice)
    response = client.post(
        "/accounts/email/", {"action_add": "", "email": "alice@new.example.org"}
    )
    assert response.status_code == 302
    assert mail.outbox[-1].to == ["alice@new.example.org"]
    # Until confirmed, the old address stays the one that counts.
    assert EmailAddress.objects.get_primary(alice).email == "alice@example.org"
    client.post(link_in_last_mail())
    assert list(
        EmailAddress.objects.filter(user=alice).values_list("email", "verified")
    ) == [("alice@new.example.org", True)]
    alice.refresh_from_db()
    assert alice.email == "alice@new.example.org"


def test_failed_logins_are_rate_limited(alice: Any) -> None:
    for _ in range(5):
        assert log_in(Client(), "alice", "wrong").status_code == 200
    client = Client()
    response = log_in(client, "alice", "correct horse battery staple")
    assert not is_signed_in(client)
    assert "Too many failed login attempts" in response.content.decode()


def test_password_reset_requests_are_rate_limited(alice: Any) -> None:
    for _ in range(5):
        Client().post("/accounts/password/reset/", {"email": "alice@example.org"})
    assert len(mail.outbox) == 5
    response = Client().post(
        "/accounts/password/reset/", {"email": "alice@example.org"}
    )
    assert response.status_code in (200, 429)
    assert len(mail.outbox) == 5
