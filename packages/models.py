from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from channels.models import Channel, Membership


class PackageFileQuerySet(models.QuerySet["PackageFile"]):
    def visible_to(self, user: Any) -> PackageFileQuerySet:
        """Files of the channels ``user`` may read: public ones and their own."""
        readable = models.Q(is_private=False)
        if user is not None and user.is_authenticated:
            mine = Membership.objects.filter(user=user).values("channel_id")
            readable |= models.Q(pk__in=mine)
        return self.filter(channel_id__in=Channel.objects.filter(readable).values("pk"))


class PackageFile(models.Model):
    """One stored conda archive in one channel's subdir, with its repodata record."""

    channel = models.ForeignKey(
        "channels.Channel", on_delete=models.CASCADE, related_name="files"
    )
    subdir = models.CharField(max_length=32)
    filename = models.CharField(max_length=255)
    name = models.CharField(max_length=255)
    version = models.CharField(max_length=128)
    build = models.CharField(max_length=128)
    build_number = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    md5 = models.CharField(max_length=32)
    size = models.BigIntegerField()
    record = models.JSONField(help_text="The repodata record, as served.")
    # The record serialised once, at upload: index builds only join these bytes.
    record_json = models.BinaryField()
    record_msgpack = models.BinaryField()
    about = models.JSONField(
        default=dict, blank=True, help_text="Descriptive fields of info/about.json."
    )
    storage_key = models.CharField(max_length=600)
    attestation = models.TextField(blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    uploaded_at = models.DateTimeField(default=timezone.now)
    # Set when a trusted publisher's CI run uploaded the file: repository, workflow,
    # ref and run link (accounts.credentials.TrustedWorkflow.as_record).
    published_via = models.JSONField(default=dict, blank=True)

    objects = PackageFileQuerySet.as_manager()

    class Meta:
        ordering = ["subdir", "filename"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "subdir", "filename"], name="packagefile_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["channel", "subdir", "name"], name="packagefile_name"),
            models.Index(fields=["channel", "name"], name="packagefile_channel_name"),
        ]

    def __str__(self) -> str:
        return f"{self.subdir}/{self.filename}"
