"""Index publishing: shards and the shard index per upload, repodata.json debounced.

Every change marks its package names dirty and bumps the subdir's generation in the
transaction that records it (``mark_names_changed``). After commit a builder takes
the subdir's lease, re-encodes only the dirty names' shards, stores them, and then
writes the shard index that points at them; it loops while the generation moves, so
uploads that land during a build are folded into the next pass. ``repodata.json``
is rebuilt by a separate, throttled task (``repodata_json.py``).
Builds always recompute from the database, so a crashed build is repaired by the
next one.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from kombu.exceptions import OperationalError

from channels import layout, locks
from channels.models import Channel, RetiredShard, ShardName, Subdir
from channels.repodata import (
    empty_subdir_files,
    encode_shard,
    encode_shard_index,
)
from packages.models import PackageFile
from prefixhub.storage import index_storage, write_bytes

log = logging.getLogger(__name__)

# Above this many dirty names, one ordered scan beats an IN list of names.
_SCAN_THRESHOLD = 500
# Names per UPDATE when many change at once: one statement per batch instead of
# one per name (a full rebuild of 100k records over 10k names spent 50 s in
# per-name UPDATEs); small enough for SQLite's limit on query parameters.
_BATCH = 300


@dataclass
class BuildResult:
    """What one builder run did: for tests, logs and benchmarks."""

    passes: int = 0
    shards_written: list[str] = field(default_factory=list)
    index_written: bool = False


# --- marking changes ------------------------------------------------------------


def ensure_subdir(channel: Channel, name: str) -> Subdir:
    subdir, _ = Subdir.objects.get_or_create(channel=channel, name=name)
    return subdir


def mark_names_changed(subdir: Subdir, names: Iterable[str]) -> int:
    """Mark ``names`` dirty and bump the generation, inside the change's transaction.

    Returns the new generation. The builder is queued when the transaction commits.
    """
    Subdir.objects.filter(pk=subdir.pk).update(generation=F("generation") + 1)
    generation = Subdir.objects.values_list("generation", flat=True).get(pk=subdir.pk)
    wanted = sorted(set(names))
    for start in range(0, len(wanted), _BATCH):
        batch = wanted[start : start + _BATCH]
        rows = ShardName.objects.filter(subdir=subdir, name__in=batch)
        if rows.update(dirty_generation=generation) < len(batch):
            known = set(rows.values_list("name", flat=True))
            ShardName.objects.bulk_create(
                ShardName(subdir=subdir, name=name, dirty_generation=generation)
                for name in batch
                if name not in known
            )
    request_index_build(subdir)
    return generation


def request_index_build(subdir: Subdir) -> None:
    """Queue the subdir's index builder once the current transaction commits."""
    # The one deliberate lazy import: tasks call services, and services queue tasks.
    from channels.tasks import publish_index_task

    subdir_id = subdir.pk

    def enqueue() -> None:
        try:
            publish_index_task.delay(subdir_id)
        except (OperationalError, OSError):
            # The change is committed; answering 5xx now would make the client
            # retry into a 409. The periodic republish job catches up instead.
            log.exception("could not queue the index build of subdir %s", subdir_id)

    transaction.on_commit(enqueue)


def mark_all_changed(subdir: Subdir) -> int:
    """Mark every name of the subdir dirty (a full rebuild, e.g. ``reindex``)."""
    with transaction.atomic():
        names = set(
            PackageFile.objects.filter(
                channel_id=subdir.channel_id, subdir=subdir.name
            ).values_list("name", flat=True)
        )
        names.update(
            ShardName.objects.filter(subdir=subdir).values_list("name", flat=True)
        )
        return mark_names_changed(subdir, names)


# --- shards and the shard index ------------------------------------------------------


