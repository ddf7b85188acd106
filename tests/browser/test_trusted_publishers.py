"""Tier 3: the owner registers a GitHub publisher on the settings page, then a
simulated GitHub Actions job publishes with no secret and py-rattler installs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import screenshot, unique
from tests.browser.test_website import PASSWORD, log_in, make_channel, make_user
from tests.live.clients import run_client
from tests.live.reader import wait_until_indexed
from tests.live.service import LiveService
from tests.live.test_trusted_publishing import Job
from tests.oidc_issuer import IssuerServer

pytestmark = pytest.mark.browser


def test_the_owner_registers_a_github_publisher_and_the_job_publishes(
    page: Any, live: LiveService, oidc_server: IssuerServer, tmp_path: Path
) -> None:
    owner = make_user(live, "tpo")
    channel = make_channel(live, owner, prefix="tpb")
    repository = unique("repo")
    log_in(page, owner)

    page.goto(f"/channels/{channel}/settings/trusted-publishers")
    assert page.locator("text=No trusted publishers yet.").is_visible()
    page.fill("#id_github-owner", "octo-org")
    page.fill("#id_github-repository", repository)
    page.fill("#id_github-workflow", "release.yml")
    page.fill("#id_github-environment", "production")
    page.click("text=Add GitHub publisher")
    # Managing publishers asks for the password again (re-authentication).
    page.wait_for_url("**/accounts/reauthenticate/**")
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_url(f"**/channels/{channel}/settings/trusted-publishers")

    publisher = page.locator(".publisher")
    assert publisher.count() == 1
    assert f"octo-org/{repository}" in publisher.inner_text()
    assert "not yet verified" in publisher.inner_text()
    page.click("text=GitHub Actions workflow")
    snippet = page.locator("pre.snippet").inner_text()
    assert f"--url {live.url}" in snippet
    assert f"--channel {channel}" in snippet
    assert "id-token: write" in snippet
    screenshot(page, "trusted-publishers")

    job = Job.__new__(Job)
    job.live, job.server, job.tmp = live, oidc_server, tmp_path
    job.tag, job.channel, job.repository = repository, channel, repository
    oidc_server.reset()
    oidc_server.github_token_claims = {"repository": f"octo-org/{repository}"}
    package = job.package("web")

    result = job.publish(package)
    assert result == {"ok": True}, (result, job.events("oidc.mint_failed")[-1:])
    base = f"{live.url}/{channel}"
    wait_until_indexed(base, "noarch", package.name)
    installed = run_client(
        "install", channel_url=base, specs=[f"web{repository}"],
        workdir=str(tmp_path / "client"), platforms=["noarch"],
    )  # fmt: skip
    assert installed["ok"], installed

    page.goto(f"/channels/{channel}/packages/web{repository}")
    assert f"octo-org/{repository}" in page.content()
    assert page.locator("a[href*='/actions/runs/']").first.is_visible()
    screenshot(page, "package-published-by-workflow")
    page.goto(f"/channels/{channel}/settings/trusted-publishers")
    assert "Owner ID" in page.locator(".publisher").inner_text()
    assert "65" in page.locator(".publisher").inner_text()
