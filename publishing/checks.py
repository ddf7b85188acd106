"""System checks of the trusted-publishing settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Warning as CheckWarning


def oidc_overrides(app_configs: Any = None, **kwargs: Any) -> list[CheckWarning]:
    """Issuer URL overrides are for tests and development: warn in production."""
    if settings.DEBUG:
        return []
    return [
        CheckWarning(
            f"The {provider} OIDC issuer's keys come from an override "
            f"({config['jwks_url'] or config['discovery_url']}).",
            hint="Unset OIDC_<P>_DISCOVERY_URL / OIDC_<P>_JWKS_URL in production.",
            id="publishing.W001",
        )
        for provider, config in settings.OIDC_ISSUERS.items()
        if config["overridden"]
    ]
