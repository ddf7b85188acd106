"""Who may touch which account object."""

from __future__ import annotations

from django.http import Http404

from .credentials import Credential
from .models import ApiKey


def get_api_key_for_user(credential: Credential, key_id: int) -> ApiKey:
    """The acting user's own, not yet revoked key; anybody else's answers 404."""
    if credential.user is None:
        raise Http404("No such API key.")
    key = (
        ApiKey.objects.filter(
            pk=key_id, user_id=credential.user.pk, revoked_at__isnull=True
        )
        .select_related("channel")
        .first()
    )
    if key is None:
        raise Http404("No such API key.")
    return key
