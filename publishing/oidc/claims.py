"""Claim checks, pure: claims and publisher fields in, a failure or None out.

docs/trusted-publishing.md §3 step 5 (registered claims) and §3.2 (per provider).
Each provider check returns the first rule that fails, as a ``Failure`` whose
``step`` orders the rules, so the caller can name the closest candidate's problem.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeGuard

LEEWAY = 30  # seconds, for exp, iat and nbf


class PublisherFields(Protocol):
    owner: str
    repository: str
    workflow_filename: str
    environment: str
    owner_id: str | None
    email: str
    sub: str


@dataclass(frozen=True)
class Failure:
    step: int
    reason: str


def _str(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    return value if isinstance(value, str) else None


def _number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def registered_claims_problem(
    claims: Mapping[str, Any], *, audiences: Collection[str], now: float
) -> str | None:
    """What is wrong with ``aud``, ``exp``, ``iat`` or ``nbf`` (for the log), if any.

    >>> registered_claims_problem({"aud": ["a"]}, audiences={"a"}, now=0)
    'aud is not a single string'
    """
    aud = claims.get("aud")
    if not isinstance(aud, str):
        return "aud is not a single string"
    if aud not in audiences:
        return f"aud {aud!r} is not this server's audience"
    exp, iat, nbf = claims.get("exp"), claims.get("iat"), claims.get("nbf")
    if not _number(exp):
        return "exp missing or not a number"
    if now >= exp + LEEWAY:
        return "expired"
    if not _number(iat):
        return "iat missing or not a number"
    if iat > now + LEEWAY:
        return "iat in the future"
    if nbf is not None and (not _number(nbf) or nbf > now + LEEWAY):
        return "not yet valid (nbf)"
    return None


def _pinned_id(claim: str | None, stored: str | None, name: str) -> str | None:
    if claim is None or not claim.isdigit():
        return f"the token's {name} claim is missing or not a number"
    if stored is not None and claim != stored:
        return (
            f"{name} {claim} differs from the pinned {stored}: the account was "
            "re-created, so remove and re-add the trusted publisher if this is right"
        )
    return None


def _ref_uri_matches(uri: str, head: str, tail_options: list[str]) -> bool:
    """``uri`` is ``head`` (case-insensitive) followed by one of the tails (exact)."""
    return uri[: len(head)].lower() == head.lower() and uri[len(head) :] in tail_options


def check_github(claims: Mapping[str, Any], p: PublisherFields) -> Failure | None:
    """GitHub Actions rules of §3.2, in order."""
    expected = f"{p.owner}/{p.repository}"
    repository = _str(claims, "repository")
    if not repository or repository.lower() != expected.lower():
        return Failure(1, f"repository {repository!r} is not {expected!r}")
    owner = _str(claims, "repository_owner")
    if owner is None or owner.lower() != p.owner.lower():
        return Failure(2, f"repository_owner {owner!r} is not {p.owner!r}")
    problem = _pinned_id(
        _str(claims, "repository_owner_id"), p.owner_id, "repository_owner_id"
    )
    if problem:
        return Failure(3, problem)
    ref, sha = _str(claims, "ref"), _str(claims, "sha")
    if ref is None or sha is None or not (ref or sha):
        return Failure(4, "the token names neither a ref nor a sha")
    workflow_ref = _str(claims, "workflow_ref") or ""
    tails = [f"/.github/workflows/{p.workflow_filename}@{v}" for v in (ref, sha) if v]
    if not _ref_uri_matches(workflow_ref, repository, tails):
        return Failure(
            5,
            f"workflow_ref {workflow_ref!r} is not the workflow "
            f"{p.workflow_filename!r} of {expected}",
        )
    event = _str(claims, "event_name")
    if event is None:
        return Failure(6, "the token has no event_name")
    if event == "pull_request_target":
        return Failure(
            6,
            "pull_request_target runs may not publish: they run with the base "
            "repository's rights on code from a pull request",
        )
    environment = _str(claims, "environment")
    if p.environment and (environment or "").lower() != p.environment.lower():
        return Failure(7, f"environment {environment!r} is not {p.environment!r}")
    if not _str(claims, "jti"):
        return Failure(8, "the token has no jti")
    return None


def check_gitlab(claims: Mapping[str, Any], p: PublisherFields) -> Failure | None:
    """GitLab CI/CD rules of §3.2, in order."""
    expected = f"{p.owner}/{p.repository}"
    project_path = _str(claims, "project_path")
    if not project_path or project_path.lower() != expected.lower():
        return Failure(1, f"project_path {project_path!r} is not {expected!r}")
    problem = _pinned_id(_str(claims, "namespace_id"), p.owner_id, "namespace_id")
    if problem:
        return Failure(2, problem)
    ref_path, sha = _str(claims, "ref_path"), _str(claims, "sha")
    if not ref_path or not sha:
        return Failure(3, "the token lacks ref_path or sha")
    uri = _str(claims, "ci_config_ref_uri") or ""
    tails = [f"//{p.workflow_filename}@{v}" for v in (ref_path, sha)]
    if not _ref_uri_matches(uri, f"gitlab.com/{expected}", tails):
        return Failure(
            4,
            f"ci_config_ref_uri {uri!r} is not the pipeline file "
            f"{p.workflow_filename!r} of gitlab.com/{expected}",
        )
    fields = (_str(claims, "sub") or "").split(":")
    if (
        len(fields) < 2
        or fields[0] != "project_path"
        or fields[1].lower() != (expected.lower())
    ):
        return Failure(5, f"sub does not start with project_path:{expected}")
    environment = _str(claims, "environment")
    if p.environment and environment != p.environment:
        return Failure(
            6,
            f"environment {environment!r} is not {p.environment!r} "
            "(GitLab environments are matched case-sensitively)",
        )
    if not _str(claims, "jti"):
        return Failure(7, "the token has no jti")
    return None


def check_google(claims: Mapping[str, Any], p: PublisherFields) -> Failure | None:
    """Google Cloud service-account rules of §3.2, in order."""
    email = _str(claims, "email")
    if email is None or email.lower() != p.email.lower():
        return Failure(1, f"email {email!r} is not {p.email!r}")
    if claims.get("email_verified") is not True:
        return Failure(2, "email_verified is not true")
    sub = _str(claims, "sub")
    if sub != p.sub:
        return Failure(
            3,
            f"sub {sub!r} is not the service account's unique ID {p.sub!r} "
            "(was the account re-created?)",
        )
    return None


CHECKS = {"github": check_github, "gitlab": check_gitlab, "google": check_google}


def identity(provider: str, claims: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The lookup key for candidate publishers: owner and name, or the email.

    >>> identity("gitlab", {"project_path": "Group/Sub/Proj"})
    ('group/sub', 'proj')
    """
    if provider == "google":
        email = _str(claims, "email")
        return (email.lower(),) if email else None
    name = _str(claims, "repository" if provider == "github" else "project_path")
    if not name or "/" not in name:
        return None
    owner, _, project = name.lower().rpartition("/")
    return owner, project


