"""Publishing benchmarks: P1, P2, P3, P5, P6, R1, R2 and M2 of performance.md §5.

Run ``python -m tests.benchmarks.bench_publish --size S,L --repeat 7``. The script
creates its own PostgreSQL database, loads seeded synthetic records (``synth``),
measures the pipeline of ``channels.services`` (index and repodata_json) and, in the same run on the
same records, rattler-index (py-rattler ``index_fs``) adding one real package to a
subdir holding a placeholder file per record and the previous repodata.json.

Ours is timed from the dirty mark (``mark_names_changed`` in the upload's
transaction) until ``publish_index`` returns; the services are called directly, so
task queueing is not timed (the Celery tasks are recorded, never sent).
"""

from __future__ import annotations

import asyncio
import io
import json
import random
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import harness, synth
from .harness import Result, median, p99

SLOW_REFERENCE_SIZES = ("L", "XL")  # rattler runs once there (performance.md §6)
BURST_UPLOADS, BURST_NAMES, BURST_CLIENTS, BURST_PACE_S = 200, 50, 8, 10.0


@dataclass
class Ctx:
    """One loaded subdir and what the scenarios need to know about it."""

    size: str
    rows: list[synth.Row]
    channel: Any
    subdir: Any
    groups: dict[str, list[synth.Row]]
    median_names: list[str]
    largest: str
    counter: harness.CountingStorage
    queued: harness.QueuedTasks
    tag: int = 0
    touched: set[str] = field(default_factory=set)

    @property
    def tiny(self) -> bool:
        return self.size.startswith("tiny")

    def next_tag(self) -> int:
        self.tag += 1
        return self.tag


# --- the pipeline steps, as an upload and the builder run them ----------------------


def _upload(ctx: Ctx, name: str) -> tuple[str, float, float, int, Any]:
    """Insert one new file for ``name`` and publish: (filename, wall, cpu, queries,
    BuildResult), timed from the dirty mark until ``publish_index`` returns."""
    from django.db import transaction

    from channels.services import mark_names_changed, publish_index

    filename, record, row = synth.new_row(ctx.groups[name][0], ctx.next_tag())
    with harness.count_queries() as queries:
        with transaction.atomic():
            harness.insert_file(ctx.channel, filename, record, row)
            start = len(queries.captured_queries)
            wall, cpu = time.perf_counter(), time.process_time()
            mark_names_changed(ctx.subdir, [name])
        result = publish_index(ctx.subdir.pk)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    ctx.touched.add(name)
    return filename, wall, cpu, len(queries.captured_queries) - start, result


def _upload_untraced(ctx: Ctx, name: str) -> tuple[float, float, Any]:
    """As ``_upload`` without the debug cursor, whose overhead would be timed."""
    from django.db import transaction

    from channels.services import mark_names_changed, publish_index

    filename, record, row = synth.new_row(ctx.groups[name][0], ctx.next_tag())
    with transaction.atomic():
        harness.insert_file(ctx.channel, filename, record, row)
        wall, cpu = time.perf_counter(), time.process_time()
        mark_names_changed(ctx.subdir, [name])
    result = publish_index(ctx.subdir.pk)
    ctx.touched.add(name)
    return time.perf_counter() - wall, time.process_time() - cpu, result


@dataclass
class Series:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    objects: list[int] = field(default_factory=list)
    monolithic: list[int] = field(default_factory=list)
    passes: list[int] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def add(self, wall: float, cpu: float, ctx: Ctx, result: Any) -> None:
        self.wall.append(wall)
        self.cpu.append(cpu)
        self.objects.append(ctx.counter.objects)
        self.monolithic.append(ctx.counter.monolithic)
        self.passes.append(result.passes if result is not None else 0)


def _ms_runs(ctx: Ctx, repeat: int) -> int:
    """Millisecond-scale cases take at least 20 timed runs (performance.md §6)."""
    return repeat if ctx.tiny else max(20, repeat)


def bench_incremental(ctx: Ctx, names: list[str], runs: int) -> Series:
    """P1/P2: one new file per run, each to the next of ``names``; one warm-up."""
    series = Series()
    for i in range(runs + 1):
        name = names[i % len(names)]
        ctx.counter.reset()
        if i == 0:  # the warm-up, traced: its query count is the reported one
            _, wall, cpu, queries, result = _upload(ctx, name)
            series.queries.append(queries)
            series.objects.append(ctx.counter.objects)
            series.monolithic.append(ctx.counter.monolithic)
            continue
        wall, cpu, result = _upload_untraced(ctx, name)
        series.add(wall, cpu, ctx, result)
    ctx.counter.reset()
    _, _, _, queries, _ = _upload(ctx, names[-1])  # traced again after the series
    series.queries.append(queries)
    return series


