"""What a minted trusted-publishing token can and cannot do (spec §1.3, §3.5-3.6, §6
36-45): it uploads new files to its channels for 15 minutes, and nothing else."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.db import connection, connections
from django.test import Client

from accounts.models import ApiKey
from channels.models import Activity, Channel, Membership
from packages.models import PackageFile
from publishing.models import (
    AuditEvent,
    TrustedPublisher,
    TrustedPublishingToken,
    UsedIdToken,
)
from tests.conftest import upload
from tests.factories import make_channel
from tests.oidc_issuer import github_claims
from tests.publishing.conftest import Oidc, github_publisher


def minted_for(oidc: Oidc, channel: Any, **publisher: Any) -> str:
    github_publisher(channel, **publisher)
    response = oidc.mint(oidc.github.sign(github_claims()))
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def token(oidc: Oidc, channel: Any) -> str:
    return minted_for(oidc, channel)


def assert_unauthenticated(response: Any) -> None:
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="prefixhub"'


# --- 39: the one thing it does ----------------------------------------------------------


def test_39_the_token_uploads_a_new_file_shown_as_published_by_the_workflow(
    token: str, channel: Any, noarch_pkg: Path, committed: Any
) -> None:
    with committed():
        response = upload(Client(), "demo", noarch_pkg, token)

    assert response.status_code == 200
    package = PackageFile.objects.get(channel=channel)
    assert package.uploaded_by is None
    via = package.published_via
    assert via["via_trusted_publishing"] is True
    assert via["repository"] == "octo-org/pkg"
    assert via["workflow"] == "release.yml"
    assert via["ref"] == "refs/heads/main"
    assert via["run_url"] == "https://github.com/octo-org/pkg/actions/runs/1234567890"
    activity = Activity.objects.filter(verb=Activity.Verb.UPLOADED).get()
    assert activity.workflow == via
    uploaded = AuditEvent.objects.get(kind=AuditEvent.Kind.PACKAGE_UPLOADED)
    assert uploaded.data["token_id"] == TrustedPublishingToken.objects.get().pk
    assert uploaded.data["publisher_id"] == TrustedPublisher.objects.get().pk
    assert (
        uploaded.data["sha256"] == hashlib.sha256(noarch_pkg.read_bytes()).hexdigest()
    )
    for row in AuditEvent.objects.all():
        assert token not in str(row.data)


def test_the_package_page_and_activity_show_the_workflow(
    token: str, channel: Any, alice: Any, noarch_pkg: Path, committed: Any
) -> None:
    with committed():
        assert upload(Client(), "demo", noarch_pkg, token).status_code == 200
    browser = Client()
    browser.force_login(alice)

    page = browser.get("/channels/demo/packages/demo").content.decode()
    activity = browser.get("/channels/demo/settings/activity").content.decode()

    for html in (page, activity):
        assert "octo-org/pkg" in html
        assert "release.yml" in html
        assert "refs/heads/main" in html
        assert 'href="https://github.com/octo-org/pkg/actions/runs/1234567890"' in html
        assert token not in html


def test_the_same_filename_again_is_409_for_skip_existing(
    token: str, noarch_pkg: Path, committed: Any
) -> None:
    with committed():
        assert upload(Client(), "demo", noarch_pkg, token).status_code == 200
    assert upload(Client(), "demo", noarch_pkg, token).status_code == 409


# --- 40-41: everything else -------------------------------------------------------------


def test_40_other_channels_are_403_when_public_and_404_when_private_or_unknown(
    token: str, private_channel: Any, noarch_pkg: Path, dave_channel: Any
) -> None:
    public = upload(Client(), "daves", noarch_pkg, token)
    private = upload(Client(), "secret", noarch_pkg, token)
    unknown = upload(Client(), "nowhere", noarch_pkg, token)

    assert public.status_code == 403
    assert (private.status_code, private.json()) == (
        404,
        {"detail": "Channel 'secret' does not exist."},
    )
    assert (unknown.status_code, unknown.json()) == (
        404,
        {"detail": "Channel 'nowhere' does not exist."},
    )
    assert not PackageFile.objects.exists()


@pytest.fixture
def dave_channel(db: None) -> Channel:
    from tests.factories import make_user

    return make_channel("daves", owner=make_user("dave"))


def test_41_the_token_cannot_force_delete_or_reindex(
    token: str,
    channel: Any,
    alice_key: str,
    noarch_pkg: Path,
    linux_pkg: Path,
    committed: Any,
) -> None:
    with committed():
        assert upload(Client(), "demo", noarch_pkg, alice_key).status_code == 200
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    client = Client()

    forced = upload(client, "demo", noarch_pkg, token, force=True)
    deleted = client.delete(f"/api/v1/delete/demo/noarch/{noarch_pkg.name}", **bearer)
    reindexed = client.post("/api/v1/reindex/demo/noarch", **bearer)

    assert forced.status_code == 403
    assert deleted.status_code == 403
    assert reindexed.status_code == 403
    assert PackageFile.objects.filter(channel=channel).count() == 1
    assert "new files" in forced.json()["detail"]


def test_41_the_token_reaches_no_page_or_settings_form(
    token: str, channel: Any, private_channel: Any
) -> None:
    """Web pages only know sessions: the token makes the caller nobody."""
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    client = Client()
    before = (
        Channel.objects.get(name="demo").description,
        TrustedPublisher.objects.count(),
        ApiKey.objects.count(),
        Membership.objects.count(),
    )

    answers = [
        client.post("/channels/demo/settings", {"description": "pwned"}, **bearer),
        client.post(
            "/channels/demo/settings/trusted-publishers/add/github",
            {
                "github-owner": "evil",
                "github-repository": "x",
                "github-workflow": "a.yml",
            },
            **bearer,
        ),
        client.post(
            "/channels/demo/settings/members/add",
            {"username": "charlie", "role": "owner"},
            **bearer,
        ),
        client.post("/settings/api-keys/", {"name": "k"}, **bearer),
        client.get("/channels/demo/settings/members", **bearer),
    ]

    for answer in answers:
        assert answer.status_code in (302, 401, 403, 404)
        if answer.status_code == 302:
            assert "/accounts/login/" in answer["Location"]
    after = (
        Channel.objects.get(name="demo").description,
        TrustedPublisher.objects.count(),
        ApiKey.objects.count(),
        Membership.objects.count(),
    )
    assert after == before


def test_41_the_token_never_reads_a_private_channel_even_its_own(
    oidc: Oidc, private_channel: Any
) -> None:
    token = minted_for(oidc, private_channel)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    response = Client().get("/secret/noarch/repodata.json", **bearer)

    assert response.status_code == 403


# --- 42-44: lifetime, revocation, where it is accepted ------------------------------------


def test_42_the_token_expires_15_minutes_after_minting(
    token: str, noarch_pkg: Path
) -> None:
    with time_machine.travel(time.time() + 15 * 60 + 1, tick=False):
        response = upload(Client(), "demo", noarch_pkg, token)

    assert_unauthenticated(response)
    assert not PackageFile.objects.exists()


def test_43_removing_the_publisher_revokes_the_token_at_once(
    token: str, alice: Any, noarch_pkg: Path
) -> None:
    from accounts.credentials import Credential
    from publishing.publishers import remove_publisher

    remove_publisher(TrustedPublisher.objects.get(), actor=Credential.for_user(alice))

    assert_unauthenticated(upload(Client(), "demo", noarch_pkg, token))


def test_43_deleting_the_channel_revokes_the_token(
    token: str, channel: Any, alice: Any, noarch_pkg: Path
) -> None:
    from channels.services import delete_channel

    delete_channel(channel, actor=alice)

    assert_unauthenticated(upload(Client(), "demo", noarch_pkg, token))


def test_a_publisher_moved_nowhere_keeps_no_scope_on_other_channels(
    oidc: Oidc, channel: Any, dave_channel: Any, noarch_pkg: Path
) -> None:
    token = minted_for(oidc, channel)
    TrustedPublisher.objects.update(channel=dave_channel)  # an admin edit

    assert_unauthenticated(upload(Client(), "demo", noarch_pkg, token))


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"), id="checksum"),
        pytest.param(lambda t: t + "x", id="too-long"),
        pytest.param(lambda t: "phub-tp-" + "a" * 38, id="random"),
    ],
)
def test_malformed_tokens_are_401(token: str, noarch_pkg: Path, mangle: Any) -> None:
    assert_unauthenticated(upload(Client(), "demo", noarch_pkg, mangle(token)))


def test_44_the_token_is_no_path_credential(token: str, channel: Any) -> None:
    response = Client().get(f"/t/{token}/demo/noarch/repodata.json")

    assert_unauthenticated(response)


def test_44_the_token_is_no_oidc_token(oidc: Oidc, token: str) -> None:
    response = oidc.mint(token)

    assert response.status_code == 400
    assert TrustedPublishingToken.objects.count() == 1


def test_45_cookies_and_authorization_are_ignored_by_the_mint_endpoint(
    oidc: Oidc, channel: Any, alice: Any, alice_key: str
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)

    no_jwt = client.post(
        "/api/oidc/mint_token",
        "{}",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {alice_key}",
    )
    cross_site_form = client.post(
        "/api/oidc/mint_token",
        {"token": "x"},
        HTTP_ORIGIN="https://evil.example",
    )

    assert no_jwt.status_code == 400
    assert cross_site_form.status_code == 400
    assert not TrustedPublishingToken.objects.exists()


# --- 36-37: replay and transactions -------------------------------------------------------


def test_36_a_failure_after_the_replay_row_rolls_everything_back(
    oidc: Oidc, channel: Any
) -> None:
    github_publisher(channel)
    jwt = oidc.github.sign(github_claims())

    def fail_token_insert(execute: Any, sql: str, *args: Any) -> Any:
        if sql.startswith('INSERT INTO "publishing_trustedpublishingtoken"'):
            raise connection.features.connection.Database.OperationalError("injected")
        return execute(sql, *args)

    with connection.execute_wrapper(fail_token_insert):
        failed = oidc.mint(jwt)
    retried = oidc.mint(jwt)

    assert (failed.status_code, failed.json()["errors"][0]["code"]) == (
        401,
        "invalid-token",
    )
    assert retried.status_code == 200
    assert UsedIdToken.objects.count() == 1


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite serialises writers; CI runs this on PostgreSQL (DATABASE_URL)",
)
@pytest.mark.django_db(transaction=True)
def test_37_the_same_jwt_exchanged_concurrently_mints_once(
    oidc_server: Any, settings: Any, django_db_blocker: Any
) -> None:
    from django.core.cache import cache

    from tests.factories import make_user

    oidc_server.reset()
    cache.clear()
    settings.OIDC_ISSUERS = oidc_server.settings_for()
    settings.OIDC_AUDIENCE = "conda.example.org"
    settings.OIDC_MINT_RATE_LIMIT = "1000/m"
    owner = make_user("alice")
    github_publisher(make_channel("demo", owner=owner))
    jwt = oidc_server.issuers["github"].sign(github_claims())
    barrier = threading.Barrier(4)
    answers: list[tuple[int, str]] = []

    def exchange() -> None:
        try:
            barrier.wait()
            response = Client().post(
                "/api/oidc/mint_token", {"token": jwt}, content_type="application/json"
            )
            code = (
                ""
                if response.status_code == 200
                else response.json()["errors"][0]["code"]
            )
            answers.append((response.status_code, code))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=exchange) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert sorted(answers) == [
        (200, ""),
        (401, "invalid-reuse-token"),
        (401, "invalid-reuse-token"),
        (401, "invalid-reuse-token"),
    ]
    assert TrustedPublishingToken.objects.count() == 1
