"""Reading an uploaded archive: CPU per upload for an ordinary package.

Run ``python -m tests.benchmarks.bench_artifact [--files 3000] [--repeat 9]
[--reference OTHER/packages/artifact.py]``. It builds one synthetic package per
format (text-like files of a few KB, as a typical library ships) and times
``packages.artifact.read_artifact`` on it. The bounds of issue 10 (metered
decompression, entry count, symlink checks) sit on this path; ``--reference``
times another version of the module in the same run, interleaved, and prints the
ratio of the medians.
"""

from __future__ import annotations

import argparse
import bz2
import importlib.util
import io
import json
import random
import statistics
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import zstandard

from packages.artifact import read_artifact

WORDS = [f"word{i}" for i in range(2000)]


def _tar(members: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return buf.getvalue()


def _members(files: int, rng: random.Random) -> list[tuple[tarfile.TarInfo, bytes]]:
    out = []
    for i in range(files):
        size = int(min(200_000, rng.lognormvariate(8, 1.2)))
        text = " ".join(rng.choices(WORDS, k=size // 7)).encode()[:size]
        info = tarfile.TarInfo(f"lib/python3.12/site-packages/demo/m{i // 50}/f{i}.py")
        info.size = len(text)
        out.append((info, text))
        if i % 20 == 0:  # some symlinks, as shared libraries have
            link = tarfile.TarInfo(f"lib/libdemo{i}.so")
            link.type = tarfile.SYMTYPE
            link.linkname = f"libdemo{i}.so.1"
            out.append((link, b""))
    return out


def build(folder: Path, files: int) -> list[Path]:
    rng = random.Random(0)
    index = {"name": "demo", "version": "1.0", "build": "0", "build_number": 0,
             "subdir": "noarch"}  # fmt: skip
    info_member = tarfile.TarInfo("info/index.json")
    data = json.dumps(index).encode()
    info_member.size = len(data)
    info = [(info_member, data)]
    pkg = _members(files, rng)
    bz = folder / "demo-1.0-0.tar.bz2"
    bz.write_bytes(bz2.compress(_tar(info + pkg), 9))
    conda = folder / "demo-1.0-0.conda"
    compress = zstandard.ZstdCompressor(level=19).compress
    with zipfile.ZipFile(conda, "w") as zf:
        zf.writestr("metadata.json", json.dumps({"conda_pkg_format_version": 2}))
        zf.writestr("info-demo-1.0-0.tar.zst", compress(_tar(info)))
        zf.writestr("pkg-demo-1.0-0.tar.zst", compress(_tar(pkg)))
    return [conda, bz]


def _load(path: str) -> Callable[..., Any]:
    spec = importlib.util.spec_from_file_location("reference_artifact", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module.read_artifact


def _cpu(read: Callable[..., Any], path: Path) -> float:
    started = time.process_time()
    read(path, path.name)
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--reference", help="another artifact.py to compare with")
    args = parser.parse_args()
    reference = _load(args.reference) if args.reference else None
    with tempfile.TemporaryDirectory() as tmp:
        for path in build(Path(tmp), args.files):
            ours, theirs = [], []
            for _ in range(args.repeat):
                ours.append(_cpu(read_artifact, path))
                if reference:
                    theirs.append(_cpu(reference, path))
            line = (f"{path.name:20} {path.stat().st_size / 1e6:5.2f} MB  "
                    f"ours {statistics.median(ours) * 1000:7.1f} ms CPU")  # fmt: skip
            if theirs:
                ratio = statistics.median(ours) / statistics.median(theirs)
                line += (f"  reference {statistics.median(theirs) * 1000:7.1f} ms"
                         f"  ratio {ratio:.2f}")  # fmt: skip
            print(line)


if __name__ == "__main__":
    main()