def bench_delete(ctx: Ctx, names: list[str], runs: int) -> Series:
    """P5: delete one existing file of a name per run; the old shard stays."""
    from django.db import transaction

    from channels.layout import shard_key
    from channels.models import ShardName
    from channels.services import mark_names_changed, publish_index
    from packages.models import PackageFile
    from prefixhub.storage import index_storage

    series = Series()
    kept = 0
    for i in range(runs + 1):
        name = names[i % len(names)]
        old_sha = ShardName.objects.get(subdir=ctx.subdir, name=name).shard_sha256
        ctx.counter.reset()
        with harness.count_queries() as queries:
            with transaction.atomic():
                victim = (
                    PackageFile.objects.filter(
                        channel=ctx.channel, subdir=ctx.subdir.name, name=name
                    )
                    .order_by("filename")
                    .first()
                )
                assert victim is not None
                victim.delete()
                start = len(queries.captured_queries)
                wall, cpu = time.perf_counter(), time.process_time()
                mark_names_changed(ctx.subdir, [name])
            result = publish_index(ctx.subdir.pk)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        ctx.touched.add(name)
        kept += bool(old_sha) and index_storage.exists(
            shard_key(ctx.channel.pk, ctx.subdir.name, old_sha)
        )
        if i == 0:
            series.queries.append(len(queries.captured_queries) - start)
            continue
        series.add(wall, cpu, ctx, result)
    series.extra["old_shard_fetchable"] = kept == runs + 1
    return series


def bench_repodata(ctx: Ctx, runs: int) -> Series:
    """R1: after one upload, rebuild repodata.json and .zst (the debounced task)."""
    from django.conf import settings
    from django.utils import timezone

    from channels.models import Subdir
    from channels.services import publish_repodata
    from channels.services.repodata_json import repodata_delay

    series = Series()
    delays = []
    for i in range(runs + 1):
        # One upload to a quiet channel: the previous rebuild is an interval ago.
        time.sleep(settings.PREFIXHUB_REPODATA_INTERVAL)
        _upload_untraced(ctx, ctx.median_names[i % len(ctx.median_names)])
        last = Subdir.objects.get(pk=ctx.subdir.pk).repodata_published_at
        delay = repodata_delay(last, timezone.now())
        ctx.counter.reset()
        wall, cpu = time.perf_counter(), time.process_time()
        ran = publish_repodata(ctx.subdir.pk)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        assert ran
        state = Subdir.objects.get(pk=ctx.subdir.pk)
        assert state.repodata_generation == state.generation
        if i:
            series.add(wall, cpu, ctx, None)
            delays.append(delay)
    series.extra["bytes"] = ctx.counter.bytes
    series.extra["delays"] = delays
    return series


def bench_full_rebuild(ctx: Ctx, runs: int) -> Series:
    """R2: every shard, the index, repodata.json and .zst, from the database.

    The subdir's index folder is emptied first, so every shard is written again.
    The first run (which also publishes the freshly loaded subdir) is the warm-up.
    """
    from channels.layout import subdir_prefix
    from channels.services import mark_all_changed, publish_index, publish_repodata
    from prefixhub.storage import delete_prefix, index_storage

    series = Series()
    for i in range(runs + 1):
        delete_prefix(index_storage, subdir_prefix(ctx.channel.pk, ctx.subdir.name))
        ctx.counter.reset()
        wall, cpu = time.perf_counter(), time.process_time()
        mark_all_changed(ctx.subdir)
        result = publish_index(ctx.subdir.pk)
        publish_repodata(ctx.subdir.pk)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        harness.log(f"  R2 {ctx.size} run {i}: {wall:.2f} s wall, {cpu:.2f} s cpu")
        if i:
            series.add(wall, cpu, ctx, result)
    series.extra["bytes"] = ctx.counter.bytes
    return series


# --- P6: a burst of uploads -------------------------------------------------------


@dataclass
class Burst:
    mode: str
    uploads: int
    names: int
    builder_cpu: float = 0.0
    builder_runs: int = 0
    passes: int = 0
    max_concurrent_builds: int = 0
    shards_visible_s: float = 0.0
    repodata_visible_s: float = 0.0
    lost: int = 0
    wall: float = 0.0


def bench_burst(ctx: Ctx, *, paced_s: float, uploads: int, n_names: int) -> Burst:
    """P6: ``uploads`` new files over ``n_names`` names from concurrent clients.

    On the benchmark's own PostgreSQL database, 8 client threads upload while two
    builder threads (like two workers) run ``publish_index`` whenever a build is
    requested; builder CPU is the builders' thread CPU (the database server's is
    not counted). On the test database it runs in one thread, building every few
    uploads, which checks the same invariants.
    """
    from django.conf import settings

    from channels.services import index as index_service

    rng = random.Random(f"burst-{ctx.size}-{paced_s}")
    names = rng.sample(sorted(ctx.groups), min(n_names, len(ctx.groups)))
    jobs = [names[i % len(names)] for i in range(uploads)]
    rng.shuffle(jobs)
    burst = Burst("paced" if paced_s else "at once", uploads, len(names))
    in_flight = [0]
    guard = threading.Lock()
    real_pass = index_service._build_index_pass

    def counted_pass(*args: Any, **kwargs: Any) -> None:
        with guard:
            in_flight[0] += 1
            burst.max_concurrent_builds = max(burst.max_concurrent_builds, in_flight[0])
        try:
            real_pass(*args, **kwargs)
        finally:
            with guard:
                in_flight[0] -= 1

    index_service._build_index_pass = counted_pass  # type: ignore[assignment]
    try:
        if harness.owns_database():
            visible_after = _burst_threads(ctx, burst, jobs, paced_s)
        else:
            visible_after = _burst_inline(ctx, burst, jobs)
    finally:
        index_service._build_index_pass = real_pass  # type: ignore[assignment]
    burst.shards_visible_s = visible_after
    from channels.services import publish_repodata

    started = time.perf_counter()
    publish_repodata(ctx.subdir.pk)
    # Worst case: the last rebuild of the burst had just finished.
    burst.repodata_visible_s = settings.PREFIXHUB_REPODATA_INTERVAL + (
        time.perf_counter() - started
    )
    burst.lost = len(verify(ctx, names=names, repodata=True))
    ctx.touched.update(names)
    return burst


