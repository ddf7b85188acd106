"""Leases: named locks in the database, shared by all workers on all machines.

A lease expires on its own, so a builder killed mid-build blocks its subdir only
until the lease runs out; the builder renews it while it works.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from .models import Lease


def acquire(key: str, ttl: float) -> str | None:
    """Take the lease ``key`` for ``ttl`` seconds; its owner token, or None if held."""
    if not Lease.objects.filter(key=key).exists():
        try:
            with transaction.atomic():
                Lease.objects.create(key=key)
        except IntegrityError:
            pass  # created by a concurrent caller; compete for it below
    owner = uuid.uuid4().hex
    now = timezone.now()
    taken = (
        Lease.objects.filter(key=key)
        .filter(Q(owner="") | Q(expires_at__lt=now))
        .update(owner=owner, expires_at=now + timedelta(seconds=ttl))
    )
    return owner if taken else None


def renew(key: str, owner: str, ttl: float) -> bool:
    """Extend a held lease; False if it was lost (expired and taken by another)."""
    until = timezone.now() + timedelta(seconds=ttl)
    return bool(Lease.objects.filter(key=key, owner=owner).update(expires_at=until))


def release(key: str, owner: str) -> None:
    Lease.objects.filter(key=key, owner=owner).update(owner="", expires_at=None)