def publish_index(subdir_id: int) -> BuildResult:
    """Bring the shards and shard index of a subdir up to its current generation."""
    result = BuildResult()
    key = f"index:{subdir_id}"

    def is_behind() -> bool:
        row = Subdir.objects.filter(pk=subdir_id).values_list(
            "generation", "index_generation"
        )
        return bool(row) and row[0][0] > row[0][1]

    def build(owner: str) -> None:
        subdir = Subdir.objects.select_related("channel").get(pk=subdir_id)
        _build_index_pass(subdir, result, heartbeat=locks.Heartbeat(key, owner))

    locks.run_exclusively(key, is_behind, build)
    if result.passes:
        # One line per builder run: how many uploads a pass folded shows in logs.
        log.info(
            "published the index of subdir %s: %d pass(es), %d shard(s) written",
            subdir_id,
            result.passes,
            len(result.shards_written),
        )
    return result


def _records_by_name(
    subdir: Subdir, names: list[str]
) -> dict[str, list[tuple[str, bytes]]]:
    files = PackageFile.objects.filter(channel_id=subdir.channel_id, subdir=subdir.name)
    if len(names) <= _SCAN_THRESHOLD:
        files = files.filter(name__in=names)
    grouped: dict[str, list[tuple[str, bytes]]] = defaultdict(list)
    wanted = set(names)
    rows = files.values_list("name", "filename", "record_msgpack").iterator(
        chunk_size=5000
    )
    for name, filename, packed in rows:
        if name in wanted:
            grouped[name].append((filename, bytes(packed)))
    return grouped


def _build_index_pass(
    subdir: Subdir, result: BuildResult, *, heartbeat: Callable[[], None]
) -> None:
    generation = subdir.generation
    dirty = list(
        ShardName.objects.filter(subdir=subdir, dirty_generation__gt=0).values_list(
            "pk", "name", "dirty_generation", "shard_sha256"
        )
    )
    records = _records_by_name(subdir, [name for _, name, _, _ in dirty])
    retired: list[RetiredShard] = []
    published: list[tuple[int, str, int]] = []
    for pk, name, dirty_generation, old_sha in dirty:
        heartbeat()
        new_sha = _publish_shard(subdir, records.get(name), result)
        if old_sha and old_sha != new_sha:
            retired.append(RetiredShard(subdir=subdir, sha256=old_sha))
        published.append((pk, new_sha, dirty_generation))
    # Every shard is stored before any name points at it, and all before the index.
    _record_shards(published)
    RetiredShard.objects.bulk_create(retired)
    heartbeat()
    _write_shard_index(subdir, generation)
    result.passes += 1
    result.index_written = True


def _publish_shard(
    subdir: Subdir, entries: list[tuple[str, bytes]] | None, result: BuildResult
) -> str:
    """Store the shard for one name's records; its sha256, or "" for no records."""
    if not entries:
        return ""
    shard = encode_shard(entries)
    path = layout.shard_key(subdir.channel_id, subdir.name, shard.sha256)
    # Content-addressed: an existing object already has exactly these bytes.
    if not index_storage.exists(path):
        write_bytes(index_storage, path, shard.data)
        result.shards_written.append(shard.sha256)
    return shard.sha256


def _record_shards(published: list[tuple[int, str, int]]) -> None:
    """Point names at their new shards; a name stays dirty if it changed meanwhile.

    ``published`` holds ``(pk, sha256, dirty_generation)``; names sharing a dirty
    generation are updated in batches, with one statement per batch.
    """
    batches: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for pk, sha256, dirty_generation in published:
        if sha256:
            batches[dirty_generation].append((pk, sha256))
        else:
            _drop_name(pk, dirty_generation)
    for dirty_generation, pairs in batches.items():
        for start in range(0, len(pairs), _BATCH):
            _point_names(pairs[start : start + _BATCH], dirty_generation)


