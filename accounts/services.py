"""Account workflows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from .models import ApiKey, User

if TYPE_CHECKING:
    from channels.models import Channel


class AccountError(Exception):
    pass


def create_user(
    username: str,
    *,
    email: str = "",
    password: str | None = None,
    is_superuser: bool = False,
) -> User:
    """Create a user; an email given by an operator counts as verified."""
    if User.objects.filter(username=username).exists():
        raise AccountError(f"A user named '{username}' already exists.")
    user = User(
        username=username, email=email, is_superuser=is_superuser, is_staff=is_superuser
    )
    user.full_clean(exclude=["password"])
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    with transaction.atomic():
        user.save()
        if email:
            _add_verified_email(user, email)
    return user


def _add_verified_email(user: Any, email: str) -> None:
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)


def create_api_key(
    user: User,
    *,
    name: str,
    expires_in_days: int | None,
    channel: Channel | None = None,
    is_read_only: bool = False,
) -> tuple[ApiKey, str]:
    """Issue a key for ``user``; the plain secret is returned once and never stored.

    The caller has checked that ``user`` is a member of ``channel``.
    """
    return ApiKey.issue(
        user,
        name=name,
        expires_in_days=expires_in_days,
        channel=channel,
        is_read_only=is_read_only,
    )


def revoke_api_key(key: ApiKey) -> ApiKey:
    """Revoke ``key`` at once; requests carrying it then answer 401."""
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key
