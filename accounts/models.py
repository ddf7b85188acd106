from __future__ import annotations

import hashlib
import secrets
import string
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone

from .validators import validate_account_name

KEY_PREFIX = "phub-"
_ALPHABET = string.ascii_letters + string.digits


class User(AbstractUser):
    """A person. Usernames follow the channel-name rules so member lists read well."""

    username = models.CharField(
        max_length=64,
        unique=True,
        validators=[validate_account_name],
        help_text="Lowercase letters, digits, '-' and '_'.",
        error_messages={"unique": "That username is taken."},
    )


# How stale a key's last use may be before a request records it again.
TOUCH_EVERY = timedelta(minutes=1)


def hash_key(key: str) -> str:
    """Keys are 190 bits of randomness, so a fast hash is enough to store them."""
    return hashlib.sha256(key.encode()).hexdigest()


def generate_key() -> str:
    # conda cuts tokens at anything outside [A-Za-z0-9-]: base62 only.
    return KEY_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(32))


class ApiKeyQuerySet(models.QuerySet["ApiKey"]):
    def usable(self) -> ApiKeyQuerySet:
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiKey(models.Model):
    """A secret that pixi, rattler-build and CI use; only its hash is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, help_text="Shown to recognise the key.")
    key_hash = models.CharField(max_length=64, unique=True)
    channel = models.ForeignKey(
        "channels.Channel",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="When set, the key only works for this channel.",
    )
    is_read_only = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(
        cls, user: User, *, name: str, expires_in_days: int | None = None, **kw: Any
    ) -> tuple[ApiKey, str]:
        """Create a key; the plain secret is returned once and never stored."""
        secret = generate_key()
        expires_at = (
            timezone.now() + timedelta(days=expires_in_days)
            if expires_in_days
            else None
        )
        key = cls.objects.create(
            user=user,
            name=name,
            prefix=secret[: len(KEY_PREFIX) + 6],
            key_hash=hash_key(secret),
            expires_at=expires_at,
            **kw,
        )
        return key, secret

    @property
    def is_usable(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()

    def touch(self) -> None:
        """Record use at most once a minute: a write per request would be a hot spot."""
        now = timezone.now()
        if self.last_used_at and now - self.last_used_at < TOUCH_EVERY:
            return
        ApiKey.mark_used(self.pk, now)
        self.last_used_at = now

    @staticmethod
    def mark_used(pk: int, when: datetime) -> None:
        ApiKey.objects.filter(pk=pk).update(last_used_at=when)
