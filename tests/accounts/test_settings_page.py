"""Account settings, and the sign-in pages in the site's own layout."""

from __future__ import annotations

import re
from typing import Any

import pytest
from allauth.socialaccount.models import SocialAccount
from django.test import Client


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_log_in() -> None:
    response = Client().get("/settings/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/settings/"


def test_alice_sees_her_email_password_and_connections(alice: Any) -> None:
    page = signed_in(alice).get("/settings/").content.decode()
    assert "alice@example.org" in page and "verified" in page
    assert "Change password" in page
    assert "No GitHub or Google account connected." in page
    assert 'href="/settings/api-keys/"' in page


def test_alice_sees_her_connected_github_account(alice: Any) -> None:
    SocialAccount.objects.create(user=alice, provider="github", uid="4242")
    page = signed_in(alice).get("/settings/").content.decode()
    assert "GitHub" in page and "4242" in page


def test_a_user_without_a_password_is_offered_to_set_one(alice: Any) -> None:
    alice.set_unusable_password()
    alice.save(update_fields=["password"])
    page = signed_in(alice).get("/settings/").content.decode()
    assert "Set a password" in page


def test_the_user_menu_links_to_settings_and_api_keys(alice: Any) -> None:
    page = signed_in(alice).get("/settings/").content.decode()
    menu = page[page.index('class="user-menu"') :]
    assert 'href="/settings/"' in menu and 'href="/settings/api-keys/"' in menu


@pytest.mark.parametrize(
    "url",
    [
        "/accounts/email/",
        "/accounts/password/change/",
        "/accounts/3rdparty/",
        "/settings/",
        "/settings/api-keys/",
    ],
)
def test_settings_pages_use_the_site_layout(alice: Any, url: str) -> None:
    page = signed_in(alice).get(url).content.decode()
    assert 'class="topbar"' in page and 'class="settings-nav"' in page
    assert 'aria-current="page"' in page


@pytest.mark.parametrize(
    "url",
    [
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/password/reset/",
        "/accounts/confirm-email/",
    ],
)
@pytest.mark.django_db
def test_sign_in_pages_use_the_site_layout_and_no_cdn(url: str) -> None:
    page = Client().get(url).content.decode()
    assert 'class="topbar"' in page and "card narrow entrance" in page
    for asset in re.findall(r'(?:src|href)="([^"]+)"', page):
        assert not asset.startswith(("http:", "https:", "//")), asset
