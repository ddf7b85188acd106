"""Trusted-publisher workflows: add and remove, with activity, audit and email.

Publishers are immutable: to change one, remove it and add a new one (which also
resets the pinned identity). Removing one deletes its token scopes (CASCADE), so
the tokens it granted stop working at once.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.credentials import Credential
from channels.models import Activity, Channel, Membership, Role
from channels.services import record_activity

from .exceptions import PublisherError
from .models import AuditEvent, Provider, TrustedPublisher

log = logging.getLogger(__name__)

ADDS_PER_DAY = 100


def lookup_github_owner(owner: str) -> tuple[str, str] | None:
    """GitHub's (id, login) for ``owner``; None when GitHub cannot be asked.

    A 404 raises PublisherError: the owner does not exist. Anything else (no
    network, rate limit, 5xx, no GITHUB_API_URL) means trust on first use.
    """
    if not settings.GITHUB_API_URL:
        return None
    url = f"{settings.GITHUB_API_URL}/users/{owner}"
    request = urllib.request.Request(  # noqa: S310 (https or loopback, from settings)
        url, headers={"Accept": "application/vnd.github+json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            data = json.loads(response.read(64 * 1024))
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise PublisherError(
                f"GitHub has no user or organisation '{owner}'."
            ) from None
        return None
    except (urllib.error.URLError, OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("id"), int):
        return None
    return str(data["id"]), str(data.get("login") or owner)


def _pin_github_owner(fields: dict[str, Any]) -> dict[str, Any]:
    found = lookup_github_owner(fields["owner"])
    if found is None:
        return fields
    owner_id, login = found
    if fields["owner_id"] and fields["owner_id"] != owner_id:
        raise PublisherError(
            f"GitHub says the ID of '{login}' is {owner_id}, not {fields['owner_id']}."
        )
    return {**fields, "owner_id": owner_id, "owner": login}


def add_publisher(
    channel: Channel,
    *,
    provider: str,
    fields: dict[str, Any],
    actor: Credential,
    ip: str | None = None,
) -> TrustedPublisher:
    """Register a trusted publisher on ``channel`` (fields validated by its form)."""
    if provider == Provider.GITHUB:
        fields = _pin_github_owner(fields)
    if actor.user is not None:
        since = timezone.now() - timedelta(days=1)
        recent = AuditEvent.objects.filter(
            kind=AuditEvent.Kind.PUBLISHER_ADDED, actor=actor.user, created_at__gt=since
        ).count()
        if recent >= ADDS_PER_DAY:
            raise PublisherError("You added 100 publishers today; try again tomorrow.")
    try:
        with transaction.atomic():
            publisher = TrustedPublisher.objects.create(
                channel=channel, provider=provider, created_by=actor.user, **fields
            )
            _record(channel, publisher, AuditEvent.Kind.PUBLISHER_ADDED, actor, ip)
    except IntegrityError:
        raise PublisherError(
            "This channel already has exactly this trusted publisher."
        ) from None
    return publisher


def remove_publisher(
    publisher: TrustedPublisher, *, actor: Credential, ip: str | None = None
) -> None:
    """Remove a publisher; the tokens it granted lose this channel at once."""
    channel = publisher.channel
    with transaction.atomic():
        _record(channel, publisher, AuditEvent.Kind.PUBLISHER_REMOVED, actor, ip)
        publisher.delete()


def _record(
    channel: Channel,
    publisher: TrustedPublisher,
    kind: str,
    actor: Credential,
    ip: str | None,
) -> None:
    added = kind == AuditEvent.Kind.PUBLISHER_ADDED
    verb = Activity.Verb.PUBLISHER_ADDED if added else Activity.Verb.PUBLISHER_REMOVED
    record_activity(channel, actor, verb, str(publisher))
    AuditEvent.objects.create(
        kind=kind,
        channel=channel,
        actor=actor.user,
        ip=ip,
        data={"publisher": publisher.snapshot()},
    )
    transaction.on_commit(lambda: _email_owner(channel, publisher, added=added))


def _email_owner(channel: Channel, publisher: TrustedPublisher, *, added: bool) -> None:
    owner = (
        Membership.objects.filter(channel=channel, role=Role.OWNER)
        .select_related("user")
        .first()
    )
    if owner is None or not owner.user.email:
        return
    what = "added to" if added else "removed from"
    try:
        send_mail(
            f"[prefixhub] Trusted publisher {what} {channel.name}",
            f"The trusted publisher {publisher} was {what} the channel "
            f"{channel.name}.\n\nIf this was not you, review the channel's "
            f"trusted publishers at {settings.PUBLIC_URL}/channels/{channel.name}"
            "/settings/trusted-publishers",
            None,
            [owner.user.email],
        )
    except OSError:
        log.warning("Could not email the owner of %s", channel.name)
