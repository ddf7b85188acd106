"""Trusted-publishing settings, the system check, the clean-up task, the logs."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from prefixhub import settings as prefixhub_settings
from publishing.checks import oidc_overrides
from publishing.models import TrustedPublishingToken, UsedIdToken
from publishing.oidc import tokens
from publishing.tasks import prune_expired_oidc_rows_task
from tests.oidc_issuer import github_claims
from tests.publishing.conftest import Oidc, github_publisher


@pytest.mark.parametrize(
    ("public_host", "env", "expected"),
    [
        ("conda.example.org", "", "conda.example.org"),
        ("bücher.example", "", "xn--bcher-kva.example"),
        ("ignored", "Conda.Example.Org", "conda.example.org"),
    ],
)
def test_the_audience_is_the_bare_public_host_name(
    monkeypatch: Any, public_host: str, env: str, expected: str
) -> None:
    monkeypatch.setenv("OIDC_AUDIENCE", env)

    assert prefixhub_settings._oidc_audience(public_host) == expected


@pytest.mark.parametrize(
    "value", ["https://conda.example.org", "conda.example.org:8443", "example.org/x"]
)
def test_an_audience_with_scheme_port_or_path_is_refused(
    monkeypatch: Any, value: str
) -> None:
    monkeypatch.setenv("OIDC_AUDIENCE", value)

    with pytest.raises(ImproperlyConfigured):
        prefixhub_settings._oidc_audience("x")


@pytest.mark.parametrize(
    "url",
    [
        "https://issuer.example/jwks",
        "http://127.0.0.1:9000/jwks",
        "http://127.8.9.10/jwks",
        "http://localhost:1/jwks",
        "http://[::1]:1/jwks",
    ],
)
def test_https_and_loopback_http_overrides_are_allowed(
    monkeypatch: Any, url: str
) -> None:
    monkeypatch.setenv("OIDC_GITHUB_JWKS_URL", url)

    assert prefixhub_settings._oidc_override("OIDC_GITHUB_JWKS_URL") == url


@pytest.mark.parametrize(
    "url", ["http://issuer.example/jwks", "ftp://127.0.0.1/jwks", "https:///jwks"]
)
def test_other_overrides_are_refused(monkeypatch: Any, url: str) -> None:
    monkeypatch.setenv("OIDC_GITHUB_JWKS_URL", url)

    with pytest.raises(ImproperlyConfigured):
        prefixhub_settings._oidc_override("OIDC_GITHUB_JWKS_URL")


def test_an_override_without_debug_is_warned_about(
    settings: Any, oidc_server: Any
) -> None:
    settings.OIDC_ISSUERS = oidc_server.settings_for()
    settings.DEBUG = False

    assert {w.id for w in oidc_overrides()} == {"publishing.W001"}
    settings.DEBUG = True
    assert oidc_overrides() == []


def test_the_default_issuers_are_the_real_ones() -> None:
    issuers = prefixhub_settings.OIDC_ISSUERS
    assert issuers["github"]["issuer"] == "https://token.actions.githubusercontent.com"
    assert issuers["gitlab"]["jwks_host"] == "gitlab.com"
    assert issuers["google"]["jwks_host"] == "www.googleapis.com"


def test_tokens_are_46_characters_of_the_url_safe_alphabet() -> None:
    for _ in range(200):
        token = tokens.generate()
        assert len(token) == 46
        assert tokens.well_formed(token)
        assert tokens.well_formed(token.upper()) is False


def test_expired_replay_rows_and_tokens_are_pruned(oidc: Oidc, channel: Any) -> None:
    github_publisher(channel)
    assert oidc.mint(oidc.github.sign(github_claims())).status_code == 200
    live_jti = UsedIdToken.objects.get().key
    UsedIdToken.objects.create(
        issuer="x", key="old", expires_at=timezone.now() - timedelta(seconds=1)
    )
    TrustedPublishingToken.objects.update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    prune_expired_oidc_rows_task()

    # The live replay row stays until the JWT it guards has expired.
    assert list(UsedIdToken.objects.values_list("key", flat=True)) == [live_jti]
    assert not TrustedPublishingToken.objects.exists()


def test_neither_token_nor_jwt_reaches_the_log(
    oidc: Oidc, channel: Any, caplog: Any
) -> None:
    github_publisher(channel)
    jwt = oidc.github.sign(github_claims())
    bad = oidc.github.sign(github_claims(environment="staging"))
    caplog.set_level(logging.DEBUG)

    secret = oidc.mint(jwt).content.decode()
    oidc.mint(bad)
    oidc.mint(jwt)

    logged = caplog.text
    assert "Minted trusted-publishing token" in logged
    for value in (secret, jwt, bad, jwt.split(".")[2], bad.split(".")[1]):
        assert value not in logged
