"""Upload benchmark (performance.md U1, U2, M1): CPU and memory of ingesting a file.

Run ``python -m tests.benchmarks.bench_upload [--json PATH] [--check]``.

Each case runs in a fresh ``prefixhub shell`` process on an embedded data folder
(SQLite, local storage, tasks queued in memory and never run): Django's WSGI handler
receives a multipart upload streamed from disk, as the web server hands it over,
through the real API view. We report the process CPU of that request against the
floor, sha256 + md5 in one pass over the same bytes in the same process, and the
peak RSS growth (VmHWM, reset before the upload) of a 1 GB upload against a 10 MB
one. The package files are random bytes
(incompressible), built with rattler-build at compression level 1.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.benchmarks.harness import Result, format_table, log
from tests.live.service import ROOT

_SERVER_VARIABLES = ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "SECRET_KEY",
                     "ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE", "PUBLIC_URL",
                     "CELERY_TASK_ALWAYS_EAGER", "STORAGE_BACKEND")  # fmt: skip
MB = 1024 * 1024


def build(out: Path, name: str, size: int, *, tar_bz2: bool = False) -> Path:
    """A noarch package holding ``size`` random bytes."""
    from rattler_build import ArchiveType, assemble_package

    files = out / f"files-{name}"
    (files / "share").mkdir(parents=True, exist_ok=True)
    with open(files / "share" / f"{name}.bin", "wb") as handle:
        for start in range(0, size, 4 * MB):
            handle.write(os.urandom(min(4 * MB, size - start)))
    output = assemble_package(
        name, "1.0", "noarch", "h0_0", out, files_dir=files, noarch="generic",
        compression_level=1,
        archive_type=ArchiveType.TarBz2 if tar_bz2 else ArchiveType.Conda,
    )  # fmt: skip
    return Path(output.path)


_CHILD = r"""
import hashlib, io, json, os, time, uuid
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command

call_command("migrate", verbosity=0)
out = io.StringIO()
call_command("createuser", "bench", "--email", "b@example.org", stdout=out)
out = io.StringIO()
call_command("createapikey", "bench", "--name", "bench", stdout=out)
KEY = out.getvalue().strip()
call_command("createchannel", "up", "--owner", "bench", stdout=io.StringIO())

class Body:
    # A multipart body streamed from the package file, never held in memory.
    def __init__(self, path):
        self.boundary = uuid.uuid4().hex
        name = os.path.basename(path)
        head = (f"--{self.boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                f"filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n")
        self.parts = [io.BytesIO(head.encode()), open(path, "rb"),
                      io.BytesIO(f"\r\n--{self.boundary}--\r\n".encode())]
        self.length = sum(len(p.getvalue()) for p in (self.parts[0], self.parts[2]))
        self.length += os.path.getsize(path)
    def read(self, size=-1):
        chunks = []
        while self.parts and (size < 0 or size > 0):
            data = self.parts[0].read(size if size > 0 else -1)
            if not data:
                self.parts.pop(0).close()
                continue
            chunks.append(data)
            if size > 0:
                size -= len(data)
        return b"".join(chunks)
    def readline(self, *a):
        raise NotImplementedError

def upload(path):
    body = Body(path)
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/api/v1/upload/up",
               "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "QUERY_STRING": "",
               "wsgi.input": body, "wsgi.url_scheme": "http",
               "SERVER_PROTOCOL": "HTTP/1.1", "CONTENT_LENGTH": str(body.length),
               "CONTENT_TYPE": f"multipart/form-data; boundary={body.boundary}",
               "HTTP_AUTHORIZATION": f"Bearer {KEY}"}
    status = []
    result = WSGIHandler()(environ, lambda s, h, e=None: status.append(s))
    payload = b"".join(result)
    result.close()
    return status[0], payload

def status_kb(field):
    with open("/proc/self/status") as f:
        return next(int(x.split()[1]) for x in f if x.startswith(field + ":"))

def reset_peak_kb():
    # Resets VmHWM to the current RSS. getrusage's ru_maxrss cannot be reset and
    # starts at the parent's peak (kept across fork and exec): it measured the
    # parent building the package, not this upload.
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return status_kb("VmRSS")

def floor(path):
    sha, md5 = hashlib.sha256(), hashlib.md5()
    t = time.process_time()
    with open(path, "rb") as f:
        while chunk := f.read(256 * 1024):
            sha.update(chunk); md5.update(chunk)
    return time.process_time() - t

