"""Truth tables for the pure claim checks (docs/trusted-publishing.md §3 step 5,
§3.2, §5.3): claims and publisher fields in, the failing rule's step or None out."""

from __future__ import annotations

from typing import Any

import pytest

from publishing.models import TrustedPublisher
from publishing.oidc import claims as checks
from tests.oidc_issuer import (
    GOOGLE_EMAIL,
    GOOGLE_SUB,
    github_claims,
    gitlab_claims,
    google_claims,
)

SHA = "e4ac6a8c1e6d3b8f0c5b3bd9c4d3e0a4f1a2b3c4"
WORKFLOWS = "octo-org/pkg/.github/workflows/"


def github(**over: Any) -> TrustedPublisher:
    fields = {
        "owner": "octo-org",
        "repository": "pkg",
        "workflow_filename": "release.yml",
        "environment": "production",
        "owner_id": "65",
        **over,
    }
    return TrustedPublisher(provider="github", **fields)


def gitlab(**over: Any) -> TrustedPublisher:
    fields = {
        "owner": "group/sub",
        "repository": "proj",
        "workflow_filename": ".gitlab-ci.yml",
        "environment": "release",
        **over,
    }
    return TrustedPublisher(provider="gitlab", **fields)


def step(failure: checks.Failure | None) -> int | None:
    return None if failure is None else failure.step


@pytest.mark.parametrize(
    ("claims", "publisher", "expected"),
    [
        pytest.param({}, {}, None, id="exact"),
        pytest.param({"workflow_ref": f"{WORKFLOWS}release.yml@{SHA}"}, {}, None,
                     id="workflow-ref-at-sha"),
        pytest.param({"repository": "Octo-Org/PKG", "repository_owner": "OCTO-ORG"},
                     {}, None, id="names-in-any-case"),
        pytest.param({"environment": "PRODUCTION"}, {}, None, id="environment-any-case"),
        pytest.param({"environment": "staging"}, {"environment": ""}, None,
                     id="unpinned-environment"),
        pytest.param({"environment": None}, {"environment": ""}, None,
                     id="unpinned-environment-absent"),
        pytest.param({"repository_owner_id": "66"}, {"owner_id": None}, None,
                     id="owner-id-not-pinned-yet"),
        pytest.param({"ref": "", "workflow_ref": f"{WORKFLOWS}release.yml@{SHA}"},
                     {}, None, id="empty-ref-with-sha"),
        pytest.param({"repository": None}, {}, 1, id="repository-missing"),
        pytest.param({"repository_owner": "evil"}, {}, 2, id="owner-differs"),
        pytest.param({"repository_owner_id": "66"}, {}, 3, id="owner-id-differs"),
        pytest.param({"repository_owner_id": 65}, {}, 3, id="owner-id-a-number"),
        pytest.param({"repository_owner_id": "٦٥"}, {"owner_id": None}, 3,
                     id="owner-id-non-ascii-digits"),
        pytest.param({"ref": None}, {}, 4, id="ref-missing"),
        pytest.param({"ref": "", "sha": ""}, {}, 4, id="ref-and-sha-empty"),
        pytest.param({"workflow_ref": f"{WORKFLOWS}Release.yml@refs/heads/main"}, {},
                     5, id="workflow-file-case-differs"),
        pytest.param({"workflow_ref": f"{WORKFLOWS}release.yml@refs/heads/other"}, {},
                     5, id="workflow-ref-of-another-ref"),
        pytest.param({"workflow_ref": f"{WORKFLOWS}release.yml"}, {}, 5,
                     id="workflow-ref-without-ref"),
        pytest.param({"workflow_ref": None}, {}, 5, id="workflow-ref-missing"),
        pytest.param({"event_name": "pull_request_target"}, {}, 6, id="pr-target"),
        pytest.param({"environment": "staging"}, {}, 7, id="environment-differs"),
        pytest.param({"jti": ""}, {}, 8, id="jti-empty"),
    ],
)  # fmt: skip
def test_github_rules(
    claims: dict[str, Any], publisher: dict[str, Any], expected: int | None
) -> None:
    assert step(checks.check_github(github_claims(**claims), github(**publisher))) == (
        expected
    )


def test_a_repository_claim_that_is_no_string_fails_the_first_rule() -> None:
    claims = {**github_claims(), "repository": ["octo-org/pkg"]}

    assert step(checks.check_github(claims, github())) == 1


GITLAB_FILE = "gitlab.com/group/sub/proj//.gitlab-ci.yml"


