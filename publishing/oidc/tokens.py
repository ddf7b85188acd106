"""Minted tokens: ``phub-tp-`` + 32 random base62 + a 6-character CRC32 checksum.

The checksum lets the server turn away random strings without a query; only the
SHA-256 of a token is stored. A token is checked again at every use (§3.6): its
scope rows vanish with their publisher or channel, so removal revokes it at once.
"""

from __future__ import annotations

import hashlib
import secrets
import string
import zlib

from django.db.models import F
from django.utils import timezone

from accounts.credentials import Credential, TrustedWorkflow

PREFIX = "phub-tp-"
_ALPHABET = string.digits + string.ascii_letters
_RANDOM_LENGTH = 32
_CHECK_LENGTH = 6
TOKEN_LENGTH = len(PREFIX) + _RANDOM_LENGTH + _CHECK_LENGTH


class TokenRejected(Exception):
    """Malformed, unknown, expired or revoked: the caller answers 401."""


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        digits.append(_ALPHABET[digit])
    return "".join(reversed(digits))


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode()), _CHECK_LENGTH)


def generate() -> str:
    """A fresh token; only ``[A-Za-z0-9-]`` occurs, so conda-style URLs stay intact."""
    body = PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(_RANDOM_LENGTH))
    return body + _checksum(body)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def well_formed(token: str) -> bool:
    """Prefix, length, alphabet and checksum: no database needed.

    >>> well_formed(generate()), well_formed("phub-tp-" + "a" * 38)
    (True, False)
    """
    if len(token) != TOKEN_LENGTH or not token.startswith(PREFIX):
        return False
    rest = token[len(PREFIX) :]
    if not all(c in _ALPHABET for c in rest):
        return False
    return _checksum(token[:-_CHECK_LENGTH]) == token[-_CHECK_LENGTH:]


def authenticate(raw: str) -> Credential:
    """The credential of a live minted token, or TokenRejected."""
    from publishing.models import TrustedPublishingToken, TrustedPublishingTokenScope

    if not well_formed(raw):
        raise TokenRejected("malformed trusted-publishing token")
    now = timezone.now()
    token = TrustedPublishingToken.objects.filter(
        token_hash=token_hash(raw), not_before__lte=now, expires_at__gt=now
    ).first()
    if token is None:
        raise TokenRejected("invalid or expired trusted-publishing token")
    # A scope counts while its publisher still belongs to the channel.
    scopes = tuple(
        TrustedPublishingTokenScope.objects.filter(
            token=token, publisher__channel_id=F("channel_id")
        ).values_list("channel_id", "publisher_id")
    )
    if not scopes:
        raise TokenRejected("this trusted-publishing token was revoked")
    display = token.claims.get("display", {})
    workflow = TrustedWorkflow(
        token_id=token.pk,
        publishers=scopes,
        provider=token.provider,
        repository=display.get("repository", ""),
        workflow=display.get("workflow", ""),
        ref=display.get("ref", ""),
        run_url=display.get("run_url", ""),
    )
    return Credential(
        channel_ids=frozenset(c for c, _ in scopes),
        may_overwrite=False,
        workflow=workflow,
    )