def captured_id(provider: str, claims: Mapping[str, Any]) -> str | None:
    """The numeric owner or namespace id a publisher pins (None for Google)."""
    name = {"github": "repository_owner_id", "gitlab": "namespace_id"}.get(provider)
    return _str(claims, name) if name else None


def replay_key(provider: str, claims: Mapping[str, Any], token_sha256: str) -> str:
    """The ``jti``, or for Google (which has none) the SHA-256 of the raw JWT."""
    return token_sha256 if provider == "google" else str(claims.get("jti"))


_AUDIT = {
    "github": ("repository", "repository_owner_id", "workflow_ref", "job_workflow_ref",
               "ref", "sha", "event_name", "environment", "run_id", "run_attempt",
               "actor", "runner_environment", "ref_protected"),
    "gitlab": ("project_path", "namespace_id", "ci_config_ref_uri", "ref_path", "sha",
               "environment", "project_id", "pipeline_id", "pipeline_source",
               "job_id", "user_login", "ref_protected", "runner_environment"),
    "google": ("email", "sub", "azp", "google"),
}  # fmt: skip


def audit_claims(provider: str, claims: Mapping[str, Any]) -> dict[str, Any]:
    """The claims kept for the audit trail (§3.2 "audit only" and the identity)."""
    return {name: claims[name] for name in _AUDIT[provider] if name in claims}


def workflow_display(provider: str, claims: Mapping[str, Any]) -> dict[str, str]:
    """Repository, workflow, ref and run link, as package pages show them."""
    if provider == "github":
        repository = _str(claims, "repository") or ""
        path = (_str(claims, "workflow_ref") or "").partition("@")[0]
        run_id = _str(claims, "run_id") or ""
        run_url = (
            f"https://github.com/{repository}/actions/runs/{run_id}"
            if run_id.isdigit()
            else ""
        )
        return {
            "repository": repository,
            "workflow": path.rpartition("/")[2],
            "ref": _str(claims, "ref") or _str(claims, "sha") or "",
            "run_url": run_url,
        }
    if provider == "gitlab":
        project = _str(claims, "project_path") or ""
        uri = _str(claims, "ci_config_ref_uri") or ""
        job_id = _str(claims, "job_id") or ""
        return {
            "repository": project,
            "workflow": uri.partition("//")[2].partition("@")[0],
            "ref": _str(claims, "ref_path") or "",
            "run_url": f"https://gitlab.com/{project}/-/jobs/{job_id}"
            if job_id.isdigit()
            else "",
        }
    return {
        "repository": _str(claims, "email") or "",
        "workflow": "",
        "ref": "",
        "run_url": "",
    }
