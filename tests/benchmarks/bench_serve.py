"""Serving benchmark (performance.md S1-S3, issue 9): requests/s against nginx.

Run ``python -m tests.benchmarks.bench_serve [--seconds 5] [--json PATH] [--check]``.

One run starts, on loopback and in child processes:
- ``prefixhub serve`` (stream mode, one granian worker) on a fresh data folder;
- a second ``prefixhub serve`` on the same data in ``accel`` mode, behind nginx with
  the shipped ``deploy/nginx`` configuration (local storage);
- in the same nginx, a plain static server over the storage folder: the reference.

It publishes a public and a private channel (py-rattler-build), then loads each URL
with wrk: a public shard, a private shard with a Bearer key, a 304 revalidation of
the shard index, and a 50 MB package download, each through ``prefixhub serve`` and
through the deploy configuration, and the same file from nginx static. The servers
share core 0 and wrk runs on core 1 when the machine has two cores. It also times the
access decision in-process (the project's WSGI application, no network) for public
and private requests. No test asserts these numbers (tests/benchmarks/test_smoke.py runs none).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.artifacts import build_package
from tests.benchmarks.harness import Result, format_header, format_table, log
from tests.live.clients import run_client
from tests.live.nginx import Nginx
from tests.live.reader import wait_until_indexed
from tests.live.service import ROOT, free_port, wait_for
from tests.resources import children

_SERVER_VARIABLES = ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "SECRET_KEY",
                     "ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE", "PUBLIC_URL",
                     "CELERY_TASK_ALWAYS_EAGER", "STORAGE_BACKEND",
                     "PREFIXHUB_SERVE_MODE")  # fmt: skip
SERVER_CORE, LOAD_CORE = 0, 1


def _pin(pid: int, core: int) -> None:
    """Pin a process, its descendants (serve starts each child in a session of its
    own) and all their threads to one core."""
    if (os.cpu_count() or 1) < 2:
        return
    todo = [pid]
    while todo:
        current = todo.pop()
        todo += children(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                os.sched_setaffinity(int(task.name), {core})
        except (ProcessLookupError, PermissionError, FileNotFoundError):
            continue


class Serve:
    """``prefixhub serve`` in a child process group."""

    def __init__(self, data: Path, mode: str, log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if k not in _SERVER_VARIABLES}
        self.env.update(PREFIXHUB_DATA_DIR=str(data), PREFIXHUB_SERVE_MODE=mode)
        with open(log_path, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "prefixhub.cli", "serve", "--port",
                 str(self.port), "--web-workers", "1"],
                env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def wait(self) -> None:
        def up() -> bool:
            try:
                socket_ok = urllib.request.urlopen(self.url + "/healthz", timeout=2)
                socket_ok.close()
            except urllib.error.HTTPError:
                return True
            except OSError:
                return False
            return True

        wait_for(up, timeout=120, interval=0.3)

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "prefixhub.cli", *args], env=self.env, cwd=ROOT,
            capture_output=True, text=True, check=True, timeout=300,
        )  # fmt: skip
        return done.stdout.strip()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


def wrk(
    url: str, seconds: float, connections: int, headers: dict[str, str]
) -> dict[str, float]:
    """Requests/s, transfer/s and the status mix of a wrk run on the load core."""
    argv = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
        url,
    ]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    if (os.cpu_count() or 1) >= 2:
        argv = ["taskset", "-c", str(LOAD_CORE), *argv]
    out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return {
        "rps": rate,
        "bad": float(non2xx[1]) if non2xx else 0.0,
        "p50_ms": float(p50[1]) * scale[p50[2]] if p50 else float("nan"),
    }


def head(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str]]:
    """Status and headers (names in lower case) of a GET of ``url``."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            found = response.status, response.headers
    except urllib.error.HTTPError as exc:
        found = exc.code, exc.headers
    return found[0], {name.lower(): value for name, value in found[1].items()}


_INPROCESS = r"""
import json, statistics, time, io
from prefixhub.wsgi import application as handler
def environ(path, headers):
    env = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "SERVER_NAME": "127.0.0.1",
           "SERVER_PORT": "80", "wsgi.input": io.BytesIO(), "wsgi.url_scheme": "http",
           "QUERY_STRING": "", "SERVER_PROTOCOL": "HTTP/1.1"}
    env.update(headers)
    return env
def start(status, headers, exc_info=None):
    start.status = status
out = {}
for label, path, headers in CASES:
    times = []
    for i in range(2200):
        t = time.perf_counter()
        body = handler(environ(path, headers), start)
        for _ in body: pass
        getattr(body, "close", lambda: None)()
        if i >= 200:
            times.append(time.perf_counter() - t)
    times.sort()
    out[label] = {"status": start.status, "median_us": statistics.median(times) * 1e6,
                  "p99_us": times[int(len(times) * 0.99)] * 1e6}
print("RESULT " + json.dumps(out))
"""