def _burst_inline(ctx: Ctx, burst: Burst, jobs: list[str]) -> float:
    """Uploads one after another, building every 4th: seconds from the last
    commit until the index is current."""
    from django.db import transaction

    from channels.services import mark_names_changed, publish_index

    last = time.perf_counter()
    for i, name in enumerate(jobs):
        filename, record, row = synth.new_row(ctx.groups[name][0], ctx.next_tag())
        with transaction.atomic():
            harness.insert_file(ctx.channel, filename, record, row)
            mark_names_changed(ctx.subdir, [name])
        last = time.perf_counter()
        if i % 4 == 3:
            _build_timed(ctx, burst, publish_index)
    _build_timed(ctx, burst, publish_index)
    return time.perf_counter() - last


def _build_timed(ctx: Ctx, burst: Burst, publish_index: Callable[[int], Any]) -> None:
    cpu = time.thread_time()
    result = publish_index(ctx.subdir.pk)
    burst.builder_cpu += time.thread_time() - cpu
    burst.builder_runs += 1
    burst.passes += result.passes


def _burst_threads(ctx: Ctx, burst: Burst, jobs: list[str], paced_s: float) -> float:
    from django.db import connection, transaction

    from channels.models import Subdir
    from channels.services import mark_names_changed, publish_index

    wake = threading.Condition()
    pending = [0]
    done = threading.Event()
    stats_lock = threading.Lock()
    last_commit = [0.0]
    errors: list[BaseException] = []

    def request(_subdir_id: int) -> None:
        with wake:
            pending[0] += 1
            wake.notify_all()

    def builder() -> None:
        try:
            while True:
                with wake:
                    while not pending[0] and not done.is_set():
                        wake.wait(0.05)
                    if not pending[0] and done.is_set():
                        return
                    pending[0] = 0
                cpu = time.thread_time()
                result = publish_index(ctx.subdir.pk)
                with stats_lock:
                    burst.builder_cpu += time.thread_time() - cpu
                    burst.builder_runs += 1
                    burst.passes += result.passes
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    def client(my_jobs: list[tuple[float, str]], start: float) -> None:
        try:
            for due, name in my_jobs:
                delay = start + due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                filename, record, row = synth.new_row(ctx.groups[name][0], next_tag())
                with transaction.atomic():
                    harness.insert_file(ctx.channel, filename, record, row)
                    mark_names_changed(ctx.subdir, [name])
                with stats_lock:
                    last_commit[0] = max(last_commit[0], time.perf_counter())
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    tag_lock = threading.Lock()

    def next_tag() -> int:
        with tag_lock:
            return ctx.next_tag()

    ctx.queued.on_index = request
    step = paced_s / len(jobs) if paced_s else 0.0
    scheduled = [(i * step, name) for i, name in enumerate(jobs)]
    per_client = [scheduled[c::BURST_CLIENTS] for c in range(BURST_CLIENTS)]
    start = time.perf_counter() + 0.05
    builders = [threading.Thread(target=builder) for _ in range(2)]
    clients = [threading.Thread(target=client, args=(j, start)) for j in per_client]
    wall = time.perf_counter()
    try:
        for thread in builders + clients:
            thread.start()
        for thread in clients:
            thread.join()
        # Wait, with a deadline, until the builders have caught up.
        deadline = time.perf_counter() + 60
        while time.perf_counter() < deadline:
            state = Subdir.objects.values_list("generation", "index_generation").get(
                pk=ctx.subdir.pk
            )
            if state[0] == state[1]:
                break
            time.sleep(0.002)
        caught_up = time.perf_counter()
        done.set()
        with wake:
            wake.notify_all()
        for thread in builders:
            thread.join()
    finally:
        ctx.queued.on_index = None
    if errors:
        raise errors[0]
    burst.wall = time.perf_counter() - wall
    return caught_up - last_commit[0]  # from the last commit to a current index


# --- checking outputs against the database ------------------------------------------


