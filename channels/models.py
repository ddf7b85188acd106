from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from .names import name_problem


def validate_channel_name(value: str) -> None:
    problem = name_problem(value)
    if problem:
        raise ValidationError(problem, code="invalid")


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    CONTRIBUTOR = "contributor", "Contributor"
    VIEWER = "viewer", "Viewer"


WRITE_ROLES = (Role.OWNER, Role.CONTRIBUTOR)


class ChannelQuerySet(models.QuerySet["Channel"]):
    def public(self) -> ChannelQuerySet:
        return self.filter(is_private=False)

    def visible_to(self, user: Any) -> ChannelQuerySet:
        """Public channels plus the private ones ``user`` is a member of."""
        if user is None or not user.is_authenticated:
            return self.public()
        return self.filter(
            models.Q(is_private=False) | models.Q(memberships__user=user)
        ).distinct()


class Channel(models.Model):
    name = models.CharField(
        max_length=64, unique=True, validators=[validate_channel_name]
    )
    description = models.TextField(blank=True, max_length=2000)
    is_private = models.BooleanField(default=False)
    logo_url = models.URLField(blank=True, max_length=500)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ChannelQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="channel_name_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def url(self) -> str:
        """The URL conda clients use for this channel (on ``PUBLIC_URL``)."""
        return f"{settings.PUBLIC_URL}/{self.name}"


class Membership(models.Model):
    channel = models.ForeignKey(
        Channel, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "user"], name="membership_unique"
            ),
            # Exactly one owner: at most one by this constraint, at least one by the
            # services that create channels and transfer ownership.
            models.UniqueConstraint(
                fields=["channel"],
                condition=models.Q(role="owner"),
                name="membership_one_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} is {self.role} of {self.channel}"


class Subdir(models.Model):
    """The index state of one (channel, platform): generations, published hashes."""

    channel = models.ForeignKey(
        Channel, on_delete=models.CASCADE, related_name="subdirs"
    )
    name = models.CharField(max_length=32)
    # Bumped in the transaction of every change; builders record what they built.
    generation = models.BigIntegerField(default=1)
    index_generation = models.BigIntegerField(default=0)
    repodata_generation = models.BigIntegerField(default=0)
    index_sha256 = models.CharField(max_length=64, blank=True)
    repodata_sha256 = models.CharField(max_length=64, blank=True)
    repodata_zst_sha256 = models.CharField(max_length=64, blank=True)
    # The stored gzip copy of repodata.json; empty while a rebuild replaces it.
    repodata_gz_sha256 = models.CharField(max_length=64, blank=True)
    index_published_at = models.DateTimeField(null=True, blank=True)
    repodata_published_at = models.DateTimeField(null=True, blank=True)
    # Set when a repodata.json rebuild is queued, cleared when it starts (debounce).
    repodata_due_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "name"], name="subdir_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.channel_id}/{self.name}"

    #: The fields holding each published index file's hash and publication time.
    STATE_FIELDS = {
        "repodata_shards.msgpack.zst": ("index_sha256", "index_published_at"),
        "repodata.json": ("repodata_sha256", "repodata_published_at"),
        "repodata.json.zst": ("repodata_zst_sha256", "repodata_published_at"),
    }


class ShardName(models.Model):
    """A package name in a subdir and the shard currently published for it."""

    subdir = models.ForeignKey(Subdir, on_delete=models.CASCADE, related_name="names")
    name = models.CharField(max_length=255)
    shard_sha256 = models.CharField(max_length=64, blank=True)
    # The generation that last changed this name; 0 once its shard is current.
    dirty_generation = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subdir", "name"], name="shardname_unique"),
        ]
        indexes = [
            models.Index(
                fields=["subdir"],
                condition=models.Q(dirty_generation__gt=0),
                name="shardname_dirty",
            )
        ]

    def __str__(self) -> str:
        return self.name


class RetiredShard(models.Model):
    """A shard no index points at any more; kept fetchable for a grace period."""

    subdir = models.ForeignKey(Subdir, on_delete=models.CASCADE, related_name="+")
    sha256 = models.CharField(max_length=64)
    retired_at = models.DateTimeField(default=timezone.now, db_index=True)


class Lease(models.Model):
    """A named lock with an expiry, shared by every worker through the database.

    A builder that dies leaves its lease to expire, so the next build proceeds.
    """

    key = models.CharField(max_length=100, unique=True)
    owner = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)


class Activity(models.Model):
    class Verb(models.TextChoices):
        CREATED = "created", "created the channel"
        UPLOADED = "uploaded", "uploaded"
        REPLACED = "replaced", "replaced"
        DELETED = "deleted", "deleted"
        MEMBER_ADDED = "member_added", "added a member"
        MEMBER_CHANGED = "member_changed", "changed a member's role"
        MEMBER_REMOVED = "member_removed", "removed a member"
        SETTINGS_CHANGED = "settings_changed", "changed settings"
        TRANSFERRED = "transferred", "transferred ownership"
        PUBLISHER_ADDED = "publisher_added", "added a trusted publisher"
        PUBLISHER_REMOVED = "publisher_removed", "removed a trusted publisher"

    channel = models.ForeignKey(
        Channel, on_delete=models.CASCADE, related_name="activity"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    verb = models.CharField(max_length=32, choices=Verb.choices)
    detail = models.CharField(max_length=500, blank=True)
    # The CI run behind a trusted-publishing upload (repository, workflow, ref, run
    # link); empty for people.
    workflow = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "activity"