def _point_names(pairs: list[tuple[int, str]], dirty_generation: int) -> None:
    # UPDATE ... FROM (VALUES ...) is one statement on PostgreSQL and SQLite (3.33+);
    # the ORM's equivalent (a CASE of one WHEN per row) costs ~0.3 ms of Python per
    # name to compile, seconds for a full rebuild.
    table = connection.ops.quote_name(ShardName._meta.db_table)
    values = ", ".join(["(%s, %s)"] * len(pairs))
    # Only the quoted table name and placeholders are interpolated.
    sql = (
        f"UPDATE {table} SET shard_sha256 = v.column2, dirty_generation = CASE"  # noqa: S608
        f" WHEN {table}.dirty_generation = %s THEN 0"
        f" ELSE {table}.dirty_generation END"
        f" FROM (VALUES {values}) AS v WHERE {table}.id = v.column1"
    )
    params: list[Any] = [dirty_generation]
    for pk, sha256 in pairs:
        params += [pk, sha256]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _drop_name(pk: int, dirty_generation: int) -> None:
    """The name's last file is gone: it leaves the index, unless it changed since."""
    deleted, _ = ShardName.objects.filter(
        pk=pk, dirty_generation=dirty_generation
    ).delete()
    if not deleted:
        ShardName.objects.filter(pk=pk).update(shard_sha256="")


def _write_shard_index(subdir: Subdir, generation: int) -> None:
    data = encode_shard_index(subdir.name, _published_shards(subdir))
    # Every shard named here was stored above or by an earlier pass: index last.
    key = layout.index_key(subdir.channel_id, subdir.name, layout.SHARD_INDEX)
    write_bytes(index_storage, key, data)
    Subdir.objects.filter(pk=subdir.pk).update(
        index_generation=generation,
        index_sha256=hashlib.sha256(data).hexdigest(),
        index_published_at=timezone.now(),
    )


def _published_shards(subdir: Subdir) -> dict[str, str]:
    """Name -> shard sha256 of every indexed name: the whole table, on every publish.

    One plain fetch: through ``values_list`` the rows cost about twice as much
    (100-row fetches, per-row iteration), ~10 ms of a publish at 10k names.
    """
    names = ShardName.objects.filter(subdir=subdir).exclude(shard_sha256="")
    sql, params = names.values_list("name", "shard_sha256").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return dict(cursor.fetchall())


# --- empty subdirs and clean-up -------------------------------------------------


def empty_index_file(subdir_name: str, filename: str) -> bytes | None:
    """The bytes of ``filename`` for a subdir with no published index yet."""
    return _EMPTY.setdefault(subdir_name, empty_subdir_files(subdir_name)).get(filename)


_EMPTY: dict[str, dict[str, bytes]] = {}


def prune_retired_shards(*, now: Any = None) -> int:
    """Delete shards retired longer ago than the grace period and not in use again."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.PREFIXHUB_SHARD_GRACE_DAYS)
    removed = 0
    expired = RetiredShard.objects.filter(retired_at__lt=cutoff).select_related(
        "subdir"
    )
    for retired in expired.iterator():
        in_use = ShardName.objects.filter(
            subdir_id=retired.subdir_id, shard_sha256=retired.sha256
        ).exists()
        newer = RetiredShard.objects.filter(
            subdir_id=retired.subdir_id, sha256=retired.sha256, retired_at__gte=cutoff
        ).exists()
        if not in_use and not newer:
            subdir = retired.subdir
            index_storage.delete(
                layout.shard_key(subdir.channel_id, subdir.name, retired.sha256)
            )
            removed += 1
        retired.delete()
    return removed


def subdirs_behind() -> list[int]:
    """Subdirs whose index or repodata lags their generation (lost, crashed builds),
    or whose repodata.json lacks its gzip copy."""
    return list(
        Subdir.objects.filter(
            Q(index_generation__lt=F("generation"))
            | Q(repodata_generation__lt=F("generation"))
            | (Q(repodata_gz_sha256="") & ~Q(repodata_sha256=""))
        ).values_list("pk", flat=True)
    )