def verify(ctx: Ctx, *, names: list[str] | None = None, repodata: bool) -> list[str]:
    """Problems found comparing the published files with the database (none: [])."""
    import msgpack

    from channels.layout import (
        REPODATA,
        REPODATA_ZST,
        SHARD_INDEX,
        index_key,
        shard_key,
    )
    from channels.models import ShardName, Subdir
    from packages.models import PackageFile
    from prefixhub.storage import index_storage
    from tests.core.decoding import unpack_zst, unzstd

    def read(path: str) -> bytes:
        with index_storage.open(path) as handle:
            return bytes(handle.read())

    problems: list[str] = []
    subdir = Subdir.objects.get(pk=ctx.subdir.pk)
    files = PackageFile.objects.filter(channel=ctx.channel, subdir=subdir.name)
    by_name: dict[str, set[str]] = {}
    for name, filename in files.values_list("name", "filename").iterator():
        by_name.setdefault(name, set()).add(filename)
    table = dict(
        ShardName.objects.filter(subdir=subdir)
        .exclude(shard_sha256="")
        .values_list("name", "shard_sha256")
    )
    index = unpack_zst(read(index_key(subdir.channel_id, subdir.name, SHARD_INDEX)))
    if {n: h.hex() for n, h in index["shards"].items()} != table:
        problems.append("the shard index differs from the name table")
    if set(table) != set(by_name):
        problems.append("the indexed names differ from the files' names")
    check = sorted(by_name) if ctx.tiny or names is None else names
    if names is None and not ctx.tiny:
        check = random.Random(0).sample(sorted(by_name), min(200, len(by_name)))
        check += sorted(ctx.touched)
    for name in check:
        if name not in table:
            problems.append(f"{name} has no shard")
            continue
        shard = unpack_zst(read(shard_key(subdir.channel_id, subdir.name, table[name])))
        got = [*shard["packages"], *shard["packages.conda"]]
        if len(got) != len(set(got)) or set(got) != by_name.get(name, set()):
            problems.append(f"shard of {name} does not match the database")
            continue
        stored = dict(files.filter(name=name).values_list("filename", "record_msgpack"))
        for group in ("packages", "packages.conda"):
            for filename, record in shard[group].items():
                if record != msgpack.unpackb(bytes(stored[filename])):
                    problems.append(f"record {filename} differs from the database")
    if repodata:
        plain = read(index_key(subdir.channel_id, subdir.name, REPODATA))
        if (
            unzstd(read(index_key(subdir.channel_id, subdir.name, REPODATA_ZST)))
            != plain
        ):
            problems.append("repodata.json.zst does not decode to repodata.json")
        data = json.loads(plain)
        listed = [*data["packages"], *data["packages.conda"]]
        every = set().union(*by_name.values()) if by_name else set()
        if len(listed) != len(set(listed)) or set(listed) != every:
            problems.append("repodata.json does not list exactly the database's files")
        for name in check[:50]:
            for filename, record_json in files.filter(name=name).values_list(
                "filename", "record_json"
            ):
                group = "packages.conda" if filename.endswith(".conda") else "packages"
                if data[group].get(filename) != json.loads(bytes(record_json)):
                    problems.append(f"repodata record {filename} differs")
    return problems


# --- floors: the same encoding work from memory, without database or storage -------


