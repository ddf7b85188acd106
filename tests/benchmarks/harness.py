"""Shared machinery of the benchmark scripts (performance.md §6).

- a dedicated PostgreSQL database (``prefixhub_bench``), created, migrated and
  dropped by the script, with data and storage in a temporary folder;
- fast loading of generated records (COPY on PostgreSQL, ``bulk_create`` elsewhere,
  which is how the smoke test runs them on the test database);
- counting of objects and bytes written to the index storage, of queries, and of
  the tasks the pipeline would queue (never run: task queueing is not timed);
- the header, the result table, ``--json`` and ``--check``.

Nothing here defines tests; pytest collects only ``test_smoke.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from importlib import metadata
from typing import Any
from unittest import mock

# records, names
SIZES: dict[str, tuple[int, int]] = {
    "tiny": (200, 20),
    "tiny2": (400, 40),
    "S": (100_000, 10_000),
    "L": (500_000, 15_000),
    "XL": (1_000_000, 25_000),
}
BENCH_DB = "prefixhub_bench"
PG_SERVER = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432")
SUBDIR = "linux-64"

_state: dict[str, Any] = {"owns_db": False, "tmp": None}


def owns_database() -> bool:
    """True when the benchmark runs on its own database (not the test database)."""
    return bool(_state["owns_db"])


def work_dir() -> str:
    """A scratch folder: the benchmark's temporary folder, or a new one."""
    if _state["tmp"] is None:
        _state["tmp"] = tempfile.mkdtemp(prefix="prefixhub-bench-")
    return str(_state["tmp"])


# --- Django and the database -----------------------------------------------------


def _django_env(tmp: str) -> None:
    os.environ["DATABASE_URL"] = f"{PG_SERVER}/{BENCH_DB}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "prefixhub.settings"
    os.environ["PREFIXHUB_DATA_DIR"] = os.path.join(tmp, "data")
    os.environ.setdefault("SECRET_KEY", "benchmark-only")
    os.environ.setdefault("ALLOWED_HOSTS", "localhost")
    os.environ.setdefault(
        "EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend"
    )
    os.environ["CELERY_BROKER_URL"] = "memory://"
    os.environ["STORAGE_BACKEND"] = "local"
    os.environ.pop("REDIS_URL", None)


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(sql)


@contextlib.contextmanager
def bench_database(*, keep: bool = False) -> Iterator[None]:
    """Create, migrate, use and drop the benchmark database and temporary folder."""
    tmp = work_dir()
    _admin(f"DROP DATABASE IF EXISTS {BENCH_DB}")
    _admin(f"CREATE DATABASE {BENCH_DB}")
    _django_env(tmp)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    _state["owns_db"] = True
    try:
        yield
    finally:
        from django.db import connections

        connections.close_all()
        if not keep:
            _admin(f"DROP DATABASE IF EXISTS {BENCH_DB}")
            shutil.rmtree(tmp, ignore_errors=True)


def child_setup() -> None:
    """Django in a fresh subprocess, on the database its parent created."""
    import django

    django.setup()
    _state["owns_db"] = True


def child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.getcwd()}


