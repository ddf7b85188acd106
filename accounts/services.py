"""Account workflows."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from .models import User


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