def _best(fn: Callable[[], Any], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return median(times)


def floors(ctx: Ctx, runs: int) -> dict[str, float]:
    """Encode floors (seconds): one shard + index, repodata join + zstd 3, all."""
    import zstandard

    from channels.repodata import encode_shard, encode_shard_index, write_repodata

    entries = {
        name: [(r.filename, r.msgpack) for r in group]
        for name, group in ctx.groups.items()
    }
    shas = {name: encode_shard(e).sha256 for name, e in entries.items()}
    ordered = sorted(ctx.rows, key=lambda r: r.filename.encode())
    tar_bz2 = [(r.filename, r.json) for r in ordered if r.filename.endswith(".tar.bz2")]
    conda = [(r.filename, r.json) for r in ordered if r.filename.endswith(".conda")]

    def one(name: str) -> Callable[[], Any]:
        return lambda: (
            encode_shard(entries[name]),
            encode_shard_index(harness.SUBDIR, shas),
        )

    def join_zstd() -> None:
        out = io.BytesIO()
        write_repodata(out, harness.SUBDIR, tar_bz2, conda)
        zstandard.ZstdCompressor(level=3).compress(out.getvalue())

    def everything() -> None:
        for e in entries.values():
            encode_shard(e)
        encode_shard_index(harness.SUBDIR, shas)
        join_zstd()

    slow_runs = 1 if ctx.size in SLOW_REFERENCE_SIZES else 3
    one_shard = [_best(one(n), 1) for n in ctx.median_names[: max(runs, 5)]]
    return {
        "p1": median(one_shard),
        "p2": _best(one(ctx.largest), max(3, runs // 4)),
        "r1": _best(join_zstd, slow_runs),
        "r2": _best(everything, slow_runs),
    }


# --- the reference: rattler-index ---------------------------------------------------


def rattler_reference(ctx: Ctx, runs: int) -> dict[str, Any] | None:
    """rattler ``index_fs`` adding one real .conda to the same records (seconds)."""
    from rattler.index import index_fs

    from tests.artifacts import build_package

    root = Path(harness.work_dir()) / f"rattler-{ctx.size}"
    shutil.rmtree(root, ignore_errors=True)
    sub = root / harness.SUBDIR
    sub.mkdir(parents=True)
    (root / "noarch").mkdir()
    started = time.perf_counter()
    for (
        row
    ) in ctx.rows:  # placeholders: rattler only extracts files it has no record of
        (sub / row.filename).touch()
    previous = synth.repodata_bytes(ctx.rows)
    name = ctx.median_names[0]
    package = build_package(
        root.parent / f"pkg-{ctx.size}",
        name=name,
        version="9999.999.0",
        platform=harness.SUBDIR,
        build="h1234567_0",
        depends=["libgcc >=13"],
    )
    shutil.copy(package, sub / package.name)
    harness.log(
        f"  rattler {ctx.size}: set up in {time.perf_counter() - started:.1f} s"
    )
    wall: list[float] = []
    cpu: list[float] = []
    failures: list[str] = []
    while len(wall) < runs and len(failures) < 3:
        (sub / "repodata.json").write_bytes(previous)
        w, c = time.perf_counter(), time.process_time()
        try:
            asyncio.run(index_fs(root, write_zst=True, write_shards=True))
        except Exception as exc:  # reported in the table; the run goes on
            # At L rattler writes ~15k shards at once and can exhaust the open-file
            # limit; the shards it did write stay, so a retry has fewer to write.
            failures.append(f"{type(exc).__name__}: {str(exc)[:160]}")
            harness.log(f"  rattler {ctx.size} failed: {failures[-1]}")
            continue
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
        harness.log(f"  rattler {ctx.size} run: {wall[-1]:.2f} s, cpu {cpu[-1]:.2f}")
    added = package.name.encode() in (sub / "repodata.json").read_bytes()
    shutil.rmtree(root, ignore_errors=True)
    if not wall:
        return None
    return {
        "wall": wall,
        "cpu": cpu,
        "runs": len(wall),
        "added": added,
        "failures": failures,
    }


# --- M2: builder memory in fresh subprocesses ------------------------------------------


def peak_rss_kb() -> int:
    """Peak RSS of this process image (kB): VmHWM, else ``ru_maxrss``.

    ``ru_maxrss`` survives ``exec``: a child forked from a benchmark holding
    gigabytes of generated records would report the parent's peak as its own.
    VmHWM belongs to the new address space, so it starts afresh at ``exec``.
    """
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def memory_child(mode: str, subdir_id: int, name: str) -> dict[str, int]:
    """In a fresh process: RSS before and the peak after one builder run (kB)."""
    from django.db import transaction

    from channels.models import Subdir
    from channels.services import (
        mark_all_changed,
        mark_names_changed,
        publish_index,
        publish_repodata,
    )

    subdir = Subdir.objects.get(pk=subdir_id)  # connects; imports are done
    baseline = peak_rss_kb()
    with harness.quiet_tasks():
        if mode == "incremental":
            with transaction.atomic():
                mark_names_changed(subdir, [name])
            publish_index(subdir_id)
        else:
            mark_all_changed(subdir)
            publish_index(subdir_id)
            publish_repodata(subdir_id)
    peak = peak_rss_kb()
    return {"baseline_kb": baseline, "peak_kb": peak}


def measure_memory(ctx: Ctx) -> dict[str, dict[str, int]]:
    out = {}
    for mode in ("incremental", "full"):
        args = [
            sys.executable,
            "-m",
            "tests.benchmarks.bench_publish",
            "--child",
            f"m2-{mode}",
            "--subdir-id",
            str(ctx.subdir.pk),
            "--name",
            ctx.median_names[0],
        ]
        done = subprocess.run(
            args, env=harness.child_env(), capture_output=True, text=True, check=True
        )
        out[mode] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


# --- the run -----------------------------------------------------------------------


def prepare(size: str) -> Ctx:
    from channels.models import Channel

    n_records, n_names = harness.SIZES[size]
    started = time.perf_counter()
    rows = synth.generate_rows(n_records, n_names, seed=0)
    harness.log(
        f"{size}: generated {len(rows):,} records in {time.perf_counter() - started:.1f} s"
    )
    if harness.owns_database():
        harness.reset_tables()
    channel = Channel.objects.create(name=f"bench-{size.lower()}")
    started = time.perf_counter()
    subdir = harness.load_rows(channel, rows)
    harness.log(f"{size}: loaded in {time.perf_counter() - started:.1f} s")
    groups = synth.by_name(rows)
    counts = sorted(len(g) for g in groups.values())
    mid = counts[len(counts) // 2]
    median_names = sorted(n for n, g in groups.items() if len(g) == mid and mid >= 2)
    if len(median_names) < 4:  # tiny sizes: the names nearest the median
        median_names = sorted(
            (n for n, g in groups.items() if len(g) >= 2),
            key=lambda n: (abs(len(groups[n]) - mid), n),
        )[:8]
    random.Random(size).shuffle(median_names)
    largest = max(groups, key=lambda n: len(groups[n]))
    return Ctx(size, rows, channel, subdir, groups, median_names, largest, None, None)  # type: ignore[arg-type]


def run(size: str, repeat: int = 7, reference: bool = True) -> list[Result]:
    """Every publishing scenario at ``size``; the rows of the table."""
    ctx = prepare(size)
    cal = synth.calibration(ctx.rows)
    harness.log("\n" + synth.format_calibration(cal))
    ms_runs = _ms_runs(ctx, repeat)
    half = len(ctx.median_names) // 2
    p1_names = ctx.median_names[: max(1, half)]
    p5_names = ctx.median_names[max(1, half) :] or p1_names
    with harness.quiet_tasks() as queued, harness.counting_index_storage() as counter:
        ctx.counter, ctx.queued = counter, queued
        harness.log(
            f"{size}: R2 full rebuild x{repeat} (+1 warm-up, the first publish)"
        )
        r2 = bench_full_rebuild(ctx, repeat)
        r2_objects = len(ctx.groups) + 3
        harness.log(f"{size}: P1 x{ms_runs}, P2, P5")
        p1 = bench_incremental(ctx, p1_names, ms_runs)
        p2 = bench_incremental(ctx, [ctx.largest], ms_runs)
        p5 = bench_delete(ctx, p5_names, ms_runs)
        harness.log(f"{size}: R1 x{repeat}")
        r1 = bench_repodata(ctx, repeat)
        harness.log(f"{size}: P6 bursts")
        uploads = BURST_UPLOADS if not ctx.tiny else 20
        n_names = BURST_NAMES if not ctx.tiny else 5
        bursts = [bench_burst(ctx, paced_s=0.0, uploads=uploads, n_names=n_names)]
        if not ctx.tiny:
            bursts.insert(
                0,
                bench_burst(
                    ctx, paced_s=BURST_PACE_S, uploads=uploads, n_names=n_names
                ),
            )
        problems = verify(ctx, repodata=True)
    harness.log(f"{size}: floors")
    floor = floors(ctx, ms_runs)
    memory = measure_memory(ctx) if harness.owns_database() else None
    ref = None
    if reference:
        runs = 1 if size in SLOW_REFERENCE_SIZES else max(1, min(repeat, 5))
        harness.log(f"{size}: rattler-index x{runs}")
        ref = rattler_reference(ctx, runs)
    return _rows(
        ctx, cal, p1, p2, p5, r1, r2, r2_objects, bursts, floor, memory, ref, problems
    )


def _ratio(reference: float | None, ours: float) -> float | None:
    if reference is None:
        return None
    return reference / ours if ours > 0 else float("inf")


def _rows(
    ctx: Ctx,
    cal: dict[str, Any],
    p1: Series,
    p2: Series,
    p5: Series,
    r1: Series,
    r2: Series,
    r2_objects: int,
    bursts: list[Burst],
    floor: dict[str, float],
    memory: dict[str, dict[str, int]] | None,
    ref: dict[str, Any] | None,
    problems: list[str],
) -> list[Result]:
    from django.conf import settings

    size = ctx.size
    ms = 1000.0
    ref_wall = median(ref["wall"]) if ref else None
    ref_cpu = median(ref["cpu"]) if ref else None
    ref_note = ""
    if ref:
        ref_note = (
            f"rattler index_fs ran {ref['runs']} time(s)"
            + (" (slow reference at L: once)" if ref["runs"] == 1 else "")
            + f", wall {ref_wall:.2f} s, CPU {ref_cpu:.2f} s"
            + ("" if ref["added"] else "; WARNING: new package not in its output")
            + (
                f"; {len(ref['failures'])} failed attempt(s) before, whose shards "
                f"stayed: {ref['failures'][0]}"
                if ref["failures"]
                else ""
            )
        )
    stretch_p1 = {"S": 3000, "L": 10000}.get(size, 10000)
    p50_cap = {"S": 12, "L": 18}.get(size, 18)
    rows: list[Result] = []

    def wall_row(sid: str, series: Series, metric: str, **kw: Any) -> Result:
        return Result(
            sid,
            size,
            metric,
            median(series.wall) * ms,
            p99(series.wall) * ms,
            "ms",
            None if ref_wall is None else ref_wall * ms,
            _ratio(ref_wall, median(series.wall)),
            **kw,
        )

    p1_ratio = _ratio(ref_wall, median(p1.wall))
    p1_med, p1_p99 = median(p1.wall) * ms, p99(p1.wall) * ms
    rows.append(
        wall_row(
            "P1",
            p1,
            "incremental publish",
            target=">=1000x rattler",
            ok=None if p1_ratio is None else p1_ratio >= 1000,
            stretch=f">={stretch_p1}x; p50<={p50_cap}ms; p99<=2xp50",
            stretch_ok=(p1_ratio is None or p1_ratio >= stretch_p1)
            and p1_med <= p50_cap
            and p1_p99 <= 2 * p1_med,
            note=f"{len(p1.wall)} timed runs + 1 warm-up; CPU median "
            f"{median(p1.cpu) * ms:.2f} ms; passes per publish {set(p1.passes)}. "
            + ref_note,
            extra={"cpu_ms": median(p1.cpu) * ms},
        )
    )
    rows.append(
        Result(
            "P1",
            size,
            "vs encode floor (1 shard + index)",
            p1_med,
            None,
            "ms",
            floor["p1"] * ms,
            p1_med / (floor["p1"] * ms),
            stretch="<=3x floor",
            stretch_ok=p1_med <= 3 * floor["p1"] * ms,
            note="ratio here is ours / floor (lower is better)",
        )
    )
    rows.append(
        Result(
            "P1",
            size,
            "objects written / monolithic",
            median(p1.objects),
            None,
            "",
            target="exactly 2 / 0",
            ok=set(p1.objects) == {2} and set(p1.monolithic) == {0},
            note=f"objects per publish {sorted(set(p1.objects))}, "
            f"monolithic {sorted(set(p1.monolithic))}",
        )
    )
    rows.append(
        Result(
            "P1",
            size,
            "queries per publish",
            p1.queries[0],
            None,
            "",
            target="same at every size",
            ok=len(set(p1.queries)) == 1,
            note=f"queries, warm-up and after the series: {p1.queries}",
            extra={"queries": p1.queries},
        )
    )
    p2_med = median(p2.wall) * ms
    rows.append(
        wall_row(
            "P2",
            p2,
            f"publish to largest name ({len(ctx.groups[ctx.largest]):,} rec)",
            target="2 objects",
            ok=set(p2.objects) == {2},
            stretch="<=3x floor; <=60ms",
            stretch_ok=p2_med <= 3 * floor["p2"] * ms and p2_med <= 60,
            note=f"encode floor {floor['p2'] * ms:.2f} ms "
            f"(ours/floor {p2_med / (floor['p2'] * ms):.1f}x)",
        )
    )
    p5_ratio = _ratio(ref_wall, median(p5.wall))
    rows.append(
        wall_row(
            "P5",
            p5,
            "delete one file",
            target=">=1000x; 2 objects; old shard kept",
            ok=set(p5.objects) == {2}
            and bool(p5.extra["old_shard_fetchable"])
            and (p5_ratio is None or p5_ratio >= 1000),
            stretch=f">={stretch_p1}x; p50<={p50_cap}ms",
            stretch_ok=(p5_ratio is None or p5_ratio >= stretch_p1)
            and median(p5.wall) * ms <= p50_cap,
            note=f"objects {sorted(set(p5.objects))}; old shard fetchable: "
            f"{p5.extra['old_shard_fetchable']}; queries {p5.queries}",
        )
    )
    for burst in bursts:
        ratio = (
            None if ref_cpu is None else 200 * ref_cpu / max(burst.builder_cpu, 1e-9)
        )
        rows.append(
            Result(
                "P6",
                size,
                f"burst {burst.uploads} uploads/{burst.names} names, {burst.mode}: "
                "builder CPU",
                burst.builder_cpu * ms,
                None,
                "ms",
                None if ref_cpu is None else 200 * ref_cpu * ms,
                ratio,
                target="0 lost; 1 builder at a time",
                ok=burst.lost == 0 and burst.max_concurrent_builds <= 1,
                stretch=">=30000x 200 runs; shards<=1s, repodata<=5s",
                stretch_ok=(ratio is None or ratio >= 30000)
                and burst.shards_visible_s <= 1
                and burst.repodata_visible_s <= 5,
                note=f"{burst.mode}: {burst.passes} passes in {burst.builder_runs} "
                f"builder runs; lost/mismatched {burst.lost}; max concurrent builds "
                f"{burst.max_concurrent_builds}; shards visible "
                f"{burst.shards_visible_s * ms:.0f} ms and repodata.json "
                f"{burst.repodata_visible_s:.2f} s (interval incl.) after the last "
                f"commit; reference = 200 x rattler CPU",
            )
        )
    interval = float(settings.PREFIXHUB_REPODATA_INTERVAL)
    fresh = [d + w for d, w in zip(r1.extra["delays"], r1.wall, strict=True)]
    r1_ratio = None if ref_cpu is None else ref_cpu / median(r1.cpu)
    rows.append(
        Result(
            "R1",
            size,
            "repodata.json fresh after upload (throttle + rebuild)",
            median(fresh),
            p99(fresh),
            "s",
            target="<=5 s",
            ok=p99(fresh) <= 5,
            stretch="p50<=3s, p99<=5s",
            stretch_ok=median(fresh) <= 3 and p99(fresh) <= 5,
            note=f"throttle delay (interval {interval} s, none after a quiet spell) "
            f"median {median(r1.extra['delays']):.2f} s + rebuild wall median "
            f"{median(r1.wall):.3f} s; objects {sorted(set(r1.objects))} "
            f"({r1.extra['bytes'] / 1e6:.1f} MB)",
        )
    )
    rows.append(
        Result(
            "R1",
            size,
            "refresh CPU vs one rattler run",
            median(r1.cpu),
            p99(r1.cpu),
            "s",
            ref_cpu,
            r1_ratio,
            stretch=">=70x rattler CPU; <=2x floor",
            stretch_ok=(r1_ratio is None or r1_ratio >= 70)
            and median(r1.wall) <= 2 * floor["r1"],
            note=f"join + zstd 3 floor {floor['r1']:.3f} s; rebuild wall / floor "
            f"{median(r1.wall) / floor['r1']:.2f}x",
        )
    )
    r2_med = median(r2.wall)
    r2_ratio = _ratio(ref_wall, r2_med)
    rows.append(
        Result(
            "R2",
            size,
            "full rebuild (shards, index, .json, .zst)",
            r2_med,
            p99(r2.wall),
            "s",
            ref_wall,
            r2_ratio,
            target="faster than 1 rattler run",
            ok=None if r2_ratio is None else r2_ratio > 1,
            stretch=">=25x; <=2.5x floor" + ("; <=7s" if size == "L" else ""),
            stretch_ok=(r2_ratio is None or r2_ratio >= 25)
            and r2_med <= 2.5 * floor["r2"]
            and (size != "L" or r2_med <= 7),
            note=f"{len(r2.wall)} timed runs + 1 warm-up; CPU median "
            f"{median(r2.cpu):.2f} s; objects {sorted(set(r2.objects))} "
            f"(expected {r2_objects}); encode floor {floor['r2']:.2f} s, "
            f"ours/floor {r2_med / floor['r2']:.2f}x",
        )
    )
    if memory is not None:
        inc = memory["incremental"]
        full = memory["full"]
        growth = (inc["peak_kb"] - inc["baseline_kb"]) / 1024
        peak = full["peak_kb"] / 1024
        rows.append(
            Result(
                "M2",
                size,
                "builder RSS growth, incremental pass",
                growth,
                None,
                "MB",
                target="<=64 MB growth",
                ok=growth <= 64,
                note=f"fresh subprocess; baseline {inc['baseline_kb'] / 1024:.0f} MB, "
                f"peak {inc['peak_kb'] / 1024:.0f} MB",
                extra={"incremental": inc},
            )
        )
        rows.append(
            Result(
                "M2",
                size,
                "builder peak RSS, full rebuild",
                peak,
                None,
                "MB",
                target="<=512 MB peak",
                ok=peak <= 512,
                note=f"fresh subprocess; baseline {full['baseline_kb'] / 1024:.0f} MB",
                extra={"full": full},
            )
        )
    rows.append(
        Result(
            "check",
            size,
            "outputs decode and match the DB",
            float(len(problems)),
            None,
            "",
            target="0 problems",
            ok=not problems,
            note="; ".join(problems[:5]),
            extra={"calibration": cal},
        )
    )
    return rows


def summarize(results: list[Result]) -> list[Result]:
    """Rows across sizes: P3, query counts and M2 incremental, S against L."""
    by = {(r.scenario, r.size, r.metric.split(" (")[0]): r for r in results}
    out = []
    small, large = "S", "L"
    p1s = by.get(("P1", small, "incremental publish"))
    p1l = by.get(("P1", large, "incremental publish"))
    if p1s and p1l and p1s.ours is not None and p1l.ours is not None:
        n_s, n_l = harness.SIZES[small][0], harness.SIZES[large][0]
        per_record_us = (p1l.ours - p1s.ours) * 1000 / (n_l - n_s)
        ref_per_us = None
        if p1l.reference is not None:
            ref_per_us = p1l.reference * 1000 / n_l
        measured = max(per_record_us, 0.0)
        ratio = None
        if ref_per_us is not None:
            ratio = ref_per_us / measured if measured > 0 else float("inf")
        out.append(
            Result(
                "P3",
                f"{small}->{large}",
                "cost per existing record",
                per_record_us,
                None,
                "us",
                ref_per_us,
                ratio,
                target=">=1000x below rattler",
                ok=None if ratio is None else ratio >= 1000,
                stretch=">=10000x; <=0.02 us",
                stretch_ok=(ratio is None or ratio >= 10000) and per_record_us <= 0.02,
                note="(P1 median at L - at S) / 400k; rattler: its L wall / 500k"
                + ("; <= 0 means no measurable growth" if per_record_us <= 0 else ""),
            )
        )
    queries = {
        r.size: r.extra["queries"][0]
        for r in results
        if r.scenario == "P1" and "queries" in r.extra
    }
    if len(queries) > 1:
        out.append(
            Result(
                "P1",
                ",".join(queries),
                "queries per publish across sizes",
                None,
                None,
                "",
                target="equal",
                ok=len(set(queries.values())) == 1,
                note=f"{queries}",
            )
        )
    grow = {
        r.size: r.ours
        for r in results
        if r.scenario == "M2" and r.metric.startswith("builder RSS growth")
    }
    if small in grow and large in grow and grow[small] is not None:
        a, b = grow[small], grow[large]
        rel = (b - a) / a if a else 0.0
        out.append(
            Result(
                "M2",
                f"{small}->{large}",
                "incremental growth, L vs S",
                rel * 100,
                None,
                "%",
                stretch="within +-10% (doc: S vs XL)",
                stretch_ok=abs(rel) <= 0.10 or abs(b - a) <= 2,
                note=f"S {a:.1f} MB, L {b:.1f} MB (within 2 MB counts as equal)",
            )
        )
    return out


def main(argv: list[str] | None = None) -> int:
    args = harness.parse_args(__doc__ or "", argv)
    if args.child:
        harness.child_setup()
        name = args.name
        print(
            json.dumps(
                memory_child(args.child.removeprefix("m2-"), args.subdir_id, name)
            )
        )
        return 0
    with harness.bench_database(keep=args.keep_db):
        info = harness.header()
        harness.log("\n" + harness.format_header(info))
        results: list[Result] = []
        for size in args.sizes:
            results += run(size, args.repeat, reference=not args.no_reference)
            print(harness.format_table(results), file=sys.stderr, flush=True)
        results += summarize(results)
        return harness.finish(args, info, results)


if __name__ == "__main__":
    sys.exit(main())
