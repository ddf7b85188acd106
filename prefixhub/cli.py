"""The ``prefixhub`` command: Django's management commands plus ``serve`` and ``web``.

``prefixhub serve`` runs the whole service on one machine: it applies migrations,
collects static files, then starts the web server, a Celery worker with an embedded
beat, and waits. Ctrl-C (or SIGTERM) stops all of them.

``prefixhub web`` is the web server alone (granian running the WSGI application), as
production runs it behind nginx. It is the one place that knows granian's command
line: ``serve`` and the live test service start it through ``web_command``.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import NoReturn


def _manage(argv: Sequence[str]) -> None:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["prefixhub", *argv])


def web_command(
    *,
    host: str,
    port: int,
    workers: int,
    blocking_threads: int,
    kill_timeout: int = 10,
) -> list[str]:
    """The argv that runs the web server: granian serving ``prefixhub.wsgi``.

    ``blocking_threads`` is how many requests each worker runs in Django at once;
    uploads are long requests, so keep several. ``kill_timeout`` is how many seconds
    a stopping worker may finish its requests before it is killed.
    """
    return [
        sys.executable, "-m", "granian",
        "--interface", "wsgi",
        "--host", host,
        "--port", str(port),
        "--workers", str(workers),
        "--blocking-threads", str(blocking_threads),
        # HTTP/1.1 only, as behind nginx: cleartext HTTP/2 would add a second
        # protocol (with its own 16 MiB header limit) for no client that needs it.
        "--http", "1",
        "--workers-kill-timeout", str(kill_timeout),
        # No access log: request lines can carry keys (/t/<key>/...).
        "--no-access-log",
        "prefixhub.wsgi:application",
    ]  # fmt: skip


def parse_bind(bind: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:8001`` for IPv6) as a host and a port.

    >>> parse_bind("127.0.0.1:8001")
    ('127.0.0.1', 8001)
    >>> parse_bind("[::1]:8001")
    ('::1', 8001)
    """
    host, sep, port = bind.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"--bind wants HOST:PORT, not {bind!r}")
    return host.removeprefix("[").removesuffix("]"), int(port)


def web(argv: Sequence[str]) -> NoReturn:
    """Replace this process by the web server (signals then reach granian itself)."""
    parser = argparse.ArgumentParser(prog="prefixhub web")
    parser.add_argument("--bind", help="HOST:PORT (instead of --host and --port)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--blocking-threads", type=int, default=8)
    parser.add_argument(
        "--kill-timeout", type=int, default=60, help="graceful stop, in seconds"
    )
    args = parser.parse_args(argv)
    host, port = args.host, args.port
    if args.bind:
        try:
            host, port = parse_bind(args.bind)
        except ValueError as exc:
            parser.error(str(exc))
    command = web_command(
        host=host,
        port=port,
        workers=args.workers,
        blocking_threads=args.blocking_threads,
        kill_timeout=args.kill_timeout,
    )
    os.execv(command[0], command)  # noqa: S606 (our own fixed argv)


def _processes(host: str, port: int, web_workers: int) -> list[list[str]]:
    from django.conf import settings

    web = web_command(host=host, port=port, workers=web_workers, blocking_threads=4)
    worker = [
        sys.executable, "-m", "celery", "--app", "prefixhub", "worker",
        "--beat", "--schedule", str(settings.CELERY_BEAT_SCHEDULE_FILENAME),
        "--concurrency", "2",
        "--loglevel", "INFO",
    ]  # fmt: skip
    return [web, worker]


def default_public_url(host: str, port: int) -> str:
    """The URL people use when PUBLIC_URL is not set: the bound address, or for a
    wildcard bind (``0.0.0.0``, ``::``) this machine's name, never the wildcard.

    >>> default_public_url("127.0.0.1", 8000)
    'http://127.0.0.1:8000'
    >>> default_public_url("0.0.0.0", 8000) == f"http://{socket.gethostname()}:8000"
    True
    """
    if host in ("", "0.0.0.0", "::", "[::]"):  # noqa: S104 (recognising, not binding)
        host = socket.gethostname()
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def serve(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="prefixhub serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--web-workers", type=int, default=2)
    args = parser.parse_args(argv)

    public_url_given = bool(os.environ.get("PUBLIC_URL"))
    os.environ.setdefault("PUBLIC_URL", default_public_url(args.host, args.port))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1)
    call_command("collectstatic", interactive=False, verbosity=0)
    print(f"prefixhub data in {settings.DATA_DIR}", flush=True)  # noqa: T201
    print(f"Serving on {settings.PUBLIC_URL}/ (Ctrl-C stops)", flush=True)  # noqa: T201
    if not public_url_given:
        print("Set PUBLIC_URL to the address people use, if it differs.", flush=True)  # noqa: T201
    children = [
        # Each child in a session of its own: a Ctrl-C reaches serve alone, which
        # then stops each child with one SIGTERM. A second signal on top of the
        # terminal's can turn a graceful stop into a slow or abrupt one (the web
        # server and Celery each count stop signals).
        subprocess.Popen(cmd, start_new_session=True, preexec_fn=_die_with_parent)  # noqa: S603 (our own fixed argv; no threads yet)
        for cmd in _processes(args.host, args.port, args.web_workers)
    ]
    return _supervise(children)


def _die_with_parent() -> None:
    """Have the kernel stop a child whose serve process died without stopping it."""
    if sys.platform == "linux":
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _supervise(children: list[subprocess.Popen[bytes]]) -> int:
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    status = 0
    while not stopping:
        for child in children:
            code = child.poll()
            if code is not None:
                name = " ".join(str(arg) for arg in child.args[1:3])  # type: ignore[index]
                print(f"{name} exited with {code}; stopping", flush=True)  # noqa: T201
                status = code or 1
                stopping = True
        time.sleep(0.2)
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 20
    for child in children:
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    return status


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    # What the service writes (database, queue, stored files) is its user's alone.
    os.umask(0o077)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prefixhub.settings")
    if args and args[0] == "serve":
        sys.exit(serve(args[1:]))
    if args and args[0] == "web":
        web(args[1:])
    _manage(args)


if __name__ == "__main__":
    main()
