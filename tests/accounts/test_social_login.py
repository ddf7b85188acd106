"""Sign in with GitHub and Google, against a fake provider on loopback.

The adapters' endpoint URLs are what ``GITHUB_URL`` (GitHub Enterprise) and the
``GOOGLE_*_URL`` settings set at import time; the tests point them at the fake, and
everything else runs the production code path.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount, SocialApp
from allauth.socialaccount.providers.github.views import GitHubOAuth2Adapter
from allauth.socialaccount.providers.google.views import GoogleOAuth2Adapter
from django.test import Client

from accounts.models import User
from tests.accounts.fake_provider import FakeProvider, running_fake_provider

APPS = {
    "github": {"APPS": [{"client_id": "gh-client", "secret": "gh-secret"}]},
    "google": {"APPS": [{"client_id": "g-client", "secret": "g-secret"}]},
}


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeProvider]:
    with running_fake_provider() as provider:
        yield provider


@pytest.fixture
def fake(
    fake_server: FakeProvider, monkeypatch: Any, settings: Any, db: None
) -> FakeProvider:
    """GitHub and Google configured from settings, their endpoints on the fake."""
    settings.SOCIALACCOUNT_PROVIDERS = APPS
    url = fake_server.url
    for name, value in {
        "access_token_url": f"{url}/login/oauth/access_token",
        "authorize_url": f"{url}/login/oauth/authorize",
        "profile_url": f"{url}/api/v3/user",
        "emails_url": f"{url}/api/v3/user/emails",
    }.items():
        monkeypatch.setattr(GitHubOAuth2Adapter, name, value)
    monkeypatch.setattr(GoogleOAuth2Adapter, "access_token_url", f"{url}/google/token")
    monkeypatch.setattr(GoogleOAuth2Adapter, "authorize_url", f"{url}/google/auth")
    fake_server.requests.clear()
    fake_server.google_client_id = "g-client"
    fake_server.github_user = {"id": 4242, "login": "Dana-Dev", "name": "Dana Dev"}
    fake_server.github_emails = [
        {"email": "dana@example.org", "primary": True, "verified": True}
    ]
    fake_server.google_claims = {
        "sub": "10769150350006150715113082367",
        "email": "erin@example.org",
        "email_verified": True,
        "given_name": "Erin",
        "family_name": "Example",
    }
    return fake_server


def sign_in_with(client: Client, provider: str, fake: FakeProvider) -> Any:
    """Start at the site, 'approve' at the fake provider, come back with a code."""
    response = client.post(f"/accounts/{provider}/login/")
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(fake.url), location
    query = parse_qs(urlsplit(location).query)
    assert query["client_id"] == [APPS[provider]["APPS"][0]["client_id"]]  # type: ignore[index]
    callback = urlsplit(query["redirect_uri"][0]).path
    return client.get(callback, {"code": "the-code", "state": query["state"][0]})


def signed_in_user(client: Client) -> Any:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


# --- configuration ------------------------------------------------------------------


@pytest.mark.django_db
def test_providers_without_credentials_are_not_offered(settings: Any) -> None:
    settings.SOCIALACCOUNT_PROVIDERS = {}
    page = Client().get("/accounts/login/").content.decode()
    assert "GitHub" not in page and "Google" not in page


@pytest.mark.parametrize(
    "url",
    [
        "/accounts/github/login/",
        "/accounts/github/login/callback/?code=x&state=y",
        "/accounts/google/login/",
        "/accounts/google/login/callback/?code=x&state=y",
        "/accounts/google/login/token/",
    ],
)
@pytest.mark.django_db
def test_urls_of_providers_without_credentials_answer_404(
    settings: Any, url: str
) -> None:
    settings.SOCIALACCOUNT_PROVIDERS = {}
    assert Client().get(url).status_code == 404
    assert Client().post(url).status_code == 404


@pytest.mark.django_db
def test_providers_with_credentials_are_offered(settings: Any) -> None:
    settings.SOCIALACCOUNT_PROVIDERS = APPS
    for url in ("/accounts/login/", "/accounts/signup/"):
        page = Client().get(url).content.decode()
        assert "Continue with GitHub" in page
        assert "Continue with Google" in page


@pytest.mark.django_db
def test_a_provider_configured_in_the_admin_is_offered(
    settings: Any, fake: FakeProvider
) -> None:
    settings.SOCIALACCOUNT_PROVIDERS = {}
    SocialApp.objects.create(
        provider="github", name="GitHub", client_id="gh-admin", secret="s"
    )
    page = Client().get("/accounts/login/").content.decode()
    assert "Continue with GitHub" in page and "Google" not in page
    response = Client().post("/accounts/github/login/")
    assert response.status_code == 302
    assert "client_id=gh-admin" in response["Location"]


def test_provider_settings_come_from_the_environment(monkeypatch: Any) -> None:
    from prefixhub.settings import socialaccount_providers

    for name in ("GITHUB_CLIENT_ID", "GOOGLE_CLIENT_ID", "GITHUB_URL"):
        monkeypatch.delenv(name, raising=False)
    assert socialaccount_providers() == {}

    monkeypatch.setenv("GITHUB_CLIENT_ID", "id")
    monkeypatch.setenv("GITHUB_CLIENT_SECRET", "secret")
    monkeypatch.setenv("GITHUB_URL", "http://127.0.0.1:9999")
    monkeypatch.setenv("GOOGLE_ACCESS_TOKEN_URL", "http://127.0.0.1:9999/token")
    assert socialaccount_providers() == {
        "github": {
            "GITHUB_URL": "http://127.0.0.1:9999",
            "APPS": [{"client_id": "id", "secret": "secret"}],
        },
        # URLs alone do not make a provider available: it still has no app.
        "google": {"ACCESS_TOKEN_URL": "http://127.0.0.1:9999/token"},
    }


# --- GitHub -------------------------------------------------------------------------


def test_a_new_github_user_gets_an_account_with_a_valid_username(
    fake: FakeProvider,
) -> None:
    client = Client()
    response = sign_in_with(client, "github", fake)
    assert response.status_code == 302, response.content.decode()[:1500]
    user = signed_in_user(client)
    assert user.username == "dana-dev"
    assert user.email == "dana@example.org"
    assert EmailAddress.objects.get(user=user).verified
    assert SocialAccount.objects.get(user=user).uid == "4242"
    method, path, form = fake.requests[0]
    assert (method, path) == ("POST", "/login/oauth/access_token")
    assert form["code"] == ["the-code"]


def test_a_github_login_that_clashes_with_a_username_gets_another(
    alice: Any, fake: FakeProvider
) -> None:
    fake.github_user = {"id": 7, "login": "alice", "name": "Another Alice"}
    fake.github_emails = [
        {"email": "alice.other@example.org", "primary": True, "verified": True}
    ]
    client = Client()
    sign_in_with(client, "github", fake)
    user = signed_in_user(client)
    assert user.pk != alice.pk
    assert user.username == "alice-other"


def test_a_github_login_that_is_reserved_gets_a_valid_username(
    fake: FakeProvider,
) -> None:
    fake.github_user = {"id": 8, "login": "Admin", "name": None}
    fake.github_emails = [
        {"email": "root@example.org", "primary": True, "verified": True}
    ]
    client = Client()
    sign_in_with(client, "github", fake)
    assert signed_in_user(client).username == "root"


def test_github_sign_in_with_alices_verified_email_signs_in_to_alice(
    alice: Any, fake: FakeProvider
) -> None:
    fake.github_emails = [
        {"email": "alice@example.org", "primary": True, "verified": True}
    ]
    client = Client()
    sign_in_with(client, "github", fake)
    assert signed_in_user(client) == alice
    assert SocialAccount.objects.get(provider="github").user == alice
    alice.refresh_from_db()
    assert alice.has_usable_password()  # her own address was verified: nothing wiped


def test_github_sign_in_with_an_unverified_email_does_not_take_over_alice(
    alice: Any, fake: FakeProvider
) -> None:
    fake.github_emails = [
        {"email": "alice@example.org", "primary": True, "verified": False}
    ]
    client = Client()
    sign_in_with(client, "github", fake)
    assert signed_in_user(client) != alice
    assert not SocialAccount.objects.filter(user=alice).exists()


def test_a_squatted_unverified_account_loses_its_password_to_the_real_owner(
    fake: FakeProvider,
) -> None:
    """Someone signed up with dana's address but could never confirm it."""
    from tests.factories import make_user

    squatter = make_user("squatter", email="")
    EmailAddress.objects.create(
        user=squatter, email="dana@example.org", primary=True, verified=False
    )
    client = Client()
    sign_in_with(client, "github", fake)
    squatter.refresh_from_db()
    # allauth's rule: the address was never verified, so whoever set the password
    # is locked out before the provider-verified owner gets the account.
    assert not squatter.has_usable_password()


