"""Who may do what with a channel. Every permission decision lives here.

Each function takes the ``Credential`` behind the request (``accounts.credentials``):
the acting user, if any, and the limits of the key or token it came with.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from accounts.credentials import Credential
from accounts.models import TOUCH_EVERY, ApiKey, User
from prefixhub.fastquery import (
    db_to_datetime,
    fetch_one,
    first_row,
    first_value,
    sql_names,
)

from .exceptions import AccessForbidden, AuthenticationRequired, ChannelNotFound
from .models import WRITE_ROLES, Channel, Membership, Role, Subdir


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


@dataclass(frozen=True)
class ReadGrant:
    """A channel a conda client may read, decided in one query.

    ``stale_key_id`` is the API key that was used when its last use is older than
    ``TOUCH_EVERY``, so the caller records the use; otherwise None.
    """

    channel_id: int
    channel_name: str
    is_private: bool
    stale_key_id: int | None
    # With ``read_grant(..., index=...)``: that index file's hash ("" until it is
    # built) and its publication time as the database gives it.
    index_sha256: str = ""
    index_published: Any = None

    @property
    def channel(self) -> Channel:
        """The channel as a model instance (with only these fields loaded)."""
        return Channel.from_db(
            connection.alias,
            ["id", "name", "is_private"],
            [self.channel_id, self.channel_name, self.is_private],
        )


def read_grant(
    name: str, key_hash: str | None, *, index: tuple[str, str] | None = None
) -> ReadGrant | None:
    """Grant reading ``name`` to anonymous readers of a public channel, or to the
    holder of the plain API key hashed as ``key_hash`` when the key is usable, its
    user active, its channel limit (if any) this channel, and the channel public or
    the user a member. None for everything else, including every refusal: the
    caller then asks ``get_channel_for_read``, which gives each refusal its status
    and message. The same rules as there, for the hottest path prefixhub has (a
    ``pixi install`` reads the shard index and one shard per package): channel,
    key, user and membership in one indexed query instead of four.

    ``index`` (a platform and one of its index files) adds that file's state to the
    same query, so a revalidation of the shard index costs one query in all.
    """
    subdir, filename = index if index is not None else (None, None)
    row = fetch_one(_read_grant_sql(filename), [key_hash, subdir, name.lower()])
    if row is None:
        return None
    channel_id, channel_name, is_private, key_id, expires_at, last_used_at, role = row[
        :7
    ]
    stale_key_id = None
    if key_hash is not None:
        if key_id is None:
            return None
        now = timezone.now()
        # Read here rather than compared in SQL: most keys never expire, and
        # public reads carry no key at all.
        if expires_at is not None and db_to_datetime(expires_at) <= now:
            return None
        if last_used_at is None or db_to_datetime(last_used_at) < now - TOUCH_EVERY:
            stale_key_id = key_id
    if is_private and role is None:
        return None
    return ReadGrant(channel_id, channel_name, bool(is_private), stale_key_id, *row[7:])


@cache
def _read_grant_sql(index_file: str | None) -> str:
    channel, c_id, c_name, c_private = sql_names(Channel, "id", "name", "is_private")
    key, k_id, k_user, k_channel, k_hash, k_used, k_revoked, k_expires = sql_names(
        ApiKey, "id", "user", "channel", "key_hash", "last_used_at", "revoked_at",
        "expires_at",
    )  # fmt: skip
    user, u_id, u_active = sql_names(User, "id", "is_active")
    member, m_channel, m_user, m_role = sql_names(Membership, "channel", "user", "role")
    state, s_channel, s_name = sql_names(Subdir, "channel", "name")
    # Without an index file the platform parameter is NULL and joins no row.
    index_columns = ""
    if index_file:
        _, sha, published = sql_names(Subdir, *Subdir.STATE_FIELDS[index_file])
        index_columns = f", s.{sha}, s.{published}"
    # Only quoted names from the models' own metadata are interpolated.
    return f"""
        SELECT c.{c_id}, c.{c_name}, c.{c_private},
               k.id, k.expires_at, k.last_used_at, m.{m_role}
               {index_columns}
        FROM {channel} c
        LEFT JOIN (
            SELECT k.{k_id} AS id, k.{k_user} AS user_id, k.{k_channel} AS channel_id,
                   k.{k_expires} AS expires_at, k.{k_used} AS last_used_at
            FROM {key} k JOIN {user} u ON u.{u_id} = k.{k_user}
            WHERE k.{k_hash} = %s AND k.{k_revoked} IS NULL AND u.{u_active}
        ) k ON (k.channel_id IS NULL OR k.channel_id = c.{c_id})
        LEFT JOIN {member} m ON m.{m_channel} = c.{c_id} AND m.{m_user} = k.user_id
        LEFT JOIN {state} s ON s.{s_channel} = c.{c_id} AND s.{s_name} = %s
        WHERE c.{c_name} = %s
    """  # noqa: S608


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