def inprocess(
    serve: Serve, cases: list[tuple[str, str, dict[str, str]]]
) -> dict[str, Any]:
    code = f"CASES = {cases!r}\n{_INPROCESS}"
    env = dict(serve.env, ALLOWED_HOSTS="127.0.0.1")
    done = subprocess.run(
        ["taskset", "-c", str(SERVER_CORE), sys.executable, "-m", "prefixhub.cli",
         "shell", "--no-imports", "-c", code],
        env=env, cwd=ROOT, capture_output=True, text=True, check=True, timeout=600,
    )  # fmt: skip
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    return dict(json.loads(line[len("RESULT ") :]))


def publish(serve: Serve, work: Path) -> dict[str, Any]:
    """A public and a private channel with a small package each, plus a 50 MB one."""
    serve.cli("createuser", "bench", "--email", "bench@example.org")
    key = serve.cli("createapikey", "bench", "--name", "bench")
    serve.cli("createchannel", "pub", "--owner", "bench")
    serve.cli("createchannel", "priv", "--owner", "bench", "--private")
    small = build_package(work / "pkgs", "benchpkg", "1.0")
    hidden = build_package(work / "pkgs", "hiddenpkg", "1.0")
    log("building a 50 MB package")
    big = build_package(
        work / "pkgs", "bigpkg", "1.0",
        content=base64.b64encode(os.urandom(50 * 1024 * 1024 * 3 // 4)).decode(),
    )  # fmt: skip
    for channel, files in (("pub", [small, big]), ("priv", [hidden])):
        result = run_client("upload", files=[str(f) for f in files], url=serve.url,
                            channel=channel, api_key=key)  # fmt: skip
        assert result == {"ok": True}, result
    auth = {"Authorization": f"Bearer {key}"}
    wait_until_indexed(f"{serve.url}/pub", "noarch", small.name)
    wait_until_indexed(f"{serve.url}/pub", "noarch", big.name)
    wait_until_indexed(f"{serve.url}/priv", "noarch", hidden.name, auth)
    return {"key": key, "small": small, "big": big, "hidden": hidden}


def _shard_url(base: str, name: str, headers: dict[str, str] | None = None) -> str:
    from tests.live.reader import shard_index

    sha = shard_index(base, "noarch", headers)["shards"][name]
    return f"{base}/noarch/shards/{sha.hex()}.msgpack.zst"


STATIC_SERVER = """
server {{
    listen 127.0.0.1:{port};
    access_log off;
    root {root};
}}
"""


def run(seconds: float) -> tuple[dict[str, str], list[Result]]:
    work = Path(tempfile.mkdtemp(prefix="prefixhub-bench-serve-"))
    data = work / "data"
    stream = Serve(data, "stream", work / "serve-stream.log")
    accel: Serve | None = None
    nginx: Nginx | None = None
    try:
        stream.wait()
        made = publish(stream, work)
        accel = Serve(data, "accel", work / "serve-accel.log")
        accel.wait()
        static_port = free_port()
        nginx = Nginx(work / "nginx")
        nginx.extra = STATIC_SERVER.format(port=static_port, root=data / "storage")
        nginx.start(
            WEB=f"127.0.0.1:{accel.port}", STORAGE="local",
            STORAGE_ROOT=str(data / "storage"), STATIC_ROOT=str(data / "static"),
        )  # fmt: skip
        for process in (stream.process, accel.process, nginx.process):
            assert process is not None
            _pin(process.pid, SERVER_CORE)
        return measure(
            stream, nginx, f"http://127.0.0.1:{static_port}", data, made, seconds
        )
    finally:
        if nginx is not None:
            nginx.stop()
        for serve in (accel, stream):
            if serve is not None:
                serve.stop()


def measure(
    stream: Serve,
    nginx: Nginx,
    static: str,
    data: Path,
    made: dict[str, Any],
    seconds: float,
) -> tuple[dict[str, str], list[Result]]:
    key = made["key"]
    auth = {"Authorization": f"Bearer {key}"}
    routes = {"serve": stream.url, "deploy nginx": nginx.url}
    paths: dict[str, str] = {}
    pub_shard = _shard_url(f"{stream.url}/pub", "benchpkg")
    priv_shard = _shard_url(f"{stream.url}/priv", "hiddenpkg", auth)
    paths["shard"] = pub_shard.removeprefix(stream.url)
    paths["private shard"] = priv_shard.removeprefix(stream.url)
    paths["index"] = "/pub/noarch/repodata_shards.msgpack.zst"
    paths["package"] = f"/pub/noarch/{made['big'].name}"
    storage = data / "storage"
    # The same files as plain static files, for nginx's reference rate.
    static_paths = {
        "shard": "/index/"
        + str(
            next(
                (storage / "index").rglob(paths["shard"].rsplit("/", 1)[1])
            ).relative_to(storage / "index")
        ),
        "private shard": "/index/"
        + str(
            next(
                (storage / "index").rglob(paths["private shard"].rsplit("/", 1)[1])
            ).relative_to(storage / "index")
        ),
        "index": "/index/"
        + str(
            next(
                (storage / "index").glob("*/noarch/repodata_shards.msgpack.zst")
            ).relative_to(storage / "index")
        ),
        "package": "/packages/"
        + str(
            next((storage / "packages").rglob(made["big"].name)).relative_to(
                storage / "packages"
            )
        ),
    }
    etag = head(stream.url + paths["index"])[1]["etag"]
    static_etag = head(static + static_paths["index"])[1]["etag"]
    cases = [
        ("S1", "public shard", "shard", {}, 16),
        ("S2", "private shard, Bearer", "private shard", auth, 16),
        ("S3", "304 of the shard index", "index", {"If-None-Match": etag}, 16),
        ("S4", "50 MB package", "package", {}, 2),
    ]
    results: list[Result] = []
    for scenario, label, kind, headers, conns in cases:
        ref_headers = {"If-None-Match": static_etag} if kind == "index" else {}
        status = head(static + static_paths[kind], ref_headers)[0]
        reference = wrk(static + static_paths[kind], seconds, conns, ref_headers)
        log(f"{label}: nginx static {reference['rps']:.0f}/s (status {status})")
        for route, base in routes.items():
            status = head(base + paths[kind], headers)[0]
            got = wrk(base + paths[kind], seconds, conns, headers)
            ratio = got["rps"] / reference["rps"]
            target, ok = _target(kind, route, ratio)
            log(f"{label} via {route}: {got['rps']:.0f}/s ({ratio:.1%})")
            results.append(Result(
                scenario=scenario, size="-", metric=f"{label} via {route}",
                ours=got["rps"], unit="req/s", reference=reference["rps"],
                ratio=ratio, target=target, ok=ok if got["bad"] == 0 else False,
                note=f"{label} via {route}: status {status}, p50 {got['p50_ms']:.2f} ms"
                + (f", {got['bad']:.0f} non-2xx/3xx" if got["bad"] else ""),
            ))  # fmt: skip
    results += _django_floor(stream, data, seconds, results)
    results += _inprocess_results(stream, paths, key, etag)
    info = {
        "cpu": _cpu(),
        "cores": str(os.cpu_count()),
        "pinning": f"servers on core {SERVER_CORE}, wrk on core {LOAD_CORE}",
        "python": sys.version.split()[0],
        "database": "SQLite (prefixhub serve, embedded)",
        "storage": "local folder",
        "nginx": subprocess.run(
            ["nginx", "-v"], capture_output=True, text=True
        ).stderr.strip(),
        "load": f"wrk, {seconds:g} s per case",
    }
    return info, results


def _django_floor(
    stream: Serve, data: Path, seconds: float, results: list[Result]
) -> list[Result]:
    """A static file from WhiteNoise through the same ``prefixhub serve``: what this
    granian and Django answer at best here (the doc's "trivial Django view")."""
    css = next((data / "static").rglob("*.css")).relative_to(data / "static")
    floor = wrk(f"{stream.url}/static/{css}", seconds, 16, {})["rps"]
    out = [
        Result(
            scenario="floor", size="-", metric="WhiteNoise static file via serve",
            ours=floor, unit="req/s",
        )
    ]  # fmt: skip
    for r in results:
        if r.scenario in ("S2", "S3") and r.ours:
            out.append(Result(
                scenario=r.scenario, size="-", metric=f"{r.metric} / Django floor",
                ours=r.ours, unit="req/s", reference=floor, ratio=r.ours / floor,
                stretch=">= 0.85x (doc S2)", stretch_ok=r.ours / floor >= 0.85,
            ))  # fmt: skip
    return out


def _target(kind: str, route: str, ratio: float) -> tuple[str, bool | None]:
    if kind == "shard" and route == "deploy nginx":
        return ">= 0.5x nginx static", ratio >= 0.5
    if kind in ("private shard", "index"):
        return ">= 0.1x nginx static", ratio >= 0.1
    return "", None


def _inprocess_results(
    stream: Serve, paths: dict[str, str], key: str, etag: str
) -> list[Result]:
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    cases = [
        ("public shard", paths["shard"], {}),
        ("public shard index", paths["index"], {}),
        ("304 of the shard index", paths["index"], {"HTTP_IF_NONE_MATCH": etag}),
        ("private shard, Bearer", paths["private shard"], bearer),
    ]
    out = []
    for mode in ("stream", "accel"):
        serve_env = dict(stream.env, PREFIXHUB_SERVE_MODE=mode)
        fake = Serve.__new__(Serve)
        fake.env = serve_env
        timings = inprocess(fake, cases)
        for label, _, _ in cases:
            t = timings[label]
            target = "< 0.5 ms" if "public" in label or "304" in label else ""
            out.append(Result(
                scenario="in-process", size="-", metric=f"{label} ({mode})",
                ours=t["median_us"] / 1000, ours_p99=t["p99_us"] / 1000, unit="ms",
                target=target, ok=(t["median_us"] < 500) if target else None,
                note=f"{label} ({mode}): {t['status']}",
            ))  # fmt: skip
    return out


def _cpu() -> str:
    with open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--json", metavar="PATH")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    info, results = run(args.seconds)
    print(format_header(info))
    print()
    print(format_table(results))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"header": info, "results": [r.__dict__ for r in results]},
                      handle, indent=2, default=str)  # fmt: skip
    missed = [r for r in results if r.ok is False]
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
