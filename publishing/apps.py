from __future__ import annotations

from django.apps import AppConfig
from django.core import checks


class PublishingConfig(AppConfig):
    name = "publishing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .checks import oidc_overrides

        checks.register(oidc_overrides)