def test_a_forged_callback_is_an_error_page_not_a_crash(fake: FakeProvider) -> None:
    client = Client()
    client.post("/accounts/github/login/")
    response = client.get(
        "/accounts/github/login/callback/", {"code": "x", "state": "forged"}
    )
    assert response.status_code == 401
    assert signed_in_user(client) is None
    assert b"Third-Party Login Failure" in response.content


def test_signed_in_alice_connects_github_from_her_settings(
    alice: Any, fake: FakeProvider
) -> None:
    client = Client()
    client.force_login(alice)
    response = client.post("/accounts/github/login/", {"process": "connect"})
    query = parse_qs(urlsplit(response["Location"]).query)
    client.get(
        "/accounts/github/login/callback/",
        {"code": "c", "state": query["state"][0]},
    )
    assert SocialAccount.objects.get(provider="github").user == alice
    assert b"GitHub" in client.get("/settings/").content


# --- Google -------------------------------------------------------------------------


def test_a_new_google_user_gets_an_account(fake: FakeProvider) -> None:
    client = Client()
    response = sign_in_with(client, "google", fake)
    assert response.status_code == 302, response.content.decode()[:1500]
    user = signed_in_user(client)
    assert user.username == "erin"
    assert user.first_name == "Erin"
    assert EmailAddress.objects.get(user=user, email="erin@example.org").verified
    assert fake.requests[-1][1] == "/google/token"


def test_google_sign_in_with_alices_verified_email_signs_in_to_alice(
    alice: Any, fake: FakeProvider
) -> None:
    fake.google_claims["email"] = "alice@example.org"
    client = Client()
    sign_in_with(client, "google", fake)
    assert signed_in_user(client) == alice


def test_google_sign_in_with_an_unverified_email_does_not_take_over_alice(
    alice: Any, fake: FakeProvider
) -> None:
    fake.google_claims.update(email="alice@example.org", email_verified=False)
    client = Client()
    sign_in_with(client, "google", fake)
    assert signed_in_user(client) != alice
    assert not SocialAccount.objects.filter(user=alice).exists()
