"""Mail links and site names come from PUBLIC_URL, never from the request's Host."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from tests.factories import make_user
from tests.settings_probe import settings_of

PUBLIC = "https://conda.example.org"


@pytest.fixture
def public(settings: Any) -> None:
    settings.PUBLIC_URL = PUBLIC


def _request_reset(host: str) -> Any:
    return Client().post(
        "/accounts/password/reset/", {"email": "dana@example.org"}, HTTP_HOST=host
    )


def test_only_the_public_host_and_loopback_names_are_allowed_by_default() -> None:
    assert settings_of("ALLOWED_HOSTS", PUBLIC_URL="https://conda.example.org") == [
        "conda.example.org",
        "localhost",
        "127.0.0.1",
        "[::1]",
    ]
    assert settings_of("ALLOWED_HOSTS") == ["127.0.0.1", "localhost", "[::1]"]
    assert settings_of("ALLOWED_HOSTS", ALLOWED_HOSTS="a.example,b.example") == [
        "a.example",
        "b.example",
    ]


@pytest.mark.django_db
def test_a_reset_requested_with_a_foreign_host_is_refused(
    settings: Any, public: None
) -> None:
    settings.ALLOWED_HOSTS = ["conda.example.org", "localhost", "127.0.0.1", "[::1]"]
    make_user("dana")
    response = _request_reset("evil.example")
    assert response.status_code == 400
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_reset_mail_links_to_the_public_url_whatever_host_was_sent(
    settings: Any, public: None
) -> None:
    settings.ALLOWED_HOSTS = ["*"]  # a permissive setting an operator might choose
    make_user("dana")
    assert _request_reset("evil.example").status_code == 302
    (message,) = mail.outbox
    links = re.findall(r"https?://\S+", message.body)
    assert links, message.body
    assert all(link.startswith(PUBLIC + "/") for link in links), links
    assert "evil.example" not in message.body + message.subject


@pytest.mark.django_db
def test_mail_names_the_site_not_the_host_and_port(settings: Any, public: None) -> None:
    make_user("dana")
    assert _request_reset("127.0.0.1:8103").status_code == 302
    (message,) = mail.outbox
    assert message.subject.startswith("[prefixhub] ")
    assert "127.0.0.1:8103" not in message.body + message.subject
    assert "prefixhub" in message.body


@pytest.mark.django_db
def test_the_confirmation_mail_links_to_the_public_url(public: None) -> None:
    response = Client().post(
        "/accounts/signup/",
        {
            "email": "erin@example.org",
            "username": "erin",
            "password1": "a long and unusual passphrase",
            "password2": "a long and unusual passphrase",
        },
        HTTP_HOST="localhost:8000",
    )
    assert response.status_code == 302
    links = re.findall(r"https?://\S+", mail.outbox[-1].body)
    assert links and all(link.startswith(PUBLIC + "/") for link in links), links
