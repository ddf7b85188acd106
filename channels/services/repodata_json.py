"""``repodata.json`` and ``.zst``: rebuilt off the upload path, throttled.

After an index build, the index task queues one rebuild (``claim_repodata_rebuild``):
at once after a quiet spell, else once ``PREFIXHUB_REPODATA_INTERVAL`` has passed
since the last, so a stream of uploads costs one rebuild per interval, never one per
upload. A rebuild joins the per-record JSON stored at upload, read once in filename
order.

A gzip copy (``repodata.json.gz``) follows each rebuild in the same task, for
clients that send ``Accept-Encoding: gzip``: ``publish_repodata_gzip`` writes it after
``.json`` and ``.zst`` are live, so it never delays them (nor an upload's answer),
and it is served only while it matches them.
"""

from __future__ import annotations

import gzip
import hashlib
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import File
from django.db import connection
from django.db.models import Func, Q, TextField
from django.utils import timezone

from channels import layout, locks
from channels.models import Subdir
from channels.repodata.repodata import (
    HashingWriter,
    Tee,
    write_entries,
    write_repodata_from_bodies,
    zstd_writer,
)
from packages.models import PackageFile
from prefixhub.storage import index_storage

# Records per page when a rebuild reads a whole subdir.
_PAGE = 5000
# gzip level 1: about 2x zstd 3's CPU on repodata (level 6 costs 2.6x more again
# for 14% fewer bytes); clients that care about bytes fetch the .zst anyway.
_GZIP_LEVEL = 1


def repodata_delay(last_published: datetime | None, now: datetime) -> float:
    """Seconds to wait before rebuilding repodata.json: none after a quiet spell,
    else until ``PREFIXHUB_REPODATA_INTERVAL`` has passed since the last rebuild.

    >>> from datetime import UTC, datetime, timedelta
    >>> now = datetime(2026, 1, 1, tzinfo=UTC)
    >>> repodata_delay(None, now), repodata_delay(now - timedelta(days=1), now)
    (0.0, 0.0)
    """
    if last_published is None:
        return 0.0
    since = (now - last_published).total_seconds()
    return max(0.0, settings.PREFIXHUB_REPODATA_INTERVAL - since)


def claim_repodata_rebuild(subdir_id: int) -> float | None:
    """Mark a repodata.json rebuild pending unless one already is (the throttle).

    Returns the delay after which the caller queues the rebuild, or None when one is
    pending already. A pending mark older than a minute belongs to a lost task and
    is replaced.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=60)
    last = Subdir.objects.values_list("repodata_published_at", flat=True).get(
        pk=subdir_id
    )
    pending = Q(repodata_due_at__isnull=True) | Q(repodata_due_at__lt=stale)
    claimed = Subdir.objects.filter(pending, pk=subdir_id).update(repodata_due_at=now)
    return repodata_delay(last, now) if claimed else None


def repodata_behind(subdir_id: int) -> bool:
    """Whether repodata.json is older than the subdir's generation."""
    row = Subdir.objects.filter(pk=subdir_id).values_list(
        "generation", "repodata_generation"
    )
    return bool(row) and row[0][0] > row[0][1]


def repodata_outdated(subdir_id: int) -> bool:
    """Whether repodata.json is behind, or lacks its gzip copy: either way its task
    has work to do."""
    row = Subdir.objects.filter(pk=subdir_id).values_list(
        "generation", "repodata_generation", "repodata_sha256", "repodata_gz_sha256"
    )
    if not row:
        return False
    generation, built, plain, packed = row[0]
    return generation > built or (bool(plain) and not packed)


def publish_repodata(subdir_id: int) -> bool:
    """Rebuild repodata.json and .zst of a subdir if they are behind its generation."""
    key = f"repodata:{subdir_id}"

    def is_behind() -> bool:
        return repodata_behind(subdir_id)

    def build(owner: str) -> None:
        # Changes from now on queue a new rebuild; this one covers what is committed.
        Subdir.objects.filter(pk=subdir_id).update(repodata_due_at=None)
        subdir = Subdir.objects.get(pk=subdir_id)
        _write_repodata(subdir)

    # This task is the pending rebuild, even when it finds nothing to do (a running
    # builder covered it) or the lease taken (whose holder re-checks afterwards):
    # left set, the mark would turn away the next change's rebuild for a minute.
    Subdir.objects.filter(pk=subdir_id).update(repodata_due_at=None)
    return locks.run_exclusively(key, is_behind, build)


class _Utf8Text(Func):
    """A binary column read as text: PostgreSQL would send bytea hex-encoded,
    doubling the bytes a repodata.json rebuild moves and decodes."""

    output_field = TextField()
    template = "CAST(%(expressions)s AS TEXT)"

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = "convert_from(%(expressions)s, 'UTF8')"
        return self.as_sql(compiler, connection, template=template, **extra)


