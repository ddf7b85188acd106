"""Upload permissions beyond channel access: who may overwrite a file."""

from __future__ import annotations

from typing import Any

from accounts.models import ApiKey
from channels.access import can_write
from channels.models import Channel


def may_overwrite(channel: Channel, user: Any, key: ApiKey | None) -> bool:
    """``force=true`` replaces a file: owners and contributors, with a writing key."""
    return can_write(channel, user, key)
