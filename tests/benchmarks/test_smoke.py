"""The publishing benchmark at size tiny: invariants only, never timings.

It runs on the test database (SQLite by default, PostgreSQL with DATABASE_URL),
without the rattler reference and without the subprocess memory measurements.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.benchmarks import bench_publish


def _by(results: list[Any], scenario: str, metric: str) -> list[Any]:
    return [
        r for r in results if r.scenario == scenario and r.metric.startswith(metric)
    ]


@pytest.mark.django_db
def test_publish_benchmark_keeps_its_invariants_at_tiny_sizes(settings: Any) -> None:
    settings.PREFIXHUB_REPODATA_INTERVAL = 0.01  # R1 waits out the interval per run
    tiny = bench_publish.run("tiny", repeat=1, reference=False)
    twice = bench_publish.run("tiny2", repeat=1, reference=False)

    for results in (tiny, twice):
        (check,) = _by(results, "check", "outputs decode and match the DB")
        assert check.ok, check.note
        (objects,) = _by(results, "P1", "objects written")
        assert objects.ok, objects.note  # exactly 2: one shard and the index
        (p2,) = _by(results, "P2", "publish to largest name")
        assert p2.ok, p2.note
        (p5,) = _by(results, "P5", "delete one file")
        assert p5.ok, p5.note  # 2 objects, the old shard still fetchable
        (burst,) = _by(results, "P6", "burst")
        assert burst.ok, burst.note  # no update lost, one builder at a time
        (r2,) = _by(results, "R2", "full rebuild")
        assert r2.note.count("objects") == 1
        (queries,) = _by(results, "P1", "queries per publish")
        assert queries.ok, queries.note  # the same before and after the series

    (q_tiny,) = _by(tiny, "P1", "queries per publish")
    (q_twice,) = _by(twice, "P1", "queries per publish")
    assert q_tiny.extra["queries"] == q_twice.extra["queries"]