def _ordered_fragments(subdir: Subdir) -> Iterator[tuple[str, bytes]]:
    """Every record of the subdir in filename order, in one pass.

    The order comes from the (channel, subdir, filename) unique index, so the
    database streams rows instead of sorting the subdir; it is the database's
    collation order, stable for a deployment (byte order under C or C.UTF-8).
    """
    files = PackageFile.objects.filter(
        channel_id=subdir.channel_id, subdir=subdir.name
    ).order_by("filename")
    after: str | None = None
    # Keyset pages along the index: memory stays flat, each page is one cheap
    # range scan, and plain cursor rows skip the ORM's per-row machinery.
    while True:
        page = files if after is None else files.filter(filename__gt=after)
        query = page.annotate(text=_Utf8Text("record_json"))
        sql, params = query.values_list("filename", "text")[
            :_PAGE
        ].query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        for filename, record_json in rows:
            yield filename, record_json.encode()
        if len(rows) < _PAGE:
            return
        after = rows[-1][0]


def _split_by_format(subdir: Subdir, tar_bz2: Any, conda: Any) -> None:
    """Write the bodies of the two groups, reading the records only once."""
    pending: dict[bool, list[tuple[str, bytes]]] = {True: [], False: []}
    targets = {True: conda, False: tar_bz2}
    for filename, record_json in _ordered_fragments(subdir):
        is_conda = filename.endswith(".conda")
        batch = pending[is_conda]
        batch.append((filename, record_json))
        if len(batch) >= 2000:
            _flush_entries(targets[is_conda], batch)
    for is_conda, batch in pending.items():
        _flush_entries(targets[is_conda], batch)


def _flush_entries(out: Any, batch: list[tuple[str, bytes]]) -> None:
    if not batch:
        return
    if out.tell():
        out.write(b",")
    write_entries(out, batch)
    batch.clear()


def _write_repodata(subdir: Subdir) -> None:
    generation = subdir.generation
    with ExitStack() as stack:
        tar_bz2, conda, plain, packed = (
            stack.enter_context(tempfile.TemporaryFile()) for _ in range(4)
        )
        _split_by_format(subdir, tar_bz2, conda)
        tar_bz2.seek(0)
        conda.seek(0)
        plain_hash, packed_hash = HashingWriter(plain), HashingWriter(packed)
        with zstd_writer(packed_hash) as zst:  # type: ignore[arg-type]
            write_repodata_from_bodies(
                Tee(plain_hash, zst),  # type: ignore[arg-type]
                subdir.name,
                tar_bz2,
                conda,
            )
        for name, handle in ((layout.REPODATA_ZST, packed), (layout.REPODATA, plain)):
            handle.seek(0)
            key = layout.index_key(subdir.channel_id, subdir.name, name)
            index_storage.save(key, File(handle))
        Subdir.objects.filter(pk=subdir.pk).update(
            repodata_generation=generation,
            repodata_sha256=plain_hash.hexdigest(),
            repodata_zst_sha256=packed_hash.hexdigest(),
            repodata_gz_sha256="",
            repodata_published_at=timezone.now(),
        )


def publish_repodata_gzip(subdir_id: int) -> bool:
    """Write ``repodata.json.gz`` for the current repodata.json if it has none yet.

    It holds the rebuild's lease, so no rebuild replaces repodata.json meanwhile; it
    waits a rebuild's length for the lease, and past that the holder's task (or the
    periodic repair) writes the copy.
    """
    key = f"repodata:{subdir_id}"
    owner = _acquire_soon(key)
    if owner is None:
        return False
    try:
        state = Subdir.objects.filter(pk=subdir_id).first()
        if state is None or not state.repodata_sha256 or state.repodata_gz_sha256:
            return False
        return _write_gzip_copy(state)
    finally:
        locks.release(key, owner)


def _acquire_soon(key: str) -> str | None:
    """The rebuild lease, waiting up to ``PREFIXHUB_REPODATA_REBUILD_BOUND`` for it.

    Its holder may be an uploading request that rebuilt repodata.json while it
    waited; such a request writes no gzip copy, so giving up at once would leave
    the copy missing until the periodic repair.
    """
    deadline = time.monotonic() + settings.PREFIXHUB_REPODATA_REBUILD_BOUND
    while (owner := locks.acquire(key, settings.PREFIXHUB_BUILD_LEASE_SECONDS)) is None:
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.05)
    return owner


def _write_gzip_copy(subdir: Subdir) -> bool:
    """Compress the stored repodata.json; record it only if it is the current one."""
    with (
        index_storage.open(_index_key(subdir, layout.REPODATA), "rb") as plain,
        tempfile.TemporaryFile() as packed,
    ):
        read = hashlib.sha256()
        hashing = HashingWriter(packed)
        # mtime=0 and no file name: the same JSON always gives the same bytes.
        with gzip.GzipFile(
            filename="", fileobj=hashing, mode="wb", compresslevel=_GZIP_LEVEL, mtime=0
        ) as out:  # type: ignore[call-overload]
            while chunk := plain.read(1024 * 1024):
                read.update(chunk)
                out.write(chunk)
        if read.hexdigest() != subdir.repodata_sha256:
            return False  # a rebuild died between its file and its row: it repeats
        packed.seek(0)
        index_storage.save(_index_key(subdir, layout.REPODATA_GZ), File(packed))
    return bool(
        Subdir.objects.filter(
            pk=subdir.pk, repodata_sha256=subdir.repodata_sha256
        ).update(repodata_gz_sha256=hashing.hexdigest())
    )


def _index_key(subdir: Subdir, name: str) -> str:
    return layout.index_key(subdir.channel_id, subdir.name, name)
