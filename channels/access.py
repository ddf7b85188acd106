"""Who may do what with a channel. Every permission decision lives here.

Each function takes the ``Credential`` behind the request (``accounts.credentials``):
the acting user, if any, and the limits of the key or token it came with.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.db.models import QuerySet

from accounts.credentials import Credential
from prefixhub.fastquery import first_row, first_value

from .exceptions import AccessForbidden, AuthenticationRequired, ChannelNotFound
from .models import WRITE_ROLES, Channel, Membership, Role


def role_of(channel: Channel, credential: Credential) -> str | None:
    """The acting user's role in the channel, or None."""
    if credential.user is None:
        return None
    # Asked on every private channel URL: one indexed lookup, no query compiler.
    role: str | None = first_value(
        Membership, "role", {"channel": channel.pk, "user": credential.user.pk}
    )
    return role


def can_read(channel: Channel, credential: Credential) -> bool:
    """Public channels for anyone, private ones for members; within the limits.

    One indexed query at most (none for a public channel): the channel URLs ask this
    on every request.
    """
    if not credential.reaches(channel.pk):
        return False
    if not channel.is_private:
        return True
    return role_of(channel, credential) is not None


def can_write(channel: Channel, credential: Credential) -> bool:
    """Upload files: owner and contributors, or a minted token scoped to the channel."""
    if not credential.reaches(channel.pk) or credential.read_only:
        return False
    if credential.workflow is not None:
        return credential.workflow.publisher_for(channel.pk) is not None
    return role_of(channel, credential) in WRITE_ROLES


def can_manage(channel: Channel, credential: Credential) -> bool:
    """Members, settings, publishers, transfer and deletion: the owner only, acting
    with an unlimited credential (a signed-in session)."""
    if credential.channel_ids is not None or credential.read_only:
        return False
    return role_of(channel, credential) == Role.OWNER


def _find(name: str) -> Channel | None:
    return first_row(Channel, {"name": name.lower()})


def get_channel_for_read(name: str, credential: Credential) -> Channel:
    """The channel to serve to this reader.

    Unknown channels answer like private ones (401 without credentials, 403 with),
    so nobody learns which private channel names exist, and clients never cache a
    404 for a channel they may later be given access to.
    """
    channel = _find(name)
    if channel is not None and can_read(channel, credential):
        return channel
    if credential.is_anonymous:
        raise AuthenticationRequired(
            f"Channel '{name}' requires authentication or does not exist."
        )
    raise AccessForbidden(f"You have no read access to channel '{name}'.")


def get_channel_for_upload(name: str, credential: Credential) -> Channel:
    """The channel this uploader may write to (upload, delete, reindex)."""
    if credential.is_anonymous:
        raise AuthenticationRequired("Authentication required: send an API key.")
    channel = _find(name)
    # Existence is judged without the credential's limits: a narrowed key or token is
    # refused with 403, while private channels of others stay indistinguishable from
    # none.
    if channel is None or not can_read(channel, replace(credential, channel_ids=None)):
        raise ChannelNotFound(f"Channel '{name}' does not exist.")
    if can_write(channel, credential):
        return channel
    if credential.workflow is not None:
        raise AccessForbidden(
            f"This trusted-publishing token may not upload to channel '{name}'."
        )
    if not credential.reaches(channel.pk) or credential.read_only:
        raise AccessForbidden(f"This API key may not write to channel '{name}'.")
    raise AccessForbidden(f"You may not upload to channel '{name}'.")


def get_channel_for_manage(name: str, credential: Credential) -> Channel:
    """The channel whose settings this user may change (its owner)."""
    channel = _find(name)
    if channel is None or not can_read(channel, credential):
        raise ChannelNotFound(f"Channel '{name}' does not exist.")
    if not can_manage(channel, credential):
        raise AccessForbidden("Only the channel's owner can do this.")
    return channel


# --- The website: pages, settings, listings -------------------------------------


@dataclass(frozen=True)
class ChannelAbilities:
    """What the pages may offer a user on a channel (passed to templates)."""

    can_write: bool
    can_manage: bool


def abilities(channel: Channel, credential: Credential) -> ChannelAbilities:
    """The page-level permissions of a signed-in visitor on a channel they can read.

    Pages are only ever shown to sessions, which are never limited: one role query.
    """
    role = role_of(channel, credential)
    return ChannelAbilities(
        can_write=role in WRITE_ROLES, can_manage=role == Role.OWNER
    )


def get_channel_for_page(name: str, credential: Credential) -> Channel:
    """The channel whose pages this user may see.

    Unknown and unreadable channels are both "not found", so a private channel's
    name, packages and members never leak to strangers or anonymous visitors.
    """
    channel = _find(name)
    if channel is None or not can_read(channel, credential):
        raise ChannelNotFound(f"Channel '{name}' does not exist.")
    return channel


def get_channel_for_upload_page(name: str, credential: Credential) -> Channel:
    """The channel whose upload page (and file deletion) this user may use."""
    channel = get_channel_for_page(name, credential)
    if not can_write(channel, credential):
        raise AccessForbidden(f"You may not upload to channel '{name}'.")
    return channel


def member_channel_ids(credential: Credential) -> QuerySet[Membership, int]:
    """Ids of the channels the acting user belongs to (for "your channels")."""
    if credential.user is None:
        return Membership.objects.none().values_list("channel_id", flat=True)
    return Membership.objects.filter(user=credential.user).values_list(
        "channel_id", flat=True
    )
