"""Seeded, realistic repodata records for the benchmarks (performance.md §6).

The shape follows conda-forge: builds per name are lognormal (sigma 1.6), so most
names have a handful of records and the largest thousands; names are made of common
tokens; versions are major.minor.patch sequences; about 45% of names are Python
packages with ``pyXY`` build strings and ``python``/``python_abi`` pins; ``depends``
are shared by all builds of a name and resolve to names and versions of the
channel; 80% of files are ``.conda``. Hashes are random, sizes and timestamps
plausible. Records go through ``build_record`` like an upload, so the stored
fragments are exactly what the server would store.

``python -m tests.benchmarks.synth --size S`` prints the calibration table.
"""

from __future__ import annotations

import argparse
import io
import math
import random
import statistics
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import zstandard

from channels.repodata import (
    build_record,
    encode_record,
    encode_shard,
    encode_shard_index,
    write_repodata,
)

SUBDIR = "linux-64"
SIGMA = 1.6
PYTHONS = ["3.9", "3.10", "3.11", "3.12", "3.13"]
# Run-time libraries most compiled packages pin; they exist as names in the channel.
RUNTIME = {
    "libgcc": "libgcc >=13",
    "libstdcxx": "libstdcxx >=13",
    "openssl": "openssl >=3.3.2,<4.0a0",
    "libzlib": "libzlib >=1.3.1,<2.0a0",
    "zstd": "zstd >=1.5.6,<1.6.0a0",
    "bzip2": "bzip2 >=1.0.8,<2.0a0",
    "xz": "xz >=5.2.6,<6.0a0",
    "ca-certificates": "ca-certificates",
}
BASE_NAMES = [*RUNTIME, "python", "python_abi"]
TOKENS = [
    "py",
    "r",
    "lib",
    "perl",
    "go",
    "rust",
    "cmake",
    "data",
    "cli",
    "tools",
    "core",
    "api",
    "test",
    "utils",
    "http",
    "json",
    "xml",
    "io",
    "sql",
    "async",
    "cloud",
    "net",
    "plot",
    "math",
    "stat",
    "geo",
    "image",
    "cuda",
    "ml",
    "bio",
    "web",
    "yaml",
    "ssl",
    "boost",
    "qt",
    "gtk",
    "arrow",
    "numpy",
    "pandas",
    "dask",
    "jupyter",
    "lab",
    "sphinx",
    "flask",
    "django",
    "fast",
    "click",
    "rich",
    "types",
    "mock",
    "cov",
    "lint",
    "format",
    "parse",
    "build",
    "make",
    "gen",
    "proto",
    "grpc",
    "aws",
    "azure",
    "gcp",
    "s3",
    "zip",
    "tar",
    "h5",
    "nc",
    "mpi",
    "omp",
    "blas",
    "fft",
    "gmp",
    "mpfr",
    "ogg",
    "sdl",
    "gl",
    "x11",
    "wayland",
    "glib",
    "dbus",
]
LICENSES = [
    ("MIT", "MIT"),
    ("BSD-3-Clause", "BSD"),
    ("BSD-2-Clause", "BSD"),
    ("Apache-2.0", "Apache"),
    ("GPL-3.0-or-later", "GPL3"),
    ("GPL-2.0-or-later", "GPL2"),
    ("LGPL-2.1-or-later", "LGPL"),
    ("MPL-2.0", "MOZILLA"),
    ("ISC", "ISC"),
    ("Zlib", "OTHER"),
]
T0_MS = 1_500_000_000_000  # July 2017
DAY_MS = 86_400_000

# conda-forge linux-64 figures of performance.md §1 and §6 (465k records, 15k names).
CONDA_FORGE = {
    "json_bytes_per_record": "about 520",
    "zstd3_ratio": "6.6 (as served)",
    "index_bytes": "670 kB (421 kB later)",
    "median_shard_bytes": "few hundred B to a few kB",
}
# The generator's own figures at 465k / 15k, from performance.md §6.
DOC_GENERATOR = {
    "json_bytes_per_record": "about 590",
    "zstd3_ratio": "6.2",
    "index_bytes": "598 kB",
    "median_shard_bytes": "1.1 kB",
}


