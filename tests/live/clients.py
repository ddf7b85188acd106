"""Real conda clients, each scenario in a child process that prints JSON.

py-rattler can crash during interpreter shutdown after a successful run, so the
child flushes its result and leaves with ``os._exit``; the parent judges the output.
Run as ``python -m tests.live.clients <scenario> '<json arguments>'``.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any

from tests.live.service import ROOT

_CLIENT_ENV_SCRUB = ("GITHUB_ACTIONS", "GITLAB_CI", "ACTIONS_ID_TOKEN_REQUEST_URL",
                     "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "RATTLER_AUTH_FILE")  # fmt: skip


def run_client(scenario: str, env: dict[str, str] | None = None, **args: Any) -> Any:
    """Run a scenario in a child process; its JSON result (errors included)."""
    child_env = {k: v for k, v in os.environ.items() if k not in _CLIENT_ENV_SCRUB}
    child_env.update(env or {})
    done = subprocess.run(
        [sys.executable, "-m", "tests.live.clients", scenario, json.dumps(args)],
        env=child_env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise AssertionError(f"{scenario} printed no result:\n{done.stdout}\n{done.stderr}")


def upload(files: list[str], url: str, channel: str, **options: Any) -> dict[str, Any]:
    from rattler_build import upload_package_to_prefix

    try:
        upload_package_to_prefix(files, url, channel, **options)
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    return {"ok": True}


def _client() -> Any:
    from rattler.networking import AuthenticationMiddleware, Client

    return Client([AuthenticationMiddleware()])


def install(
    channel_url: str,
    specs: list[str],
    workdir: str,
    platforms: list[str],
    sharded: bool = True,
    cache_dir: str | None = None,
) -> dict[str, Any]:
    """Query, solve and install ``specs`` from ``channel_url`` into a new prefix.

    ``cache_dir`` shares the index cache between runs, as one machine would.
    """
    from rattler import Gateway, SourceConfig, install, solve

    work = Path(workdir)
    client = _client()
    gateway = Gateway(
        cache_dir=Path(cache_dir) if cache_dir else work / "cache",
        client=client,
        default_config=SourceConfig(sharded_enabled=sharded),
    )

    async def go() -> dict[str, Any]:
        query = await gateway.query([channel_url], platforms, specs)
        found = sorted(str(r.file_name) for records in query for r in records)
        solution = await solve(
            [channel_url], specs, gateway=gateway, platforms=platforms
        )
        prefix = work / "env"
        await install(
            solution, target_prefix=prefix, cache_dir=work / "pkgs", client=client,
            show_progress=False,
        )  # fmt: skip
        files = sorted(
            str(p.relative_to(prefix)) for p in prefix.rglob("*") if p.is_file()
        )
        return {
            "ok": True,
            "queried": found,
            "solved": sorted(str(r.file_name) for r in solution),
            "files": files,
        }

    try:
        return asyncio.run(go())
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}


def upload_then_install(
    files: list[str], url: str, channel: str, api_key: str, **install_args: Any
) -> dict[str, Any]:
    """Upload, and install the moment the upload call returns: no sleep, no polling."""
    uploaded = upload(files, url, channel, api_key=api_key)
    if not uploaded["ok"]:
        return uploaded
    return install(**install_args)


def reference_index(folder: str) -> dict[str, Any]:
    """Run rattler-index over ``folder`` (``<subdir>/<files>``)."""
    from rattler.index import index_fs

    asyncio.run(index_fs(Path(folder), write_zst=True, write_shards=True))
    return {"ok": True}


SCENARIOS = {
    "upload": upload,
    "install": install,
    "upload_then_install": upload_then_install,
    "reference_index": reference_index,
}


def main() -> None:
    scenario, raw = sys.argv[1], sys.argv[2]
    try:
        result = SCENARIOS[scenario](**json.loads(raw))
    except Exception:
        result = {"ok": False, "error": traceback.format_exc()}
    sys.stdout.write("RESULT " + json.dumps(result) + "\n")
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
