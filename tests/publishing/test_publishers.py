"""Managing trusted publishers: the settings page, the commands, and who may do it
(docs/trusted-publishing.md §4, §6 46-51)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from typing import Any

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client

from channels.models import Activity
from publishing.models import AuditEvent, TrustedPublisher
from tests.oidc_issuer import github_claims
from tests.publishing.conftest import Oidc, github_publisher

PAGE = "/channels/{}/settings/trusted-publishers"
ADD = PAGE + "/add/{}"

GITHUB_FORM = {
    "github-owner": "octo-org",
    "github-repository": "pkg",
    "github-workflow": "release.yml",
    "github-environment": "Production",
    "github-owner_id": "",
}


def reauthenticated(client: Client, user: Any) -> Client:
    """A session that signed in and re-entered its password just now."""
    client.force_login(user)
    session = client.session
    session["account_authentication_methods_user"] = str(user.pk)
    session["account_authentication_methods"] = [
        {"method": "password", "at": time.time(), "reauthenticated": True}
    ]
    session.save()
    return client


@pytest.fixture
def owner(alice: Any, channel: Any) -> Client:
    alice.set_password("correct horse")
    alice.save()
    return reauthenticated(Client(), alice)


def nothing_changed() -> bool:
    return not TrustedPublisher.objects.exists() and not AuditEvent.objects.exists()


# --- the page ---------------------------------------------------------------------------


def test_the_owner_adds_a_github_publisher(
    owner: Client, channel: Any, committed: Any
) -> None:
    with committed():
        response = owner.post(ADD.format("demo", "github"), GITHUB_FORM)

    assert response.status_code == 302
    publisher = TrustedPublisher.objects.get()
    assert (publisher.owner, publisher.repository, publisher.workflow_filename) == (
        "octo-org",
        "pkg",
        "release.yml",
    )
    assert publisher.environment == "production"  # stored in lower case
    assert publisher.owner_id is None  # GitHub's API is not reachable: TOFU
    added = AuditEvent.objects.get(kind=AuditEvent.Kind.PUBLISHER_ADDED)
    assert added.data["publisher"]["repository"] == "pkg"
    assert Activity.objects.filter(verb=Activity.Verb.PUBLISHER_ADDED).exists()
    assert len(mail.outbox) == 1
    assert "octo-org/pkg" in mail.outbox[0].body


def test_the_page_shows_pinning_last_use_and_a_ready_workflow(
    owner: Client, channel: Any, settings: Any
) -> None:
    github_publisher(channel, owner_id=None, environment="")
    github_publisher(channel, workflow_filename="nightly.yml")

    html = owner.get(PAGE.format("demo")).content.decode()

    assert "not yet verified — it will be recorded on first publish" in html
    assert "65" in html
    assert "never" in html
    assert "id-token: write" in html
    assert f"--url {settings.PUBLIC_URL}" in html
    assert "--channel demo" in html


def test_the_page_shows_a_gitlab_job_with_the_audience_variable(
    owner: Client, channel: Any, oidc: Oidc
) -> None:
    owner.post(
        ADD.format("demo", "gitlab"),
        {"gitlab-namespace": "group/sub", "gitlab-project": "proj"},
    )

    html = owner.get(PAGE.format("demo")).content.decode()

    assert "CONDA_EXAMPLE_ORG_ID_TOKEN:" in html
    assert "aud: conda.example.org" in html
    assert TrustedPublisher.objects.get().workflow_filename == ".gitlab-ci.yml"


def test_the_owner_adds_a_google_publisher(owner: Client, channel: Any) -> None:
    response = owner.post(
        ADD.format("demo", "google"),
        {"google-email": "CI@proj.iam.gserviceaccount.com", "google-sub": "1177"},
    )

    assert response.status_code == 302
    assert TrustedPublisher.objects.get().email == "ci@proj.iam.gserviceaccount.com"


@pytest.mark.parametrize(
    ("provider", "data"),
    [
        ("github", {**GITHUB_FORM, "github-owner": "-bad"}),
        ("github", {**GITHUB_FORM, "github-repository": ".."}),
        ("github", {**GITHUB_FORM, "github-workflow": ".github/workflows/r.yml"}),
        ("github", {**GITHUB_FORM, "github-workflow": "release.sh"}),
        ("github", {**GITHUB_FORM, "github-environment": "prod;rm"}),
        ("github", {**GITHUB_FORM, "github-environment": " prod"}),
        ("github", {**GITHUB_FORM, "github-owner_id": "-3"}),
        ("github", {**GITHUB_FORM, "github-owner": "o" * 40}),
        ("gitlab", {"gitlab-namespace": "a//b", "gitlab-project": "p"}),
        ("gitlab", {"gitlab-namespace": "a", "gitlab-project": "p.git"}),
        (
            "gitlab",
            {
                "gitlab-namespace": "a",
                "gitlab-project": "p",
                "gitlab-pipeline_file": "../x.yml",
            },
        ),
        ("google", {"google-email": "me@gmail.com", "google-sub": "1"}),
        (
            "google",
            {"google-email": "ci@p.iam.gserviceaccount.com", "google-sub": "x1"},
        ),
        (
            "google",
            {"google-email": "ci@p.iam.gserviceaccount.com", "google-sub": "1" * 33},
        ),
    ],
)
def test_invalid_publishers_are_refused_with_a_reason(
    owner: Client, channel: Any, provider: str, data: dict[str, str]
) -> None:
    response = owner.post(ADD.format("demo", provider), data)

    assert response.status_code == 400
    assert b'class="errorlist' in response.content
    assert nothing_changed()


def test_an_unknown_provider_is_404(owner: Client, channel: Any) -> None:
    assert owner.post(ADD.format("demo", "bitbucket"), {}).status_code == 404


def test_the_same_publisher_twice_is_refused(owner: Client, channel: Any) -> None:
    owner.post(ADD.format("demo", "github"), GITHUB_FORM)
    again = owner.post(
        ADD.format("demo", "github"), {**GITHUB_FORM, "github-owner": "OCTO-ORG"}
    )

    assert again.status_code == 400
    assert b"already has exactly this trusted publisher" in again.content
    assert TrustedPublisher.objects.count() == 1


def test_removing_a_publisher_records_it(owner: Client, channel: Any) -> None:
    publisher = github_publisher(channel)

    response = owner.post(PAGE.format("demo") + f"/{publisher.pk}/remove")

    assert response.status_code == 302
    assert not TrustedPublisher.objects.exists()
    removed = AuditEvent.objects.get(kind=AuditEvent.Kind.PUBLISHER_REMOVED)
    assert removed.data["publisher"]["id"] == publisher.pk
    assert Activity.objects.filter(verb=Activity.Verb.PUBLISHER_REMOVED).exists()


def test_a_publisher_of_another_channel_cannot_be_removed_here(
    owner: Client, channel: Any, private_channel: Any
) -> None:
    other = github_publisher(private_channel)

    response = owner.post(PAGE.format("demo") + f"/{other.pk}/remove")

    assert response.status_code == 404
    assert TrustedPublisher.objects.filter(pk=other.pk).exists()


# --- who may (46-49) ----------------------------------------------------------------------


def test_46_adding_without_csrf_or_from_a_foreign_origin_is_403(
    alice: Any, channel: Any
) -> None:
    client = reauthenticated(Client(enforce_csrf_checks=True), alice)
    publisher = github_publisher(channel)

    no_token = client.post(ADD.format("demo", "github"), GITHUB_FORM)
    removal = client.post(PAGE.format("demo") + f"/{publisher.pk}/remove")
    client.get(PAGE.format("demo"))
    csrf = client.cookies["csrftoken"].value
    foreign = client.post(
        ADD.format("demo", "github"),
        {**GITHUB_FORM, "csrfmiddlewaretoken": csrf},
        HTTP_ORIGIN="https://evil.example",
    )

    assert (no_token.status_code, removal.status_code, foreign.status_code) == (
        403,
        403,
        403,
    )
    assert list(TrustedPublisher.objects.values_list("pk", flat=True)) == [publisher.pk]


def test_47_api_keys_and_minted_tokens_cannot_manage_publishers(
    oidc: Oidc, channel: Any, alice_key: str
) -> None:
    publisher = github_publisher(channel)
    token = oidc.mint(oidc.github.sign(github_claims())).content.decode()

    for secret in (alice_key, token):
        bearer = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
        added = Client().post(ADD.format("demo", "github"), GITHUB_FORM, **bearer)
        removed = Client().post(
            PAGE.format("demo") + f"/{publisher.pk}/remove", **bearer
        )
        for response in (added, removed):
            assert response.status_code == 302
            assert response["Location"].startswith("/accounts/login/")
    assert list(TrustedPublisher.objects.values_list("pk", flat=True)) == [publisher.pk]


def test_48_contributors_and_viewers_are_403_strangers_404_on_private(
    channel: Any, private_channel: Any, bob: Any, charlie: Any
) -> None:
    publisher = github_publisher(private_channel)
    bob_client = reauthenticated(Client(), bob)
    charlie_client = reauthenticated(Client(), charlie)

    assert bob_client.post(ADD.format("demo", "github"), GITHUB_FORM).status_code == 403
    assert (
        bob_client.post(ADD.format("secret", "github"), GITHUB_FORM).status_code == 403
    )
    assert (
        bob_client.post(PAGE.format("secret") + f"/{publisher.pk}/remove").status_code
        == 403
    )
    assert (
        charlie_client.post(ADD.format("demo", "github"), GITHUB_FORM).status_code
        == 403
    )
    assert (
        charlie_client.post(ADD.format("secret", "github"), GITHUB_FORM).status_code
        == 404
    )
    assert charlie_client.get(PAGE.format("secret")).status_code == 404
    assert list(TrustedPublisher.objects.values_list("pk", flat=True)) == [publisher.pk]


def test_49_without_recent_reauthentication_the_owner_is_asked_again(
    alice: Any, channel: Any
) -> None:
    alice.set_password("correct horse")
    alice.save()
    client = Client()
    client.force_login(alice)  # signed in, but not re-authenticated
    publisher = github_publisher(channel)

    added = client.post(ADD.format("demo", "github"), GITHUB_FORM)
    removed = client.post(PAGE.format("demo") + f"/{publisher.pk}/remove")

    for response in (added, removed):
        assert response.status_code == 302
        assert "/accounts/reauthenticate/" in response["Location"]
    assert list(TrustedPublisher.objects.values_list("pk", flat=True)) == [publisher.pk]


# --- rate limit and audit (50-51) -----------------------------------------------------------


def test_50_too_many_mint_requests_from_one_address_are_429(
    oidc: Oidc, settings: Any
) -> None:
    settings.OIDC_MINT_RATE_LIMIT = "3/m"

    answers = [oidc.mint("not-a-jwt") for _ in range(4)]

    assert [a.status_code for a in answers] == [400, 400, 400, 429]
    assert answers[-1].json()["errors"][0]["code"] == "rate-limited"
    assert 0 < int(answers[-1]["Retry-After"]) <= 60
    for answer in answers:
        assert b"Traceback" not in answer.content


def test_51_failures_record_their_code_and_mints_their_audit_claims(
    oidc: Oidc, channel: Any
) -> None:
    from tests.oidc_issuer import github_claims

    github_publisher(channel)
    oidc.mint("a.b")
    oidc.mint(oidc.github.sign(github_claims(repository="octo-org/other")))
    assert oidc.mint(oidc.github.sign(github_claims())).status_code == 200

    failures = AuditEvent.objects.filter(kind=AuditEvent.Kind.MINT_FAILED).order_by(
        "id"
    )
    assert [f.data["code"] for f in failures] == [
        "invalid-payload",
        "invalid-publisher",
    ]
    assert failures[0].data["subject"] == ""  # no verified signature, no repository
    assert failures[1].data["subject"] == "octo-org/other"
    assert all(f.ip == "203.0.113.7" for f in failures)
    minted = AuditEvent.objects.get(kind=AuditEvent.Kind.TOKEN_MINTED)
    claims = minted.data["claims"]
    for name in ("repository", "workflow_ref", "sha", "run_id"):
        assert name in claims
    assert minted.data["issuer"] == "https://token.actions.githubusercontent.com"


# --- the GitHub owner lookup (§4.4) ----------------------------------------------------------


class FakeGitHubApi(BaseHTTPRequestHandler):
    users: dict[str, tuple[int, dict[str, Any]]] = {}

    def do_GET(self) -> None:
        status, body = self.users.get(self.path, (500, {}))
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def github_api(settings: Any) -> Iterator[None]:
    FakeGitHubApi.users = {
        "/users/octo-org": (200, {"id": 65, "login": "Octo-Org"}),
        "/users/ghost": (404, {"message": "Not Found"}),
    }
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeGitHubApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.GITHUB_API_URL = f"http://127.0.0.1:{server.server_address[1]}"
    yield
    server.shutdown()
    server.server_close()


def test_a_reachable_github_api_pins_the_owner_id_and_spelling(
    owner: Client, channel: Any, github_api: None
) -> None:
    owner.post(ADD.format("demo", "github"), GITHUB_FORM)

    publisher = TrustedPublisher.objects.get()
    assert (publisher.owner, publisher.owner_id) == ("Octo-Org", "65")


def test_an_owner_github_does_not_know_is_refused(
    owner: Client, channel: Any, github_api: None
) -> None:
    response = owner.post(
        ADD.format("demo", "github"), {**GITHUB_FORM, "github-owner": "ghost"}
    )

    assert response.status_code == 400
    assert b"GitHub has no user or organisation" in response.content
    assert nothing_changed()


def test_a_typed_owner_id_that_github_contradicts_is_refused(
    owner: Client, channel: Any, github_api: None
) -> None:
    response = owner.post(
        ADD.format("demo", "github"), {**GITHUB_FORM, "github-owner_id": "66"}
    )

    assert response.status_code == 400
    assert nothing_changed()


def test_a_failing_github_api_means_trust_on_first_use(
    owner: Client, channel: Any, github_api: None
) -> None:
    owner.post(ADD.format("demo", "github"), {**GITHUB_FORM, "github-owner": "other"})

    assert TrustedPublisher.objects.get().owner_id is None


# --- the commands -------------------------------------------------------------------------


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_the_commands_add_list_and_remove_publishers(channel: Any) -> None:
    added = run(
        "addpublisher", "demo", "github", "--owner", "octo-org", "--repository",
        "pkg", "--workflow", "release.yml", "--environment", "production",
        "--owner-id", "65",
    )  # fmt: skip
    run(
        "addpublisher",
        "demo",
        "gitlab",
        "--namespace",
        "group/sub",
        "--project",
        "proj",
    )
    run(
        "addpublisher", "demo", "google", "--email", "ci@p.iam.gserviceaccount.com",
        "--sub", "1177",
    )  # fmt: skip

    listing = run("listpublishers", "demo")

    github = TrustedPublisher.objects.get(provider="github")
    assert f"Added trusted publisher {github.pk}" in added
    assert "octo-org/pkg\trelease.yml env=production id=65" in listing
    assert "group/sub/proj\t.gitlab-ci.yml id not yet pinned" in listing
    assert "ci@p.iam.gserviceaccount.com\tsub=1177" in listing
    run("removepublisher", "demo", str(github.pk))
    assert TrustedPublisher.objects.count() == 2
    assert (
        AuditEvent.objects.filter(kind=AuditEvent.Kind.PUBLISHER_REMOVED).count() == 1
    )


@pytest.mark.parametrize(
    "args",
    [
        (
            "addpublisher",
            "nowhere",
            "google",
            "--email",
            "a@p.iam.gserviceaccount.com",
            "--sub",
            "1",
        ),
        (
            "addpublisher",
            "demo",
            "github",
            "--owner",
            "-x",
            "--repository",
            "r",
            "--workflow",
            "w.yml",
        ),
        ("removepublisher", "demo", "999"),
        ("listpublishers", "nowhere"),
    ],
)
def test_the_commands_refuse_bad_input_clearly(
    channel: Any, args: tuple[str, ...]
) -> None:
    with pytest.raises(CommandError):
        run(*args)
    assert not TrustedPublisher.objects.exists()