@dataclass(frozen=True)
class Row:
    """One generated record, encoded as an upload stores it."""

    filename: str
    name: str
    version: str
    build: str
    build_number: int
    sha256: str
    md5: str
    size: int
    json: bytes
    msgpack: bytes


def record_counts(n_records: int, n_names: int, rng: random.Random) -> list[int]:
    """Records per name: lognormal weights scaled to ``n_records`` in total."""
    weights = sorted(
        (rng.lognormvariate(0, SIGMA) for _ in range(n_names)), reverse=True
    )
    total = sum(weights)
    counts = [max(1, round(n_records * w / total)) for w in weights]
    # The largest name has thousands of records at S and L (P2 wants >= 2.5k).
    counts[0] = max(counts[0], n_records // 40)
    diff = n_records - sum(counts)
    i = 1  # the largest name keeps its floor
    while diff:
        step = 1 if diff > 0 else -1
        if i % n_names and counts[i % n_names] + step >= 1:
            counts[i % n_names] += step
            diff -= step
        i += 1
    rng.shuffle(counts)
    return counts


def make_names(n_names: int, rng: random.Random) -> list[str]:
    names = list(BASE_NAMES[: min(len(BASE_NAMES), n_names)])
    seen = set(names)
    while len(names) < n_names:
        parts = rng.choices(TOKENS, k=rng.choice((1, 2, 2, 3, 3, 4)))
        name = "-".join(parts)
        if name in seen:
            name = f"{name}{rng.randint(2, 99)}"
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def _hex(rng: random.Random, nbytes: int) -> str:
    return rng.getrandbits(nbytes * 8).to_bytes(nbytes, "big").hex()


def _versions(rng: random.Random) -> Iterator[tuple[int, int, int]]:
    major, minor, patch = rng.randint(0, 3), rng.randint(0, 20), rng.randint(0, 9)
    while True:
        yield major, minor, patch
        roll = rng.random()
        if roll < 0.6:
            patch += 1
        elif roll < 0.9:
            minor, patch = minor + 1, 0
        else:
            major, minor, patch = major + 1, 0, 0


class _Name:
    """Everything shared by the builds of one package name."""

    def __init__(self, name: str, count: int, earlier: list[_Name], rng: random.Random):
        self.name = name
        self.count = count
        self.is_python = name not in BASE_NAMES and rng.random() < 0.45
        self.first_version = (0, 0, 0)
        self.versions = _versions(rng)
        self.first_version = next(self.versions)
        self.pending_first = True
        self.pythons = sorted(rng.sample(PYTHONS, rng.randint(1, 5)), key=PYTHONS.index)
        self.hash_variants = rng.randint(2, 7) if self.is_python else rng.randint(1, 3)
        self.license = rng.choice(LICENSES)
        self.depends = self._depends(earlier, rng)
        self.constrains = (
            [self._pin(rng.choice(earlier), rng) for _ in range(rng.randint(1, 2))]
            if earlier and rng.random() < 0.3
            else []
        )
        self.start_ms = T0_MS + rng.randint(0, 7 * 365) * DAY_MS

    def _depends(self, earlier: list[_Name], rng: random.Random) -> list[str]:
        if self.name in BASE_NAMES:
            return ["libgcc >=13"] if self.name != "libgcc" else []
        runtime = rng.sample(sorted(RUNTIME.values()), rng.randint(1, 3))
        others = {}
        if earlier:
            for _ in range(rng.randint(2, 7)):
                dep = rng.choice(earlier)
                if dep.name not in RUNTIME and dep.name not in ("python", "python_abi"):
                    others[dep.name] = self._pin(dep, rng)
        return sorted(runtime) + [others[k] for k in sorted(others)]

    @staticmethod
    def _pin(dep: _Name, rng: random.Random) -> str:
        major, minor, patch = dep.first_version
        if rng.random() < 0.5:
            return f"{dep.name} >={major}.{minor}.{patch}"
        return f"{dep.name} >={major}.{minor},<{major + 1}.0a0"

    def next_version(self) -> tuple[int, int, int]:
        if self.pending_first:
            self.pending_first = False
            return self.first_version
        return next(self.versions)


def _index(spec: _Name, version: str, build: str, bn: int, py: str | None, ts: int):
    depends = list(spec.depends)
    if py is not None:
        major, minor = py.split(".")
        depends += [
            f"python >={py},<{major}.{int(minor) + 1}.0a0",
            f"python_abi {py}.* *_cp{major}{minor}",
        ]
    index: dict[str, Any] = {
        "name": spec.name,
        "version": version,
        "build": build,
        "build_number": bn,
        "depends": sorted(depends),
        "license": spec.license[0],
        "license_family": spec.license[1],
        "subdir": SUBDIR,
        "timestamp": ts,
    }
    if spec.constrains:
        index["constrains"] = spec.constrains
    return index


def _records_of(
    spec: _Name, rng: random.Random
) -> Iterator[tuple[str, dict[str, Any]]]:
    made = 0
    ts = spec.start_ms
    # About 35% of records are old enough to carry arch/platform.
    old = round(spec.count * min(1.0, max(0.0, rng.gauss(0.35, 0.2))))
    while made < spec.count:
        version = ".".join(map(str, spec.next_version()))
        ts += int(rng.expovariate(1 / 30) * DAY_MS)
        bn = rng.choice((0, 0, 0, 1, 1, 2))
        hashes = [_hex(rng, 4)[:7] for _ in range(spec.hash_variants)]
        if spec.is_python:
            combos = [(py, h) for h in hashes for py in spec.pythons]
        else:
            combos = [(None, h) for h in hashes]
        builds = rng.randint(1, len(combos))
        for py, h in combos[: min(builds, spec.count - made)]:
            tag = f"py{py.replace('.', '')}" if py else ""
            build = f"{tag}h{h}_{bn}"
            index = _index(spec, version, build, bn, py, ts + rng.randint(0, DAY_MS))
            if made < old:
                index["arch"], index["platform"] = "x86_64", "linux"
            ext = ".conda" if rng.random() < 0.8 else ".tar.bz2"
            record = build_record(
                index,
                sha256=_hex(rng, 32),
                md5=_hex(rng, 16),
                size=int(min(5e8, max(2e3, rng.lognormvariate(math.log(2e5), 1.5)))),
                indexed_timestamp=index["timestamp"] + rng.randint(0, 3_600_000),
            )
            made += 1
            yield f"{spec.name}-{version}-{build}{ext}", record


def generate(
    n_records: int, n_names: int, *, seed: int = 0
) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(filename, repodata record)`` pairs, the same for the same arguments."""
    rng = random.Random(seed)
    names = make_names(n_names, rng)
    counts = record_counts(n_records, n_names, rng)
    specs: list[_Name] = []
    for name, count in zip(names, counts, strict=True):
        specs.append(_Name(name, count, specs, rng))
    for spec in specs:
        yield from _records_of(spec, rng)


def encode(filename: str, record: dict[str, Any]) -> Row:
    encoded = encode_record(record)
    return Row(
        filename=filename,
        name=record["name"],
        version=record["version"],
        build=record["build"],
        build_number=record["build_number"],
        sha256=record["sha256"],
        md5=record["md5"],
        size=record["size"],
        json=encoded.json,
        msgpack=encoded.msgpack,
    )


def generate_rows(n_records: int, n_names: int, *, seed: int = 0) -> list[Row]:
    """Generated records, encoded with ``encode_record`` as the upload path does."""
    return [encode(fn, rec) for fn, rec in generate(n_records, n_names, seed=seed)]


def new_row(base: Row, tag: int, *, seed: int = 0) -> tuple[str, dict[str, Any], Row]:
    """A new upload for ``base.name``: a fresh version, build and hashes."""
    import json

    rng = random.Random(f"{seed}-{base.filename}-{tag}")
    record = json.loads(base.json)
    record["version"] = f"9999.{tag}.0"
    record["build"] = f"h{_hex(rng, 4)[:7]}_0"
    record["build_number"] = 0
    record["sha256"], record["md5"] = _hex(rng, 32), _hex(rng, 16)
    filename = f"{base.name}-{record['version']}-{record['build']}.conda"
    return filename, record, encode(filename, record)


def repodata_bytes(rows: list[Row]) -> bytes:
    """repodata.json of ``rows``, joined as the server joins stored fragments."""
    out = io.BytesIO()
    ordered = sorted(rows, key=lambda r: r.filename.encode())
    write_repodata(
        out,
        SUBDIR,
        [(r.filename, r.json) for r in ordered if r.filename.endswith(".tar.bz2")],
        [(r.filename, r.json) for r in ordered if r.filename.endswith(".conda")],
    )
    return out.getvalue()


def by_name(rows: list[Row]) -> dict[str, list[Row]]:
    grouped: dict[str, list[Row]] = {}
    for row in rows:
        grouped.setdefault(row.name, []).append(row)
    return grouped


def calibration(rows: list[Row]) -> dict[str, Any]:
    """The generated data's figures that performance.md §6 compares to conda-forge."""
    data = repodata_bytes(rows)
    compressed = zstandard.ZstdCompressor(level=3).compress(data)
    groups = by_name(rows)
    shards = {
        name: encode_shard([(r.filename, r.msgpack) for r in group])
        for name, group in groups.items()
    }
    index = encode_shard_index(SUBDIR, {n: s.sha256 for n, s in shards.items()})
    counts = sorted(len(g) for g in groups.values())
    return {
        "records": len(rows),
        "names": len(groups),
        "records_per_name_median": statistics.median(counts),
        "records_per_name_max": counts[-1],
        "json_bytes_per_record": len(data) / max(1, len(rows)),
        "repodata_json_bytes": len(data),
        "zstd3_ratio": len(data) / len(compressed),
        "index_bytes": len(index),
        "index_bytes_per_name": len(index) / max(1, len(groups)),
        "median_shard_bytes": statistics.median(len(s.data) for s in shards.values()),
        "max_shard_bytes": max(len(s.data) for s in shards.values()),
    }


def format_calibration(cal: dict[str, Any]) -> str:
    rows = [
        (
            "JSON bytes per record",
            f"{cal['json_bytes_per_record']:.0f}",
            "json_bytes_per_record",
        ),
        ("zstd 3 ratio", f"{cal['zstd3_ratio']:.2f}", "zstd3_ratio"),
        (
            "index",
            f"{cal['index_bytes'] / 1000:.0f} kB ({cal['index_bytes_per_name']:.0f} B/name)",
            "index_bytes",
        ),
        (
            "median shard",
            f"{cal['median_shard_bytes'] / 1000:.2f} kB",
            "median_shard_bytes",
        ),
    ]
    head = f"calibration at {cal['records']:,} records / {cal['names']:,} names"
    lines = [
        f"{head:<44} | {'conda-forge (465k/15k)':<27} | {'doc generator':<13} | this run",
        "-" * 110,
    ]
    for label, value, key in rows:
        lines.append(
            f"{label:<44} | {CONDA_FORGE[key]:<27} | {DOC_GENERATOR[key]:<13} | {value}"
        )
    lines.append(
        f"{'records per name: median / max':<44} | {'':<27} | {'2-8 / 1000s':<13} | "
        f"{cal['records_per_name_median']:g} / {cal['records_per_name_max']:,}"
    )
    return "\n".join(lines)


def main() -> None:
    from .harness import SIZES

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", default="S", choices=sorted(SIZES))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    n_records, n_names = SIZES[args.size]
    print(
        format_calibration(
            calibration(generate_rows(n_records, n_names, seed=args.seed))
        )
    )


if __name__ == "__main__":
    main()
