from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from .models import TrustedPublishingToken, UsedIdToken


@shared_task(name="publishing.prune_expired_oidc_rows", acks_late=True, time_limit=300)
def prune_expired_oidc_rows_task() -> None:
    """Delete replay rows and minted tokens that can no longer be used."""
    now = timezone.now()
    UsedIdToken.objects.filter(expires_at__lt=now).delete()
    TrustedPublishingToken.objects.filter(expires_at__lt=now).delete()
