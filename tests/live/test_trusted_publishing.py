"""Tier 2: trusted publishing end to end with the real client.

py-rattler-build's ``upload_package_to_prefix`` runs with no API key and an empty
auth file in a simulated GitHub Actions job whose ID-token endpoint is the local
issuer on loopback; py-rattler then installs what it published
(docs/trusted-publishing.md §5.4).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.artifacts import build_package
from tests.live.clients import run_client
from tests.live.reader import wait_until_indexed
from tests.live.service import LiveService
from tests.oidc_issuer import IssuerServer

pytestmark = pytest.mark.live


class Job:
    """A channel with a GitHub publisher on the live server, and a CI job for it."""

    def __init__(self, live: LiveService, server: IssuerServer, tmp: Path) -> None:
        self.live = live
        self.server = server
        self.tmp = tmp
        self.tag = uuid.uuid4().hex[:8]
        self.user = f"u{self.tag}"
        self.channel = f"tp{self.tag}"
        self.repository = f"pkg{self.tag}"
        live.manage("createuser", self.user, "--email", f"{self.user}@example.org")
        live.manage("createchannel", self.channel, "--owner", self.user)
        server.reset()
        server.github_token_claims = {"repository": f"octo-org/{self.repository}"}

    def add_publisher(self, *extra: str, workflow: str = "release.yml") -> str:
        return self.live.manage(
            "addpublisher", self.channel, "github", "--owner", "octo-org",
            "--repository", self.repository, "--workflow", workflow, *extra,
        )  # fmt: skip

    def package(self, name: str) -> Path:
        return build_package(self.tmp / "pkgs", f"{name}{self.tag}", "1.0")

    def publish(self, package: Path, **options: Any) -> Any:
        auth_file = self.tmp / "empty-auth.json"
        auth_file.write_text("{}")
        env = {
            "GITHUB_ACTIONS": "true",
            # rattler appends "&audience=..." as is: the URL needs a query already.
            "ACTIONS_ID_TOKEN_REQUEST_URL": f"{self.server.base}/token?x=1",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": self.server.request_token,
        }
        return run_client(
            "upload", env=env, files=[str(package)], url=self.live.url + "/",
            channel=self.channel, auth_file=str(auth_file), **options,
        )  # fmt: skip

    def shell_json(self, code: str) -> Any:
        return json.loads(self.live.shell(code).splitlines()[-1])

    def events(self, kind: str) -> list[dict[str, Any]]:
        return self.shell_json(
            "import json\n"
            "from publishing.models import AuditEvent\n"
            "print(json.dumps([e.data for e in AuditEvent.objects.filter("
            f"kind={kind!r}).order_by('id')]))"
        )

    def stored_files(self) -> list[str]:
        return self.shell_json(
            "import json\n"
            "from packages.models import PackageFile\n"
            "print(json.dumps(list(PackageFile.objects.filter("
            f"channel__name={self.channel!r}).values_list('filename', flat=True))))"
        )


@pytest.fixture
def job(live: LiveService, oidc_server: IssuerServer, tmp_path: Path) -> Job:
    return Job(live, oidc_server, tmp_path)


@pytest.mark.parametrize(
    "pinned", [True, False], ids=["owner-id", "trust-on-first-use"]
)
def test_a_github_actions_job_publishes_without_a_secret_and_installs(
    job: Job, tmp_path: Path, pinned: bool
) -> None:
    added = job.add_publisher(*(["--owner-id", "65"] if pinned else []))
    publisher_id = int(added.split()[3].rstrip(":"))
    package = job.package("tp")

    result = job.publish(package)

    assert result == {"ok": True}
    token_requests = [r for r in job.server.requests if r["path"] == "/token"]
    assert len(token_requests) == 1
    assert token_requests[0]["auth"] == f"Bearer {job.server.request_token}"
    assert "audience=127.0.0.1" in token_requests[0]["query"]
    base = f"{job.live.url}/{job.channel}"
    wait_until_indexed(base, "noarch", package.name)
    installed = run_client(
        "install", channel_url=base, specs=[f"tp{job.tag}"],
        workdir=str(tmp_path / "client"), platforms=["noarch"],
    )  # fmt: skip
    assert installed["ok"], installed
    assert installed["solved"] == [package.name]
    uploaded = [
        e
        for e in job.events("package.uploaded")
        if e["filename"] == f"noarch/{package.name}"
    ]
    assert len(uploaded) == 1
    assert uploaded[0]["via_trusted_publishing"] is True
    assert uploaded[0]["publisher_id"] == publisher_id
    assert "id=65" in job.live.manage("listpublishers", job.channel)
    stored = job.shell_json(
        "import json\nfrom publishing.models import TrustedPublishingToken as T\n"
        "print(json.dumps([len(t.token_hash) for t in T.objects.all()]))"
    )
    assert stored and set(stored) == {64}  # only hashes


@pytest.mark.parametrize(
    ("setup", "claim"),
    [
        pytest.param(
            {"repository": "octo-org/elsewhere"},
            "octo-org/elsewhere",
            id="another-repository",
        ),
        pytest.param(
            {"workflow": "nightly.yml"}, "workflow_ref", id="another-workflow-file"
        ),
        pytest.param({"environment": "staging"}, "environment", id="wrong-environment"),
    ],
)
def test_the_same_job_from_elsewhere_is_refused_and_nothing_is_stored(
    job: Job, setup: dict[str, str], claim: str
) -> None:
    if "workflow" in setup:
        job.add_publisher(workflow=setup["workflow"])
    else:
        job.add_publisher("--environment", "production")
    if "repository" in setup:
        job.server.github_token_claims = {"repository": setup["repository"]}
    if "environment" in setup:
        job.server.github_token_claims["environment"] = setup["environment"]

    result = job.publish(job.package("no"))

    assert result["ok"] is False
    failures = job.events("oidc.mint_failed")
    assert failures[-1]["code"] == "invalid-publisher"
    assert claim in failures[-1]["reason"]
    assert job.stored_files() == []


def test_skip_existing_with_a_fresh_jwt_takes_the_409_path(job: Job) -> None:
    job.add_publisher()
    package = job.package("skip")
    assert job.publish(package) == {"ok": True}

    assert job.publish(package, skip_existing=True) == {"ok": True}
    assert len([r for r in job.server.requests if r["path"] == "/token"]) == 2
    assert job.stored_files() == [package.name]
