"""Steps 6-9 of the pipeline: match publishers, then mint in one transaction."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from publishing.models import (
    AuditEvent,
    TrustedPublisher,
    TrustedPublishingToken,
    TrustedPublishingTokenScope,
    UsedIdToken,
)

from . import claims as claim_checks
from . import tokens
from .errors import InvalidPublisher, MintError, ReusedToken
from .verify import VerifiedToken, parse, verify

log = logging.getLogger(__name__)

TOKEN_LIFETIME = timedelta(minutes=15)
# The replay row outlives every acceptance of the JWT: exp plus leeway plus margin.
REPLAY_MARGIN = timedelta(seconds=claim_checks.LEEWAY + 5)


def candidates(verified: VerifiedToken) -> list[TrustedPublisher]:
    """The publishers of the token's identity (§3.3), oldest first."""
    key = claim_checks.identity(verified.provider, verified.claims)
    if key is None:
        return []
    rows = TrustedPublisher.objects.filter(provider=verified.provider)
    if verified.provider == "google":
        rows = rows.filter(email=key[0])
    else:
        rows = rows.annotate(o=Lower("owner"), r=Lower("repository")).filter(
            o=key[0], r=key[1]
        )
    return list(rows.order_by("id"))


def match(verified: VerifiedToken) -> list[TrustedPublisher]:
    """Every candidate that passes its provider's checks; InvalidPublisher if none."""
    check = claim_checks.CHECKS[verified.provider]
    found = candidates(verified)
    if not found:
        name = claim_checks.workflow_display(verified.provider, verified.claims)
        raise InvalidPublisher(
            f"No trusted publisher is registered for {name['repository']!r} "
            "on this server."
        )
    failures = [(check(verified.claims, p), p) for p in found]
    matched = [p for failure, p in failures if failure is None]
    if matched:
        return matched
    closest = max((f for f, _ in failures if f), key=lambda f: f.step)
    raise InvalidPublisher(
        f"The token does not match the trusted publisher: {closest.reason}."
    )


def mint(raw_jwt: str, *, ip: str | None) -> str:
    """Exchange a CI provider's OIDC token for a minted upload token (the secret)."""
    try:
        verified = verify(raw_jwt)
    except MintError as exc:
        exc.issuer = _issuer_hint(raw_jwt)
        raise
    try:
        matched = match(verified)
        return _issue(verified, matched, raw_jwt=raw_jwt, ip=ip)
    except MintError as exc:
        exc.issuer = verified.issuer
        exc.subject = claim_checks.workflow_display(verified.provider, verified.claims)[
            "repository"
        ]
        raise


def _issuer_hint(raw_jwt: str) -> str:
    try:
        iss = parse(raw_jwt)[1].get("iss")
    except MintError:
        return ""
    return iss[:200] if isinstance(iss, str) else ""


def _issue(
    verified: VerifiedToken,
    matched: list[TrustedPublisher],
    *,
    raw_jwt: str,
    ip: str | None,
) -> str:
    secret = tokens.generate()
    jwt_sha256 = hashlib.sha256(raw_jwt.encode()).hexdigest()
    try:
        with transaction.atomic():
            _capture_identities(verified, matched)
            token = _record(verified, matched, secret, jwt_sha256, ip)
    except IntegrityError:
        # The replay row exists: this JWT was exchanged before (or concurrently).
        raise ReusedToken(
            "This OIDC token was already exchanged; request a fresh one."
        ) from None
    claims = verified.claims
    if claims.get("job_workflow_ref", claims.get("workflow_ref")) != claims.get(
        "workflow_ref"
    ):
        log.info("Token %s came from a reusable workflow: %s", token.pk,
                 claims.get("job_workflow_ref"))  # fmt: skip
    log.info(
        "Minted trusted-publishing token %s for %s (publishers %s)",
        token.pk,
        token.claims["display"]["repository"],
        [p.pk for p in matched],
    )
    return secret


def _capture_identities(
    verified: VerifiedToken, matched: list[TrustedPublisher]
) -> None:
    """Trust on first use: pin the owner or namespace id of unpinned publishers."""
    value = claim_checks.captured_id(verified.provider, verified.claims)
    for publisher in matched:
        if publisher.owner_id is not None or value is None:
            continue
        updated = TrustedPublisher.objects.filter(
            pk=publisher.pk, owner_id__isnull=True
        ).update(owner_id=value)
        if not updated:
            stored = (
                TrustedPublisher.objects.filter(pk=publisher.pk)
                .values_list("owner_id", flat=True)
                .first()
            )
            if stored != value:
                raise InvalidPublisher(
                    f"The owner id {value} differs from the one just pinned."
                )
            continue
        publisher.owner_id = value
        AuditEvent.objects.create(
            kind=AuditEvent.Kind.IDENTITY_CAPTURED,
            channel_id=publisher.channel_id,
            data={
                "publisher_id": publisher.pk,
                "captured_id": value,
                "claims": claim_checks.audit_claims(verified.provider, verified.claims),
            },
        )


def _record(
    verified: VerifiedToken,
    matched: list[TrustedPublisher],
    secret: str,
    jwt_sha256: str,
    ip: str | None,
) -> TrustedPublishingToken:
    now = timezone.now()
    claims = verified.claims
    UsedIdToken.objects.create(
        issuer=verified.issuer,
        key=claim_checks.replay_key(verified.provider, claims, jwt_sha256),
        expires_at=datetime.fromtimestamp(claims["exp"], tz=UTC) + REPLAY_MARGIN,
    )
    audit: dict[str, Any] = {
        **claim_checks.audit_claims(verified.provider, claims),
        "display": claim_checks.workflow_display(verified.provider, claims),
    }
    token = TrustedPublishingToken.objects.create(
        token_hash=tokens.token_hash(secret),
        issuer=verified.issuer,
        provider=verified.provider,
        created_at=now,
        not_before=now,
        expires_at=now + TOKEN_LIFETIME,
        claims=audit,
        ip=ip,
    )
    TrustedPublishingTokenScope.objects.bulk_create(
        TrustedPublishingTokenScope(token=token, publisher=p, channel_id=p.channel_id)
        for p in matched
    )
    TrustedPublisher.objects.filter(pk__in=[p.pk for p in matched]).update(
        last_used_at=now
    )
    AuditEvent.objects.create(
        kind=AuditEvent.Kind.TOKEN_MINTED,
        channel_id=matched[0].channel_id,
        ip=ip,
        data={
            "token_id": token.pk,
            "publisher_ids": [p.pk for p in matched],
            "channel_ids": [p.channel_id for p in matched],
            "issuer": verified.issuer,
            "claims": audit,
            "environment_unpinned": any(not p.environment for p in matched),
        },
    )
    return token