@pytest.mark.parametrize(
    ("claims", "publisher", "expected"),
    [
        pytest.param({}, {}, None, id="exact"),
        pytest.param({"ci_config_ref_uri": f"{GITLAB_FILE}@{'714a629c0b401fdce83e847fc9589983fc6f46bc'}"},
                     {}, None, id="config-at-sha"),
        pytest.param({"project_path": "Group/Sub/Proj",
                      "ci_config_ref_uri": "gitlab.com/Group/Sub/PROJ//.gitlab-ci.yml@refs/heads/main",
                      "sub": "project_path:GROUP/sub/proj:ref_type:branch"},
                     {}, None, id="names-in-any-case"),
        pytest.param({"sub": "project_path:group/sub/proj:custom:fields"}, {}, None,
                     id="customised-sub"),
        pytest.param({"namespace_id": "72"}, {"owner_id": "72"}, None, id="pinned-id"),
        pytest.param({"environment": None}, {"environment": ""}, None,
                     id="unpinned-environment"),
        pytest.param({"project_path": "group/proj"}, {}, 1, id="other-project"),
        pytest.param({"namespace_id": "73"}, {"owner_id": "72"}, 2,
                     id="recreated-namespace"),
        pytest.param({"namespace_id": "x72"}, {}, 2, id="namespace-id-not-digits"),
        pytest.param({"ref_path": ""}, {}, 3, id="ref-path-empty"),
        pytest.param({"sha": None}, {}, 3, id="sha-missing"),
        pytest.param({"ci_config_ref_uri": "gitlab.example.com/group/sub/proj//.gitlab-ci.yml@refs/heads/main"},
                     {}, 4, id="another-host"),
        pytest.param({"ci_config_ref_uri": f"{GITLAB_FILE.replace('.gitlab-ci', '.GitLab-ci')}@refs/heads/main"},
                     {}, 4, id="pipeline-file-case-differs"),
        pytest.param({"ci_config_ref_uri": "gitlab.com/group/sub/proj//other.yml@refs/heads/main"},
                     {}, 4, id="other-pipeline-file"),
        pytest.param({"sub": "project_path:group/sub/other:ref_type:branch"}, {}, 5,
                     id="sub-of-another-project"),
        pytest.param({"sub": "repo:group/sub/proj"}, {}, 5, id="sub-not-project-path"),
        pytest.param({"sub": None}, {}, 5, id="sub-missing"),
        pytest.param({"environment": "Release"}, {}, 6, id="environment-case-differs"),
        pytest.param({"jti": None}, {}, 7, id="jti-missing"),
    ],
)  # fmt: skip
def test_gitlab_rules(
    claims: dict[str, Any], publisher: dict[str, Any], expected: int | None
) -> None:
    assert step(checks.check_gitlab(gitlab_claims(**claims), gitlab(**publisher))) == (
        expected
    )


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        pytest.param({}, None, id="exact"),
        pytest.param({"email": GOOGLE_EMAIL.upper()}, None, id="email-any-case"),
        pytest.param({"email": None}, 1, id="email-missing"),
        pytest.param({"email": "other@proj.iam.gserviceaccount.com"}, 1, id="other"),
        pytest.param({"email_verified": "true"}, 2, id="verified-a-string"),
        pytest.param({"email_verified": None}, 2, id="verified-missing"),
        pytest.param({"sub": "117700000000000000002"}, 3, id="recreated-account"),
        pytest.param({"sub": int(GOOGLE_SUB)}, 3, id="sub-a-number"),
    ],
)
def test_google_rules(claims: dict[str, Any], expected: int | None) -> None:
    publisher = TrustedPublisher(provider="google", email=GOOGLE_EMAIL, sub=GOOGLE_SUB)

    assert step(checks.check_google(google_claims(**claims), publisher)) == expected


NOW = 1_700_000_000


@pytest.mark.parametrize(
    ("claims", "problem"),
    [
        pytest.param({}, None, id="valid"),
        pytest.param({"exp": NOW - 29.5}, None, id="exp-within-leeway"),
        pytest.param({"iat": NOW + 30}, None, id="iat-at-the-leeway"),
        pytest.param({"nbf": NOW + 30}, None, id="nbf-at-the-leeway"),
        pytest.param({"aud": ["conda.example.org"]}, "aud is not a single string",
                     id="aud-array"),
        pytest.param({"aud": "pypi"}, "aud 'pypi' is not this server's audience",
                     id="aud-other"),
        pytest.param({"exp": NOW - 30}, "expired", id="exp-at-the-leeway"),
        pytest.param({"exp": True}, "exp missing or not a number", id="exp-a-boolean"),
        pytest.param({"iat": "1"}, "iat missing or not a number", id="iat-a-string"),
        pytest.param({"iat": NOW + 31}, "iat in the future", id="iat-future"),
        pytest.param({"nbf": "0"}, "not yet valid (nbf)", id="nbf-a-string"),
        pytest.param({"nbf": NOW + 31}, "not yet valid (nbf)", id="nbf-future"),
    ],
)  # fmt: skip
def test_registered_claims(claims: dict[str, Any], problem: str | None) -> None:
    token = {"aud": "conda.example.org", "exp": NOW + 300, "iat": NOW, **claims}

    assert (
        checks.registered_claims_problem(
            token, audiences={"conda.example.org"}, now=NOW
        )
        == problem
    )


@pytest.mark.parametrize(
    ("provider", "claims", "unknown"),
    [
        ("github", github_claims(), []),
        ("github", github_claims(repo_property_team="x", enterprise_id="1"), []),
        ("github", github_claims(namespace_id="1", zeta="z"), ["namespace_id", "zeta"]),
        ("gitlab", gitlab_claims(), []),
        ("gitlab", gitlab_claims(repository="x"), ["repository"]),
        ("gitlab", gitlab_claims(repo_property_team="x"), ["repo_property_team"]),
        ("google", google_claims(), []),
        ("google", google_claims(google={"compute_engine": {}}, hd="x"), ["hd"]),
    ],
)
def test_undocumented_claims(
    provider: str, claims: dict[str, Any], unknown: list[str]
) -> None:
    assert checks.unknown_claims(provider, claims) == unknown
