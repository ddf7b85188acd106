"""Who may touch which account object."""

from __future__ import annotations

from typing import Any

from django.http import Http404

from .models import ApiKey


def get_api_key_for_user(user: Any, key_id: int) -> ApiKey:
    """The user's own, not yet revoked key; anybody else's answers 404."""
    key = (
        ApiKey.objects.filter(pk=key_id, user_id=user.pk, revoked_at__isnull=True)
        .select_related("channel")
        .first()
    )
    if key is None:
        raise Http404("No such API key.")
    return key
