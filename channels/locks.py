"""Leases: named locks in the database, shared by all workers on all machines.

A lease expires on its own, so a builder killed mid-build blocks its subdir only
until the lease runs out; the builder renews it while it works.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
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


def run_exclusively(
    key: str, is_behind: Callable[[], bool], build: Callable[[str], None]
) -> bool:
    """Run ``build`` under the lease ``key`` until nothing is left to do.

    A caller that finds the lease taken returns at once: the holder re-checks after
    releasing, so a change committed during its build is never lost.
    """
    ran = False
    while is_behind():
        owner = acquire(key, settings.PREFIXHUB_BUILD_LEASE_SECONDS)
        if owner is None:
            return ran
        try:
            build(owner)
            ran = True
        finally:
            release(key, owner)
    return ran


class Heartbeat:
    """Renews a builder's lease while it works, at most every few seconds."""

    def __init__(self, key: str, owner: str) -> None:
        self.key = key
        self.owner = owner
        self.ttl = settings.PREFIXHUB_BUILD_LEASE_SECONDS
        self.next_at = time.monotonic() + self.ttl / 4

    def __call__(self) -> None:
        if time.monotonic() < self.next_at:
            return
        if not renew(self.key, self.owner, self.ttl):
            # Another builder took over after our lease expired; stop before we
            # publish an index over its newer one.
            raise RuntimeError(f"lost the lease {self.key}")
        self.next_at = time.monotonic() + self.ttl / 4
