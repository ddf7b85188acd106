"""Waiting for the index to include a change, so an upload answers once it installs.

A CI job uploads and then installs at once; the upload therefore answers only when
the shard index and the file's shard include the file, and, on subdirs small enough
to rebuild in a moment, ``repodata.json`` too. The wait is bounded by settings; past
it the answer says what is not published yet, and the queued builds catch up.

The waiting request does not just poll: when no builder holds the subdir's lease it
runs the build itself, so the answer does not depend on how fast the broker hands
the queued task to a worker (the file broker polls once a second) or on that
message arriving at all. Builds still go through the lease, so concurrent uploads
share one builder, which folds all their changes into its next pass.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from channels.models import Subdir
from packages.models import PackageFile

from .index import publish_index
from .repodata_json import publish_repodata, repodata_delay

log = logging.getLogger(__name__)

# Poll at most this often while another process builds.
_MAX_POLL = 0.05


@dataclass(frozen=True)
class Publication:
    """Which index files include a change once the wait is over."""

    indexed: bool  # the shard index and the change's shard
    repodata_json: bool  # repodata.json and .zst
    # When repodata.json is not waited for: seconds until it includes the change.
    repodata_expected_within: float | None = None


def wait_until_published(
    subdir_id: int, generation: int, *, timeout: float, with_repodata: bool
) -> Publication:
    """Wait until the subdir's index (and, if asked, repodata.json) covers
    ``generation``, building it here when no other builder is at it."""
    deadline = time.monotonic() + timeout
    pause = 0.005
    while True:
        indexed, fresh = _covers(subdir_id, generation)
        done = indexed and (fresh or not with_repodata)
        if done or time.monotonic() >= deadline:
            return Publication(indexed=indexed, repodata_json=fresh)
        # Each returns at once when another process holds the lease; that builder
        # re-checks the generation before it lets go, so our change is covered.
        _help_build(subdir_id, index=not indexed)
        if _covers(subdir_id, generation) != (indexed, fresh):
            continue
        time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
        pause = min(pause * 2, _MAX_POLL)


def _help_build(subdir_id: int, *, index: bool) -> None:
    try:
        publish_index(subdir_id) if index else publish_repodata(subdir_id)
    except Exception:
        # The upload is committed: a 5xx now would make the client retry into a
        # 409. The queued build (or the periodic repair) publishes it instead.
        log.exception("building the index of subdir %s while waiting", subdir_id)


def _covers(subdir_id: int, generation: int) -> tuple[bool, bool]:
    index_generation, repodata_generation = Subdir.objects.values_list(
        "index_generation", "repodata_generation"
    ).get(pk=subdir_id)
    return index_generation >= generation, repodata_generation >= generation


def wait_for_file(package: PackageFile) -> Publication:
    """Wait (bounded by ``PREFIXHUB_UPLOAD_INDEX_WAIT``) until ``package`` installs.

    repodata.json is waited for on subdirs of up to
    ``PREFIXHUB_UPLOAD_REPODATA_MAX_FILES`` files; larger ones rebuild it on their
    throttled schedule, and the answer says how long that takes at most.
    """
    subdir_id, generation = Subdir.objects.values_list("pk", "generation").get(
        channel_id=package.channel_id, name=package.subdir
    )
    limit = settings.PREFIXHUB_UPLOAD_REPODATA_MAX_FILES
    files = PackageFile.objects.filter(
        channel_id=package.channel_id, subdir=package.subdir
    )
    # Counting stops past the limit: the answer is the same for a million files.
    small = files.values("pk")[: limit + 1].count() <= limit
    publication = wait_until_published(
        subdir_id,
        generation,
        timeout=settings.PREFIXHUB_UPLOAD_INDEX_WAIT,
        with_repodata=small,
    )
    if publication.repodata_json:
        return publication
    last = Subdir.objects.values_list("repodata_published_at", flat=True).get(
        pk=subdir_id
    )
    throttle = repodata_delay(last, timezone.now())
    return Publication(
        indexed=publication.indexed,
        repodata_json=False,
        repodata_expected_within=round(
            throttle + settings.PREFIXHUB_REPODATA_REBUILD_BOUND, 1
        ),
    )