upload(WARMUP)  # imports, first queries, first storage write
before = reset_peak_kb()
cpu, wall = time.process_time(), time.perf_counter()
if os.environ.get("BENCH_PROFILE"):
    import cProfile, pstats
    profile = cProfile.Profile()
    status, payload = profile.runcall(upload, PATH)
    pstats.Stats(profile).sort_stats("tottime").print_stats(12)
else:
    status, payload = upload(PATH)
cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
peak = status_kb("VmHWM")
print("RESULT " + json.dumps({
    "status": status, "answer": payload[:200].decode(errors="replace"),
    "cpu_s": cpu, "wall_s": wall, "floor_s": floor(PATH), "floor2_s": floor(PATH),
    "rss_before_kb": before, "peak_kb": peak,
}))
"""


def child(data: Path, warmup: Path, path: Path) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k not in _SERVER_VARIABLES}
    env.update(PREFIXHUB_DATA_DIR=str(data), CELERY_BROKER_URL="memory://")
    # A "1 GB" package is a little over 1 GiB with its metadata: above the default.
    env["PREFIXHUB_MAX_UPLOAD_SIZE"] = str(2 * 1024 * MB)
    code = f"WARMUP = {str(warmup)!r}\nPATH = {str(path)!r}\n{_CHILD}"
    done = subprocess.run(
        [sys.executable, "-m", "prefixhub.cli", "shell", "--no-imports", "-c", code],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=3600,
    )  # fmt: skip
    lines = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
    if not lines:
        raise RuntimeError(done.stdout[-2000:] + done.stderr[-4000:])
    result = dict(json.loads(lines[-1][len("RESULT ") :]))
    if not result["status"].startswith("200"):
        raise RuntimeError(f"upload failed: {result}")
    return result


def run(*, big: int, sizes: tuple[int, int], work: Path) -> list[Result]:
    pkgs = work / "pkgs"
    warmup = build(pkgs, "warmup", 64 * 1024)
    out: list[Result] = []
    cases = [("U1", ".conda", build(pkgs, "uone", sizes[0]), 1.5, 1.2)]
    log("building the .tar.bz2 (bz2 is slow)")
    cases.append(("U2", ".tar.bz2, info/ first", build(pkgs, "utwo", sizes[0], tar_bz2=True), 1.5, 1.3))  # fmt: skip
    for scenario, label, path, target, stretch in cases:
        r = child(work / f"data-{scenario}", warmup, path)
        floor = min(r["floor_s"], r["floor2_s"])
        ratio = r["cpu_s"] / floor
        mb = path.stat().st_size / MB
        out.append(Result(
            scenario=scenario, size=f"{mb:.0f} MB", metric=f"upload CPU, {label}",
            ours=r["cpu_s"], unit="s", reference=floor, ratio=ratio,
            target=f"<= {target}x hash floor", ok=ratio <= target,
            stretch=f"<= {stretch}x (doc)", stretch_ok=ratio <= stretch,
            note=f"{label}: wall {r['wall_s']:.2f} s; reference = sha256+md5 one pass",
        ))  # fmt: skip
    log("building the 10 MB and the big package for M1")
    small = child(work / "data-m1-small", warmup, build(pkgs, "msmall", sizes[1]))
    large_path = build(pkgs, "mlarge", big)
    large = child(work / "data-m1-large", warmup, large_path)
    grow = {
        k: (v["peak_kb"] - v["rss_before_kb"]) / 1024
        for k, v in (("small", small), ("large", large))
    }
    out.append(Result(
        scenario="M1", size=f"{large_path.stat().st_size / MB:.0f} MB",
        metric="RSS growth of the upload", ours=grow["large"], unit="MB",
        reference=grow["small"], ratio=None,
        target="within 8 MB of a 10 MB upload's",
        ok=grow["large"] - grow["small"] <= 8,
        stretch="<= 32 MB", stretch_ok=grow["large"] <= 32,
        note=f"10 MB upload grew {grow['small']:.1f} MB, the big one {grow['large']:.1f} MB",
    ))  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--big-mb", type=int, default=1024, help="M1 upload size")
    parser.add_argument("--mb", type=int, default=100, help="U1/U2 upload size")
    parser.add_argument("--json", metavar="PATH")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="prefixhub-bench-upload-") as tmp:
        results = run(
            big=args.big_mb * MB, sizes=(args.mb * MB, 10 * MB), work=Path(tmp)
        )
    print(f"cpu cores: {os.cpu_count()}; load: {os.getloadavg()}")
    print(format_table(results))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump([r.__dict__ for r in results], handle, indent=2, default=str)
    return 1 if args.check and any(r.ok is False for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
