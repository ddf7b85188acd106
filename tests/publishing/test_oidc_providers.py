"""Provider claim rules at the endpoint (docs/trusted-publishing.md §3.2, §6 16-35).

Refusals name the claim that did not match, and nothing is stored.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import time_machine

from publishing.models import AuditEvent, TrustedPublisher, UsedIdToken
from tests.oidc_issuer import github_claims, gitlab_claims, google_claims
from tests.publishing.conftest import (
    Oidc,
    github_publisher,
    gitlab_publisher,
    google_publisher,
)
from tests.publishing.test_oidc_mint import assert_refused, description


def refused_for(response: Any, claim: str) -> None:
    assert_refused(response, 401, "invalid-publisher")
    assert claim in description(response)


# --- GitHub (cases 16-25) ---------------------------------------------------------------


def test_16_an_exact_github_match_in_any_case_of_environment_mints(
    oidc: Oidc, channel: Any
) -> None:
    github_publisher(channel)

    response = oidc.mint(oidc.github.sign(github_claims(environment="Production")))

    assert response.status_code == 200


WRONG_WORKFLOW = "octo-org/pkg/.github/workflows/other.yml@refs/heads/main"
FOREIGN_WORKFLOW = "evil/x/.github/workflows/release.yml@refs/heads/main"


@pytest.mark.parametrize(
    ("over", "claim"),
    [
        pytest.param(
            {"repository_owner_id": "66"}, "repository_owner_id", id="17-recreated-org"
        ),
        pytest.param(
            {"workflow_ref": WRONG_WORKFLOW},
            "workflow_ref",
            id="19-other-workflow-file",
        ),
        pytest.param(
            {"workflow_ref": FOREIGN_WORKFLOW},
            "workflow_ref",
            id="20-workflow-of-another-repo",
        ),
        pytest.param({"ref": "", "sha": ""}, "ref", id="21-ref-and-sha-empty"),
        pytest.param({"ref": None, "sha": None}, "ref", id="21-ref-and-sha-missing"),
        pytest.param(
            {"event_name": "pull_request_target"},
            "pull_request_target",
            id="22-pull-request-target",
        ),
        pytest.param({"event_name": None}, "event_name", id="event-name-missing"),
        pytest.param({"environment": None}, "environment", id="23-environment-missing"),
        pytest.param(
            {"environment": "staging"}, "environment", id="23-environment-staging"
        ),
        pytest.param({"jti": None}, "jti", id="24-jti-missing"),
        pytest.param(
            {"repository_owner_id": None},
            "repository_owner_id",
            id="24-owner-id-missing",
        ),
        pytest.param(
            {"repository_owner": "evil"}, "repository_owner", id="owner-claim-differs"
        ),
    ],
)
def test_github_mismatches_name_the_claim(
    oidc: Oidc, channel: Any, over: dict[str, Any], claim: str
) -> None:
    github_publisher(channel)

    refused_for(oidc.mint(oidc.github.sign(github_claims(**over))), claim)


@pytest.mark.parametrize("repository", ["octo-org/pkg2", "evil/pkg"])
def test_18_another_repository_finds_no_publisher(
    oidc: Oidc, channel: Any, repository: str
) -> None:
    github_publisher(channel)

    response = oidc.mint(oidc.github.sign(github_claims(repository=repository)))

    refused_for(response, repository)
    assert "demo" not in description(response)  # never names channels
    failed = AuditEvent.objects.get(kind=AuditEvent.Kind.MINT_FAILED)
    assert failed.data["subject"] == repository  # the signature was valid


def test_23_an_unpinned_environment_accepts_any_and_says_so(
    oidc: Oidc, channel: Any
) -> None:
    github_publisher(channel, environment="")

    response = oidc.mint(oidc.github.sign(github_claims(environment="whatever")))

    assert response.status_code == 200
    minted = AuditEvent.objects.get(kind=AuditEvent.Kind.TOKEN_MINTED)
    assert minted.data["environment_unpinned"] is True


def test_25_trust_on_first_use_pins_the_owner_id(oidc: Oidc, channel: Any) -> None:
    publisher = github_publisher(channel, owner_id=None)

    first = oidc.mint(oidc.github.sign(github_claims()))
    later = oidc.mint(oidc.github.sign(github_claims(repository_owner_id="66")))

    assert first.status_code == 200
    publisher.refresh_from_db()
    assert publisher.owner_id == "65"
    captured = AuditEvent.objects.get(kind=AuditEvent.Kind.IDENTITY_CAPTURED)
    assert captured.data["captured_id"] == "65"
    assert (later.status_code, later.json()["errors"][0]["code"]) == (
        401,
        "invalid-publisher",
    )
    assert "65" in description(later)


def test_the_closest_publisher_is_named_when_several_fail(
    oidc: Oidc, channel: Any
) -> None:
    github_publisher(channel, workflow_filename="nightly.yml")
    github_publisher(channel, environment="staging")

    response = oidc.mint(oidc.github.sign(github_claims()))

    # The staging publisher fails later in the rule order (environment) than the
    # nightly one (workflow_ref): its reason is the one that helps.
    refused_for(response, "environment")


def test_one_token_is_scoped_to_every_channel_whose_publisher_matches(
    oidc: Oidc, channel: Any, private_channel: Any
) -> None:
    github_publisher(channel)
    github_publisher(private_channel)

    assert oidc.mint(oidc.github.sign(github_claims())).status_code == 200
    minted = AuditEvent.objects.get(kind=AuditEvent.Kind.TOKEN_MINTED)
    assert sorted(minted.data["channel_ids"]) == sorted(
        [channel.pk, private_channel.pk]
    )


# --- GitLab (cases 26-31) ---------------------------------------------------------------


def test_26_an_exact_gitlab_match_mints_and_pins_the_namespace(
    oidc: Oidc, channel: Any
) -> None:
    publisher = gitlab_publisher(channel)

    assert oidc.mint(oidc.gitlab.sign(gitlab_claims())).status_code == 200
    publisher.refresh_from_db()
    assert publisher.owner_id == "72"


def test_27_a_recreated_namespace_is_refused_naming_the_id(
    oidc: Oidc, channel: Any
) -> None:
    gitlab_publisher(channel, owner_id="72")

    response = oidc.mint(oidc.gitlab.sign(gitlab_claims(namespace_id="99")))

    refused_for(response, "namespace_id 99")


OTHER_FILE = "gitlab.com/group/sub/proj//deploy.yml@refs/heads/main"
OTHER_HOST = "gitlab.example.com/group/sub/proj//.gitlab-ci.yml@refs/heads/main"


@pytest.mark.parametrize(
    ("over", "claim"),
    [
        pytest.param(
            {"ci_config_ref_uri": OTHER_FILE},
            "ci_config_ref_uri",
            id="29-other-pipeline-file",
        ),
        pytest.param(
            {"ci_config_ref_uri": OTHER_HOST}, "ci_config_ref_uri", id="29-other-host"
        ),
        pytest.param(
            {"environment": "Release"}, "environment", id="30-environment-case"
        ),
        pytest.param({"environment": None}, "environment", id="30-environment-missing"),
        pytest.param(
            {"sub": "project_path:group/other:ref_type:branch"},
            "sub",
            id="sub-other-project",
        ),
        pytest.param({"ref_path": ""}, "ref_path", id="ref-path-empty"),
        pytest.param(
            {"namespace_id": "x"}, "namespace_id", id="namespace-id-not-digits"
        ),
        pytest.param({"jti": None}, "jti", id="jti-missing"),
    ],
)
def test_gitlab_mismatches_name_the_claim(
    oidc: Oidc, channel: Any, over: dict[str, Any], claim: str
) -> None:
    gitlab_publisher(channel)

    refused_for(oidc.mint(oidc.gitlab.sign(gitlab_claims(**over))), claim)


@pytest.mark.parametrize("project_path", ["group/sub/proj2", "group/proj"])
def test_28_another_project_finds_no_publisher(
    oidc: Oidc, channel: Any, project_path: str
) -> None:
    gitlab_publisher(channel)
    claims = gitlab_claims(project_path=project_path)

    refused_for(oidc.mint(oidc.gitlab.sign(claims)), project_path)


def test_31_a_gitlab_token_replayed_30_minutes_later_is_refused(
    oidc: Oidc, channel: Any
) -> None:
    gitlab_publisher(channel)
    jwt = oidc.gitlab.sign(gitlab_claims())
    assert oidc.mint(jwt).status_code == 200

    with time_machine.travel(time.time() + 30 * 60, tick=False):
        again = oidc.mint(jwt)

    assert (again.status_code, again.json()["errors"][0]["code"]) == (
        401,
        "invalid-reuse-token",
    )
    assert UsedIdToken.objects.count() == 1


# --- Google (cases 32-35) ---------------------------------------------------------------


def test_32_a_matching_google_token_mints(oidc: Oidc, channel: Any) -> None:
    google_publisher(channel)

    assert oidc.mint(oidc.google.sign(google_claims())).status_code == 200


@pytest.mark.parametrize(
    ("over", "claim"),
    [
        pytest.param(
            {"sub": "117700000000000000002"}, "sub", id="33-recreated-account"
        ),
        pytest.param(
            {"email_verified": "true"}, "email_verified", id="email-verified-string"
        ),
        pytest.param(
            {"email_verified": None}, "email_verified", id="email-verified-missing"
        ),
    ],
)
def test_google_mismatches_name_the_claim(
    oidc: Oidc, channel: Any, over: dict[str, Any], claim: str
) -> None:
    google_publisher(channel)

    refused_for(oidc.mint(oidc.google.sign(google_claims(**over))), claim)


def test_34_the_same_google_token_twice_is_a_replay(oidc: Oidc, channel: Any) -> None:
    google_publisher(channel)
    jwt = oidc.google.sign(google_claims())

    first, second = oidc.mint(jwt), oidc.mint(jwt)

    assert first.status_code == 200
    assert (second.status_code, second.json()["errors"][0]["code"]) == (
        401,
        "invalid-reuse-token",
    )


def test_a_disabled_provider_answers_not_enabled(
    oidc: Oidc, channel: Any, settings: Any
) -> None:
    google_publisher(channel)
    settings.OIDC_ISSUERS["google"]["enabled"] = False

    assert_refused(oidc.mint(oidc.google.sign(google_claims())), 403, "not-enabled")
    assert oidc.server.requests == []


def test_publishers_of_other_providers_are_never_candidates(
    oidc: Oidc, channel: Any
) -> None:
    TrustedPublisher.objects.create(
        channel=channel,
        provider="gitlab",
        owner="octo-org",
        repository="pkg",
        workflow_filename="release.yml",
    )

    refused_for(oidc.mint(oidc.github.sign(github_claims())), "octo-org/pkg")


def test_a_reusable_workflow_is_accepted_by_the_calling_workflow_and_logged(
    oidc: Oidc, channel: Any, caplog: Any
) -> None:
    github_publisher(channel)
    shared = "octo-org/ci/.github/workflows/build.yml@refs/heads/main"

    response = oidc.mint(oidc.github.sign(github_claims(job_workflow_ref=shared)))

    assert response.status_code == 200
    assert f"reusable workflow: {shared}" in caplog.text
