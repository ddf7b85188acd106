"""Who visits a channel page, for permission tables: a logged-in client and a channel.

``demo`` is public (alice owns it, bob contributes); ``secret`` is private (alice owns
it, bob views it); charlie belongs to neither.
"""

from __future__ import annotations

from typing import Any

from django.test import Client

VISITORS = {
    "owner": ("alice", "demo"),
    "contributor": ("bob", "demo"),
    "viewer": ("bob", "secret"),
    "stranger_public": ("charlie", "demo"),
    "stranger_private": ("charlie", "secret"),
    "anonymous_public": (None, "demo"),
    "anonymous_private": (None, "secret"),
}

# Owner-only pages: strangers learn nothing about private channels (404), anonymous
# visitors are asked to log in.
OWNER_ONLY = {
    "owner": 200,
    "contributor": 403,
    "viewer": 403,
    "stranger_public": 403,
    "stranger_private": 404,
    "anonymous_public": 302,
    "anonymous_private": 302,
}

WRITERS = {**OWNER_ONLY, "contributor": 200}


def visit(role: str, users: dict[str, Any]) -> tuple[Client, str]:
    username, channel = VISITORS[role]
    client = Client()
    if username is not None:
        client.force_login(users[username])
    return client, channel
