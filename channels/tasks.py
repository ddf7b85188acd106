"""Background work of the channels app. Tasks take ids and are idempotent."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="channels.publish_index", acks_late=True, time_limit=600)
def publish_index_task(subdir_id: int) -> None:
    """Publish the shards and shard index of a subdir (a no-op when current), then
    queue the throttled repodata.json rebuild that follows every new index.

    An uploading request may have built the index, and repodata.json without its
    gzip copy, before this task ran (it helps while it waits), so the rebuild is
    queued whenever repodata.json or its copy is out of date."""
    services.publish_index(subdir_id)
    if services.repodata_outdated(subdir_id):
        schedule_repodata(subdir_id)


@shared_task(name="channels.publish_repodata", acks_late=True, time_limit=900)
def publish_repodata_task(subdir_id: int) -> None:
    """Rebuild repodata.json(.zst) of a subdir, then its gzip copy (no-ops when
    current)."""
    services.publish_repodata(subdir_id)
    services.publish_repodata_gzip(subdir_id)


@shared_task(name="channels.prune_orphan_shards", acks_late=True, time_limit=3600)
def prune_orphan_shards_task() -> None:
    """Delete shards whose grace period after leaving the index has passed."""
    services.prune_retired_shards()


@shared_task(name="channels.republish_stale_subdirs", acks_late=True, time_limit=600)
def republish_stale_subdirs_task() -> None:
    """Re-queue builds that a lost message or a killed worker left undone."""
    for subdir_id in services.subdirs_behind():
        publish_index_task.delay(subdir_id)
        schedule_repodata(subdir_id)


def schedule_repodata(subdir_id: int) -> bool:
    """Queue a repodata.json rebuild unless one is pending already; True if queued."""
    delay = services.claim_repodata_rebuild(subdir_id)
    if delay is None:
        return False
    publish_repodata_task.apply_async((subdir_id,), countdown=delay)
    return True
