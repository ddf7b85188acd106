"""Who may do what with a channel. Every permission decision lives here.

``user`` is a Django user (possibly anonymous); ``key`` is the API key the request was
authenticated with, if any: a key acts for its user, narrowed to one channel and/or
to reading when it says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from accounts.models import ApiKey

from .exceptions import AccessForbidden, AuthenticationRequired, ChannelNotFound
from .models import WRITE_ROLES, Channel, ChannelQuerySet, Membership, Role


def role_of(channel: Channel, user: Any) -> str | None:
    """The user's role in the channel, or None."""
    if user is None or not user.is_authenticated:
        return None
    return (
        Membership.objects.filter(channel=channel, user=user)
        .values_list("role", flat=True)
        .first()
    )


def key_allows(key: ApiKey | None, channel: Channel, *, write: bool) -> bool:
    """Whether the key's narrowing lets it act on ``channel`` (True without a key)."""
    if key is None:
        return True
    if key.channel_id is not None and key.channel_id != channel.pk:
        return False
    return not (write and key.is_read_only)


def can_read(channel: Channel, user: Any, key: ApiKey | None = None) -> bool:
    if not key_allows(key, channel, write=False):
        return False
    if not channel.is_private:
        return True
    return role_of(channel, user) is not None


def can_write(channel: Channel, user: Any, key: ApiKey | None = None) -> bool:
    """Upload and delete files: owner and contributors."""
    if not key_allows(key, channel, write=True):
        return False
    return role_of(channel, user) in WRITE_ROLES


def can_manage(channel: Channel, user: Any) -> bool:
    """Members, settings, publishers, transfer and deletion: the owner only."""
    return role_of(channel, user) == Role.OWNER


def _find(name: str) -> Channel | None:
    return Channel.objects.filter(name=name.lower()).first()


def get_channel_for_read(name: str, user: Any, key: ApiKey | None = None) -> Channel:
    """The channel to serve to this reader.

    Unknown channels answer like private ones (401 without credentials, 403 with),
    so nobody learns which private channel names exist, and clients never cache a
    404 for a channel they may later be given access to.
    """
    channel = _find(name)
    if channel is not None and can_read(channel, user, key):
        return channel
    if user is None or not user.is_authenticated:
        raise AuthenticationRequired(
            f"Channel '{name}' requires authentication or does not exist."
        )
    raise AccessForbidden(f"You have no read access to channel '{name}'.")


def get_channel_for_upload(name: str, user: Any, key: ApiKey | None = None) -> Channel:
    """The channel this uploader may write to (upload, delete, reindex)."""
    if user is None or not user.is_authenticated:
        raise AuthenticationRequired("Authentication required: send an API key.")
    channel = _find(name)
    # Existence is judged without the key's narrowing: a narrowed key is refused
    # with 403, while private channels of others stay indistinguishable from none.
    if channel is None or not can_read(channel, user):
        raise ChannelNotFound(f"Channel '{name}' does not exist.")
    if not can_write(channel, user, key):
        if key is not None and not key_allows(key, channel, write=True):
            raise AccessForbidden(f"This API key may not write to channel '{name}'.")
        raise AccessForbidden(f"You may not upload to channel '{name}'.")
    return channel


def get_channel_for_manage(name: str, user: Any) -> Channel:
    """The channel whose settings this user may change (its owner)."""
    channel = _find(name)
    if channel is None or not can_read(channel, user):
        raise ChannelNotFound(f"Channel '{name}' does not exist.")
    if not can_manage(channel, user):
        raise AccessForbidden("Only the channel's owner can do this.")
    return channel


# --- The website: pages, settings, listings -------------------------------------


@dataclass(frozen=True)
class ChannelAbilities:
    """What the pages may offer a user on a channel (passed to templates)."""

    can_write: bool
    can_manage: bool


def abilities(channel: Channel, user: Any) -> ChannelAbilities:
    """The page-level permissions of ``user`` on a channel it can read."""
    role = role_of(channel, user)
    return ChannelAbilities(
        can_write=role in WRITE_ROLES, can_manage=role == Role.OWNER
    )


def get_channel_for_page(name: str, user: Any) -> Channel:
    """The channel whose pages this user may see.

    Unknown and unreadable channels are both "not found", so a private channel's
    name, packages and members never leak to strangers or anonymous visitors.
    """
    channel = _find(name)
    if channel is None or not can_read(channel, user):
        raise ChannelNotFound(f"Channel '{name}' does not exist.")
    return channel


def get_channel_for_upload_page(name: str, user: Any) -> Channel:
    """The channel whose upload page (and file deletion) this user may use."""
    channel = get_channel_for_page(name, user)
    if not can_write(channel, user):
        raise AccessForbidden(f"You may not upload to channel '{name}'.")
    return channel


def get_channel_for_file_delete(name: str, user: Any) -> Channel:
    """The channel whose files this user may delete from the website."""
    return get_channel_for_upload_page(name, user)


def visible_channels(user: Any) -> ChannelQuerySet:
    """Every channel the user may see listed: public ones and their own."""
    return Channel.objects.visible_to(user)


def member_channel_ids(user: Any) -> QuerySet[Membership, int]:
    """Ids of the channels the user belongs to (for "your channels")."""
    if user is None or not user.is_authenticated:
        return Membership.objects.none().values_list("channel_id", flat=True)
    return Membership.objects.filter(user=user).values_list("channel_id", flat=True)
