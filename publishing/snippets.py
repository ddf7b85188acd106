"""What the trusted-publishers page shows per publisher, ready-to-paste CI included."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings

from channels.models import Channel

from .models import Provider, TrustedPublisher


def gitlab_token_variable(audience: str) -> str:
    """The variable rattler reads an audience's GitLab ID token from.

    >>> gitlab_token_variable("conda.example.org")
    'CONDA_EXAMPLE_ORG_ID_TOKEN'
    """
    return re.sub(r"[^A-Z0-9]", "_", audience.upper()) + "_ID_TOKEN"


def github_workflow(publisher: TrustedPublisher, channel: Channel) -> str:
    environment = (
        f"    environment: {publisher.environment}\n" if publisher.environment else ""
    )
    return (
        "name: Publish\n"
        "on:\n"
        "  push:\n"
        "    tags: ['v*']\n"
        "jobs:\n"
        "  publish:\n"
        "    runs-on: ubuntu-latest\n"
        f"{environment}"
        "    permissions:\n"
        "      id-token: write  # lets the job request an OIDC token\n"
        "      contents: read\n"
        "    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "      - uses: prefix-dev/setup-pixi@v0.8.1\n"
        "        with:\n"
        "          run-install: false\n"
        "      - run: pixi exec rattler-build build --recipe recipe.yaml\n"
        "      - run: >-\n"
        "          pixi exec rattler-build upload prefix\n"
        f"          --url {settings.PUBLIC_URL}\n"
        f"          --channel {channel.name}\n"
        "          output/**/*.conda\n"
    )


def gitlab_job(publisher: TrustedPublisher, channel: Channel) -> str:
    audience = settings.OIDC_AUDIENCE
    environment = (
        f"  environment: {publisher.environment}\n" if publisher.environment else ""
    )
    return (
        "publish:\n"
        "  image: ghcr.io/prefix-dev/pixi:latest\n"
        f"{environment}"
        "  id_tokens:\n"
        f"    {gitlab_token_variable(audience)}:\n"
        f"      aud: {audience}\n"
        "  script:\n"
        "    - pixi exec rattler-build build --recipe recipe.yaml\n"
        "    - >-\n"
        "      pixi exec rattler-build upload prefix\n"
        f"      --url {settings.PUBLIC_URL}\n"
        f"      --channel {channel.name}\n"
        "      output/**/*.conda\n"
    )


def publisher_view(publisher: TrustedPublisher, channel: Channel) -> dict[str, Any]:
    """The rows of the page: identity, pinning state, last use and the CI snippet."""
    snippet = ""
    if publisher.provider == Provider.GITHUB:
        snippet = github_workflow(publisher, channel)
    elif publisher.provider == Provider.GITLAB:
        snippet = gitlab_job(publisher, channel)
    return {
        "publisher": publisher,
        "pinnable": publisher.provider != Provider.GOOGLE,
        "id_label": "Owner ID"
        if publisher.provider == Provider.GITHUB
        else "Namespace ID",
        "snippet": snippet,
    }
