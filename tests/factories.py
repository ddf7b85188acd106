"""Small factories with defaults; real archives come from ``tests.artifacts``."""

from __future__ import annotations

from typing import Any

from accounts.models import ApiKey, User
from accounts.services import create_user
from channels.models import Channel, Membership, Role
from channels.services import create_channel


def make_user(username: str, **kw: Any) -> User:
    kw.setdefault("email", f"{username}@example.org")
    kw.setdefault("password", "correct horse battery staple")
    return create_user(username, **kw)


def make_channel(name: str = "demo", *, owner: User, **kw: Any) -> Channel:
    return create_channel(name, owner=owner, **kw)


def add_member(
    channel: Channel, user: User, role: str = Role.CONTRIBUTOR
) -> Membership:
    return Membership.objects.create(channel=channel, user=user, role=role)


def make_key(user: User, **kw: Any) -> str:
    """A new API key for ``user``; the plain secret."""
    kw.setdefault("name", "test key")
    _, secret = ApiKey.issue(user, **kw)
    return secret
