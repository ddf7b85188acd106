"""Channel workflows: create, update, members, transfer, delete, and the audit trail."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from accounts.credentials import Credential
from channels import layout
from channels.exceptions import InvalidChannel
from channels.models import Activity, Channel, Membership, Role
from prefixhub.storage import delete_prefix, index_storage, package_storage

from .index import ensure_subdir, mark_names_changed


def record_activity(
    channel: Channel, actor: Credential, verb: str, detail: str = ""
) -> None:
    """Append to the channel's activity log what ``actor`` did."""
    workflow = actor.workflow.as_record(channel.pk) if actor.workflow else {}
    Activity.objects.create(
        channel=channel,
        actor=actor.user,
        verb=verb,
        detail=detail[:500],
        workflow=workflow,
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
            record_activity(channel, Credential.for_user(owner), Activity.Verb.CREATED)
    except IntegrityError:
        raise InvalidChannel(f"A channel named '{name}' already exists.") from None
    return channel


def delete_channel(channel: Channel, *, actor: Any) -> None:
    """Delete a channel with its files and index files."""
    prefix = layout.channel_prefix(channel.pk)
    with transaction.atomic():
        channel.delete()

        def remove_files() -> None:
            delete_prefix(package_storage, prefix)
            delete_prefix(index_storage, prefix)

        transaction.on_commit(remove_files)


def update_channel(
    channel: Channel,
    *,
    actor: Any,
    description: str,
    is_private: bool,
    logo_url: str,
) -> Channel:
    """Change a channel's description, visibility and logo; records what changed."""
    changes = {
        "description": description,
        "is_private": is_private,
        "logo_url": logo_url,
    }
    changed = [f for f, value in changes.items() if getattr(channel, f) != value]
    if not changed:
        return channel
    for field in changed:
        setattr(channel, field, changes[field])
    try:
        channel.full_clean(
            exclude=["name"], validate_unique=False, validate_constraints=False
        )
    except ValidationError as exc:
        messages = [m for msgs in exc.message_dict.values() for m in msgs]
        raise InvalidChannel(" ".join(messages)) from None
    with transaction.atomic():
        channel.save(update_fields=[*changed, "updated_at"])
        record_activity(
            channel,
            Credential.for_user(actor),
            Activity.Verb.SETTINGS_CHANGED,
            _describe(channel, changed),
        )
    return channel


def _describe(channel: Channel, changed: list[str]) -> str:
    parts = []
    for field in changed:
        if field == "is_private":
            parts.append("private" if channel.is_private else "public")
        else:
            parts.append(field.replace("_", " "))
    return ", ".join(parts)


MEMBER_ROLES = (Role.CONTRIBUTOR, Role.VIEWER)


def _check_member_role(role: str) -> None:
    if role not in MEMBER_ROLES:
        raise InvalidChannel(
            "A member is a contributor or a viewer; transfer ownership instead."
        )


def add_member(channel: Channel, *, user: Any, role: str, actor: Any) -> Membership:
    """Make ``user`` a contributor or viewer of the channel."""
    _check_member_role(role)
    try:
        with transaction.atomic():
            membership = Membership.objects.create(
                channel=channel, user=user, role=role
            )
            record_activity(
                channel,
                Credential.for_user(actor),
                Activity.Verb.MEMBER_ADDED,
                f"{user.username} as {role}",
            )
    except IntegrityError:
        raise InvalidChannel(f"{user.username} is already a member.") from None
    return membership


def _membership(channel: Channel, user: Any) -> Membership:
    membership = (
        Membership.objects.select_for_update()
        .filter(channel=channel, user=user)
        .first()
    )
    if membership is None:
        raise InvalidChannel(f"{user.username} is not a member of this channel.")
    if membership.role == Role.OWNER:
        raise InvalidChannel(
            "The owner stays the owner until ownership is transferred."
        )
    return membership


def change_role(channel: Channel, *, user: Any, role: str, actor: Any) -> Membership:
    """Change a member's role between contributor and viewer (never the owner's)."""
    _check_member_role(role)
    with transaction.atomic():
        membership = _membership(channel, user)
        if membership.role == role:
            return membership
        membership.role = role
        membership.save(update_fields=["role"])
        record_activity(
            channel,
            Credential.for_user(actor),
            Activity.Verb.MEMBER_CHANGED,
            f"{user.username} to {role}",
        )
    return membership


def remove_member(channel: Channel, *, user: Any, actor: Any) -> None:
    """Remove a contributor or viewer; the owner cannot be removed."""
    with transaction.atomic():
        membership = _membership(channel, user)
        membership.delete()
        record_activity(
            channel,
            Credential.for_user(actor),
            Activity.Verb.MEMBER_REMOVED,
            user.username,
        )


def check_transfer(channel: Channel, *, new_owner: Any) -> None:
    """Raise InvalidChannel when ``new_owner`` cannot take the channel over; the
    confirmation page asks only about transfers that can happen."""
    role = (
        Membership.objects.filter(channel=channel, user=new_owner)
        .values_list("role", flat=True)
        .first()
    )
    _check_transfer_target(new_owner, role)


def _check_transfer_target(new_owner: Any, role: str | None) -> None:
    if role is None:
        raise InvalidChannel(
            f"{new_owner.username} must be a member before becoming the owner."
        )
    if role == Role.OWNER:
        raise InvalidChannel(f"{new_owner.username} already owns this channel.")


def transfer_ownership(channel: Channel, *, new_owner: Any, actor: Any) -> None:
    """Hand the channel to an existing member; the former owner becomes contributor.

    Exactly one owner at every moment: the old owner is demoted before the new one
    is promoted, inside one transaction (the partial unique constraint allows at
    most one owner row at a time).
    """
    with transaction.atomic():
        rows = list(
            Membership.objects.select_for_update()
            .filter(channel=channel)
            .filter(models.Q(role=Role.OWNER) | models.Q(user=new_owner))
        )
        owner = next((m for m in rows if m.role == Role.OWNER), None)
        target = next((m for m in rows if m.user_id == new_owner.pk), None)
        _check_transfer_target(new_owner, target.role if target else None)
        assert target is not None
        if owner is not None:
            owner.role = Role.CONTRIBUTOR
            owner.save(update_fields=["role"])
        target.role = Role.OWNER
        target.save(update_fields=["role"])
        record_activity(
            channel,
            Credential.for_user(actor),
            Activity.Verb.TRANSFERRED,
            f"to {new_owner.username}",
        )