def reset_tables() -> None:
    """Empty the tables the benchmarks fill (own database only)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE packages_packagefile, channels_shardname, channels_retiredshard,"
            " channels_subdir, channels_lease, channels_activity,"
            " channels_membership, channels_channel CASCADE"
        )


def db_description() -> str:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            return f"PostgreSQL {cursor.fetchone()[0]} ({connection.settings_dict['NAME']})"
    import sqlite3

    return f"{connection.vendor} {sqlite3.sqlite_version}"


# --- loading records ------------------------------------------------------------


def load_rows(channel: Any, rows: list[Any]) -> Any:
    """Insert generated rows as PackageFiles plus their names; the Subdir, dirty."""
    from django.db import connection

    from channels.models import ShardName, Subdir

    subdir = Subdir.objects.create(channel=channel, name=SUBDIR, generation=1)
    names = sorted({row.name for row in rows})
    if connection.vendor == "postgresql":
        _copy_files(channel.pk, rows)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE packages_packagefile")
    else:
        _bulk_files(channel, rows)
    ShardName.objects.bulk_create(
        [ShardName(subdir=subdir, name=n, dirty_generation=1) for n in names],
        batch_size=5000,
    )
    return subdir


def _file_values(row: Any) -> dict[str, Any]:
    return {
        "subdir": SUBDIR,
        "filename": row.filename,
        "name": row.name,
        "version": row.version,
        "build": row.build,
        "build_number": row.build_number,
        "sha256": row.sha256,
        "md5": row.md5,
        "size": row.size,
        "storage_key": f"bench/{row.sha256}/{row.filename}",
        "attestation": "",
    }


def _copy_files(channel_id: int, rows: list[Any]) -> None:
    from django.db import connection
    from django.utils import timezone

    now = timezone.now()
    columns = [*_file_values(rows[0]), "record", "record_json", "record_msgpack"]
    defaults = _other_defaults(["id", "channel_id", "uploaded_at", *columns])
    columns += list(defaults)
    extra = tuple(defaults.values())
    sql = (
        f"COPY packages_packagefile (channel_id, uploaded_at, {', '.join(columns)})"
        " FROM STDIN"
    )
    connection.ensure_connection()
    raw = connection.connection  # psycopg 3
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(
                (
                    channel_id,
                    now,
                    *_file_values(row).values(),
                    row.json.decode(),
                    row.json,
                    row.msgpack,
                    *extra,
                )
            )
    if not connection.in_atomic_block:
        raw.commit()


def _other_defaults(known: list[str]) -> dict[str, Any]:
    """Defaults of columns COPY would leave NULL (fields added to the model later)."""
    from django.db import models

    from packages.models import PackageFile

    defaults = {}
    for f in PackageFile._meta.concrete_fields:
        if f.column in known or f.null or not f.has_default():
            continue
        value = f.get_default()
        defaults[f.column] = (
            json.dumps(value) if isinstance(f, models.JSONField) else value
        )
    return defaults


def _bulk_files(channel: Any, rows: list[Any]) -> None:
    from packages.models import PackageFile

    PackageFile.objects.bulk_create(
        [
            PackageFile(
                channel=channel,
                record=json.loads(row.json),
                record_json=row.json,
                record_msgpack=row.msgpack,
                **_file_values(row),
            )
            for row in rows
        ],
        batch_size=2000,
    )


def insert_file(channel: Any, filename: str, record: dict[str, Any], row: Any) -> Any:
    """One new PackageFile as the upload path records it."""
    from packages.models import PackageFile

    return PackageFile.objects.create(
        channel=channel,
        record=record,
        record_json=row.json,
        record_msgpack=row.msgpack,
        **{**_file_values(row), "filename": filename},
    )


# --- counting ------------------------------------------------------------------


class CountingStorage:
    """Wraps the index storage: counts objects and bytes saved, by name."""

    MONOLITHIC = ("repodata.json", "repodata.json.zst")

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.saved: list[tuple[str, int]] = []

    def save(self, name: str, content: Any, max_length: int | None = None) -> str:
        size = getattr(content, "size", None)
        result = self.inner.save(name, content, max_length=max_length)
        self.saved.append((name, int(size or 0)))
        return str(result)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.inner, attr)

    def reset(self) -> None:
        self.saved.clear()

    @property
    def objects(self) -> int:
        return len(self.saved)

    @property
    def bytes(self) -> int:
        return sum(size for _, size in self.saved)

    @property
    def monolithic(self) -> int:
        return sum(1 for name, _ in self.saved if name.endswith(self.MONOLITHIC))


@contextlib.contextmanager
def counting_index_storage() -> Iterator[CountingStorage]:
    """Put a CountingStorage behind ``prefixhub.storage.index_storage``."""
    from django.core.files.storage import storages

    from prefixhub.storage import index_storage

    counter = CountingStorage(storages["index"])
    saved = index_storage.__dict__.get("_wrapped")
    index_storage._wrapped = counter
    try:
        yield counter
    finally:
        index_storage._wrapped = saved


@dataclass
class QueuedTasks:
    """Tasks the pipeline asked to queue; benchmarks call the services directly."""

    index: list[int] = field(default_factory=list)
    repodata: list[int] = field(default_factory=list)
    on_index: Callable[[int], None] | None = None

    def _index(self, subdir_id: int) -> None:
        self.index.append(subdir_id)
        if self.on_index is not None:
            self.on_index(subdir_id)

    def _repodata(self, args: tuple[int], **kw: Any) -> None:
        self.repodata.append(args[0])


@contextlib.contextmanager
def quiet_tasks() -> Iterator[QueuedTasks]:
    """Record, never run or send, the Celery tasks the services enqueue."""
    from channels.tasks import publish_index_task, publish_repodata_task

    queued = QueuedTasks()
    with (
        mock.patch.object(publish_index_task, "delay", queued._index),
        mock.patch.object(publish_repodata_task, "apply_async", queued._repodata),
    ):
        yield queued


@contextlib.contextmanager
def count_queries() -> Iterator[Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        yield ctx


# --- statistics and timing ---------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def p99(values: list[float]) -> float:
    """Nearest-rank 99th percentile (the maximum below 100 samples)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, -(-99 * len(ordered) // 100) - 1))
    return ordered[rank]


@contextlib.contextmanager
def timed(into: dict[str, float]) -> Iterator[None]:
    """Wall and CPU time of the block (``into['wall']``, ``into['cpu']``)."""
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    into["wall"] = time.perf_counter() - wall
    into["cpu"] = time.process_time() - cpu


# --- results ---------------------------------------------------------------------


@dataclass
class Result:
    """One row of the table.

    ``ok`` is the acceptance target of the issue (``--check``); ``stretch_ok`` the
    performance doc's target (``--check --strict``). None means not applicable.
    """

    scenario: str
    size: str
    metric: str
    ours: float | None = None
    ours_p99: float | None = None
    unit: str = "ms"
    reference: float | None = None
    ratio: float | None = None
    target: str = ""
    ok: bool | None = None
    stretch: str = ""
    stretch_ok: bool | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _num(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if value != value:  # NaN
        return "n/a"
    if value == float("inf"):
        return "inf"
    if abs(value) >= 1e5:
        text = f"{value:,.0f}"
    elif abs(value) >= 100:
        text = f"{value:.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    elif abs(value) >= 0.01 or value == 0:
        text = f"{value:.2f}"
    else:
        text = f"{value:.2g}"
    return f"{text} {unit}".rstrip()


def _flag(ok: bool | None) -> str:
    return "-" if ok is None else ("PASS" if ok else "FAIL")


def format_table(results: list[Result]) -> str:
    head = (
        "scenario",
        "size",
        "metric",
        "ours median",
        "ours p99",
        "reference",
        "ratio",
        "target",
        "pass",
        "stretch (doc)",
        "met",
    )
    lines = []
    for r in results:
        lines.append(
            (
                r.scenario,
                r.size,
                r.metric,
                _num(r.ours, r.unit),
                _num(r.ours_p99, r.unit),
                _num(r.reference, r.unit if r.reference is not None else ""),
                "-" if r.ratio is None else f"{_num(r.ratio)}x",
                r.target or "-",
                _flag(r.ok),
                r.stretch or "-",
                _flag(r.stretch_ok),
            )
        )
    widths = [max(len(str(x)) for x in col) for col in zip(head, *lines, strict=True)]

    def fmt(cells: tuple[str, ...]) -> str:
        return " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True))

    out = [fmt(head), "-+-".join("-" * w for w in widths)]
    out += [fmt(cells) for cells in lines]
    notes = [f"  {r.scenario} {r.size}: {r.note}" for r in results if r.note]
    if notes:
        out += ["", "notes:", *notes]
    return "\n".join(out)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def header() -> dict[str, str]:
    import django
    from django.core.files.storage import storages

    inner = storages["index"]
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 0
    return {
        "cpu": _cpu_model(),
        "cores": f"{os.cpu_count()} ({affinity} usable by this process)",
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "django": django.get_version(),
        "database": db_description(),
        "storage": f"{type(inner).__name__} ({getattr(inner, 'location', '?')})",
        "zstandard": _version("zstandard"),
        "orjson": _version("orjson"),
        "msgpack": _version("msgpack"),
        "py-rattler": _version("py-rattler"),
        "conda-index": _version("conda-index"),
    }


def format_header(info: dict[str, str]) -> str:
    return "\n".join(f"{key:>11}: {value}" for key, value in info.items())


# --- command line -----------------------------------------------------------------


def parse_args(description: str, argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--size", default="S", help="tiny|S|L|XL, comma-separated")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per case")
    parser.add_argument("--no-reference", action="store_true", help="skip rattler")
    parser.add_argument("--json", metavar="PATH", help="also write results as JSON")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 on a missed acceptance target"
    )
    parser.add_argument(
        "--strict", action="store_true", help="with --check, stretch targets too"
    )
    parser.add_argument("--keep-db", action="store_true", help="keep database, files")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--subdir-id", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--name", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.sizes = [s.strip() for s in args.size.split(",") if s.strip()]
    for size in args.sizes:
        if size not in SIZES:
            parser.error(f"unknown size {size!r}; choose from {', '.join(SIZES)}")
    return args


def finish(
    args: argparse.Namespace, info: dict[str, str], results: list[Result]
) -> int:
    """Print the table, write ``--json``; the exit status for ``--check``."""
    print()
    print(format_header(info))
    print()
    print(format_table(results))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(
                {"header": info, "results": [asdict(r) for r in results]},
                handle,
                indent=2,
                default=str,
            )
    missed = [r for r in results if r.ok is False]
    if args.strict:
        missed += [r for r in results if r.stretch_ok is False and r.ok is not False]
    if args.check and missed:
        names = ", ".join(f"{r.scenario}/{r.size}/{r.metric}" for r in missed)
        print(f"\nmissed targets: {names}", file=sys.stderr)
        return 1
    return 0


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
