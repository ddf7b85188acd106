"""Trusted-publishing fixtures: the local issuers wired into the server's settings."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from publishing.models import TrustedPublisher
from tests.oidc_issuer import GOOGLE_EMAIL, GOOGLE_SUB, IssuerServer

AUDIENCE = "conda.example.org"


class Oidc:
    """The issuers, their server, and shortcuts for driving the real endpoints."""

    def __init__(self, server: IssuerServer, client: Client) -> None:
        self.server = server
        self.client = client
        self.github = server.issuers["github"]
        self.gitlab = server.issuers["gitlab"]
        self.google = server.issuers["google"]

    def mint(self, token: Any, **extra: Any) -> Any:
        return self.client.post(
            "/api/oidc/mint_token",
            {"token": token},
            content_type="application/json",
            **extra,
        )


@pytest.fixture
def oidc(oidc_server: IssuerServer, settings: Any, db: None) -> Oidc:
    oidc_server.reset()
    cache.clear()
    settings.OIDC_ISSUERS = oidc_server.settings_for()
    settings.OIDC_AUDIENCE = AUDIENCE
    settings.OIDC_EXTRA_AUDIENCES = []
    settings.OIDC_MINT_RATE_LIMIT = "1000/m"
    return Oidc(oidc_server, Client(REMOTE_ADDR="203.0.113.7"))


def github_publisher(channel: Any, **over: Any) -> TrustedPublisher:
    """The spec's GitHub publisher: octo-org (65) / pkg / release.yml / production."""
    fields = {
        "owner": "octo-org",
        "repository": "pkg",
        "workflow_filename": "release.yml",
        "environment": "production",
        "owner_id": "65",
        **over,
    }
    return TrustedPublisher.objects.create(channel=channel, provider="github", **fields)


def gitlab_publisher(channel: Any, **over: Any) -> TrustedPublisher:
    """The spec's GitLab publisher: group/sub / proj / .gitlab-ci.yml / release."""
    fields = {
        "owner": "group/sub",
        "repository": "proj",
        "workflow_filename": ".gitlab-ci.yml",
        "environment": "release",
        **over,
    }
    return TrustedPublisher.objects.create(channel=channel, provider="gitlab", **fields)


def google_publisher(channel: Any, **over: Any) -> TrustedPublisher:
    fields = {"email": GOOGLE_EMAIL, "sub": GOOGLE_SUB, **over}
    return TrustedPublisher.objects.create(channel=channel, provider="google", **fields)
