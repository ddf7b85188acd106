"""Trusted publishing: publishers, minted tokens and their scope, replay and audit rows.

Specified in docs/trusted-publishing.md; only hashes of tokens are stored, and no
row ever holds a token or a JWT.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class Provider(models.TextChoices):
    GITHUB = "github", "GitHub Actions"
    GITLAB = "gitlab", "GitLab CI/CD"
    GOOGLE = "google", "Google Cloud"


class TrustedPublisher(models.Model):
    """A CI identity that may publish to one channel. Immutable once saved.

    One table for the three providers, so tokens can point at any of them:
    GitHub uses owner/repository/workflow_filename/environment/owner_id, GitLab
    uses them as namespace/project/pipeline file/environment/namespace id, Google
    uses email and sub. Unused fields stay "" (never NULL, so the uniqueness
    constraint covers them); ``owner_id`` is NULL until pinned.
    """

    channel = models.ForeignKey(
        "channels.Channel", on_delete=models.CASCADE, related_name="publishers"
    )
    provider = models.CharField(max_length=16, choices=Provider.choices)
    owner = models.CharField(max_length=255, blank=True)
    repository = models.CharField(max_length=255, blank=True)
    workflow_filename = models.CharField(max_length=255, blank=True)
    environment = models.CharField(max_length=255, blank=True)
    # NULL until pinned (trust on first use); the capture updates "WHERE IS NULL".
    owner_id = models.CharField(max_length=32, null=True, blank=True)  # noqa: DJ001
    email = models.CharField(max_length=254, blank=True)
    sub = models.CharField(max_length=32, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                "channel",
                "provider",
                Lower("owner"),
                Lower("repository"),
                "workflow_filename",
                "environment",
                "email",
                "sub",
                name="trustedpublisher_unique",
            ),
        ]
        indexes = [
            models.Index(
                "provider", Lower("owner"), Lower("repository"), name="publisher_ident"
            ),
            models.Index("provider", "email", name="publisher_email"),
        ]

    def __str__(self) -> str:
        return f"{self.get_provider_display()}: {self.identity}"

    @property
    def identity(self) -> str:
        """The repository, project or service account, as people write it."""
        if self.provider == Provider.GOOGLE:
            return self.email
        return f"{self.owner}/{self.repository}"

    def snapshot(self) -> dict[str, Any]:
        """The fields an audit event keeps of this publisher."""
        return {
            "id": self.pk,
            "provider": self.provider,
            "owner": self.owner,
            "repository": self.repository,
            "workflow_filename": self.workflow_filename,
            "environment": self.environment,
            "owner_id": self.owner_id,
            "email": self.email,
            "sub": self.sub,
        }


class UsedIdToken(models.Model):
    """An exchanged OIDC token (its ``jti``, or the JWT's hash for Google)."""

    issuer = models.CharField(max_length=255)
    key = models.CharField(max_length=255)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "key"], name="usedidtoken_unique")
        ]


class TrustedPublishingToken(models.Model):
    """A minted 15-minute upload token; only the SHA-256 of the secret is stored."""

    token_hash = models.CharField(max_length=64, unique=True)
    issuer = models.CharField(max_length=255)
    provider = models.CharField(max_length=16, choices=Provider.choices)
    created_at = models.DateTimeField(default=timezone.now)
    not_before = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    claims = models.JSONField(default=dict, help_text="The audit claims, no secrets.")
    ip = models.GenericIPAddressField(null=True, blank=True)

    def __str__(self) -> str:
        return f"token {self.pk} ({self.provider})"


class TrustedPublishingTokenScope(models.Model):
    """One channel a token may upload to, through the publisher that matched."""

    token = models.ForeignKey(
        TrustedPublishingToken, on_delete=models.CASCADE, related_name="scopes"
    )
    publisher = models.ForeignKey(
        TrustedPublisher, on_delete=models.CASCADE, related_name="+"
    )
    channel = models.ForeignKey(
        "channels.Channel", on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["token", "channel"], name="tokenscope_unique"
            )
        ]


class AuditEvent(models.Model):
    """An append-only trusted-publishing event; never holds a token or a JWT."""

    class Kind(models.TextChoices):
        PUBLISHER_ADDED = "trusted_publisher.added"
        PUBLISHER_REMOVED = "trusted_publisher.removed"
        IDENTITY_CAPTURED = "trusted_publisher.identity_captured"
        TOKEN_MINTED = "oidc.token_minted"  # noqa: S105 (an event name)
        MINT_FAILED = "oidc.mint_failed"
        PACKAGE_UPLOADED = "package.uploaded"

    kind = models.CharField(max_length=64, choices=Kind.choices)
    channel = models.ForeignKey(
        "channels.Channel",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    data = models.JSONField(default=dict)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.kind
