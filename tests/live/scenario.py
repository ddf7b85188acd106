"""One story for every way of running prefixhub: publish with rattler-build, then
install with py-rattler, from a public and from a private channel."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.artifacts import build_package
from tests.live.clients import run_client
from tests.live.reader import wait_until_indexed


class Publisher:
    """A user with an API key, creating channels through ``manage`` (the CLI) and
    reaching the service at ``url`` (granian itself, or nginx in front of it)."""

    def __init__(self, manage: Callable[..., str], url: str, tmp: Path) -> None:
        self.manage = manage
        self.url = url
        self.tmp = tmp
        self.user = f"u{uuid.uuid4().hex[:8]}"
        manage("createuser", self.user, "--email", f"{self.user}@example.org")
        self.key = manage("createapikey", self.user, "--name", "ci")

    def channel(self, *, private: bool = False) -> str:
        name = f"c{uuid.uuid4().hex[:8]}"
        self.manage(
            "createchannel", name, "--owner", self.user,
            *(["--private"] if private else []),
        )  # fmt: skip
        return name

    def packages(self, tag: str) -> list[Path]:
        """A noarch .conda and a linux-64 .tar.bz2 that depends on it."""
        out = self.tmp / f"pkgs-{tag}"
        lib = build_package(out, f"lib{tag}", "1.0", content=f"lib {tag}")
        app = build_package(
            out, f"app{tag}", "2.0", platform="linux-64", depends=[f"lib{tag}"],
            tar_bz2=True, content=f"app {tag}",
        )  # fmt: skip
        return [lib, app]

    def upload(self, channel: str, files: list[Path]) -> Any:
        return run_client(
            "upload", files=[str(f) for f in files], url=self.url, channel=channel,
            api_key=self.key,
        )  # fmt: skip

    def publish_and_install(self, tag: str, *, private: bool) -> dict[str, Any]:
        """Upload two packages to a new channel and install the app; the result."""
        channel = self.channel(private=private)
        lib, app = self.packages(tag)
        assert self.upload(channel, [lib, app]) == {"ok": True}
        base = f"{self.url}/{channel}"
        auth = {"Authorization": f"Bearer {self.key}"} if private else None
        wait_until_indexed(base, "linux-64", app.name, auth)
        wait_until_indexed(base, "noarch", lib.name, auth)
        env = {}
        if private:
            auth_file = self.tmp / f"credentials-{tag}.json"
            auth_file.write_text(json.dumps({"127.0.0.1": {"BearerToken": self.key}}))
            env["RATTLER_AUTH_FILE"] = str(auth_file)
        result = run_client(
            "install", env=env, channel_url=base, specs=[f"app{tag}"],
            workdir=str(self.tmp / f"client-{tag}"), platforms=["linux-64", "noarch"],
        )  # fmt: skip
        assert result["ok"], result
        assert result["solved"] == sorted([lib.name, app.name])
        assert f"share/app{tag}.txt" in result["files"]
        assert f"share/lib{tag}.txt" in result["files"]
        return {"channel": channel, "base": base, **result}
