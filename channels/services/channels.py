"""Channel workflows: create, delete, and the audit trail."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from channels.exceptions import InvalidChannel
from channels.models import Activity, Channel, Membership, Role
from prefixhub.storage import delete_prefix, index_storage, package_storage

from .index import ensure_subdir, mark_names_changed


def record_activity(channel: Channel, actor: Any, verb: str, detail: str = "") -> None:
    Activity.objects.create(
        channel=channel,
        actor=actor if actor is not None and actor.is_authenticated else None,
        verb=verb,
        detail=detail[:500],
    )


def create_channel(
    name: str,
    *,
    owner: Any,
    description: str = "",
    is_private: bool = False,
    logo_url: str = "",
) -> Channel:
    """Create a channel owned by ``owner``, with an (empty) noarch index queued."""
    channel = Channel(
        name=name, description=description, is_private=is_private, logo_url=logo_url
    )
    try:
        channel.full_clean()
    except ValidationError as exc:
        messages = [m for msgs in exc.message_dict.values() for m in msgs]
        raise InvalidChannel(" ".join(messages)) from None
    try:
        with transaction.atomic():
            channel.save()
            Membership.objects.create(channel=channel, user=owner, role=Role.OWNER)
            noarch = ensure_subdir(channel, "noarch")
            mark_names_changed(noarch, [])
            record_activity(channel, owner, Activity.Verb.CREATED)
    except IntegrityError:
        raise InvalidChannel(f"A channel named '{name}' already exists.") from None
    return channel


def delete_channel(channel: Channel, *, actor: Any) -> None:
    """Delete a channel with its files and index files."""
    prefix = str(channel.pk)
    with transaction.atomic():
        channel.delete()

        def remove_files() -> None:
            delete_prefix(package_storage, prefix)
            delete_prefix(index_storage, prefix)

        transaction.on_commit(remove_files)
