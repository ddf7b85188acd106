"""Rules for channel names and usernames: they share one namespace of URL segments."""

from __future__ import annotations

import re

NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?$")
NAME_RULES = (
    "lowercase letters, digits, '-' and '_', starting and ending with a letter or "
    "digit, at most 64 characters"
)

# Top-level path segments the site uses itself, plus a few that would confuse people.
RESERVED_NAMES = frozenset(
    {
        "about", "account", "accounts", "admin", "api", "apikeys", "assets", "auth",
        "channel", "channels", "conda-forge", "docs", "explore", "favicon.ico",
        "health", "healthz", "help", "home", "login", "logout", "media", "new",
        "noarch", "oidc", "org", "orgs", "packages", "prefixhub", "robots.txt",
        "search", "settings", "signup", "static", "t", "upload", "user", "users",
    }
)  # fmt: skip


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a channel or user, or None when it can.

    >>> name_problem("my-channel") is None
    True
    >>> name_problem("api")
    "'api' is reserved for the site's own pages"
    """
    if not NAME_RE.match(name):
        return f"Use {NAME_RULES}."
    if name in RESERVED_NAMES:
        return f"'{name}' is reserved for the site's own pages"
    return None
