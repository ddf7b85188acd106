"""The mint endpoint end to end through the test client, against the local issuers.

Every adversarial case of docs/trusted-publishing.md §6 that concerns the exchange
is here with its status and code; the numbers in the ids are the spec's.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from typing import Any

import pytest
import time_machine

from publishing.models import (
    AuditEvent,
    TrustedPublishingToken,
    TrustedPublishingTokenScope,
    UsedIdToken,
)
from tests.oidc_issuer import (
    compact,
    github_claims,
    gitlab_claims,
    google_claims,
    hs256,
)
from tests.publishing.conftest import (
    Oidc,
    github_publisher,
    gitlab_publisher,
    google_publisher,
)

TOKEN_RE = re.compile(r"^phub-tp-[A-Za-z0-9]{38}$")


def error_code(response: Any) -> str:
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["message"] == "Token request failed"
    return str(body["errors"][0]["code"])


def description(response: Any) -> str:
    return str(response.json()["errors"][0]["description"])


def nothing_minted() -> bool:
    return (
        not TrustedPublishingToken.objects.exists()
        and not UsedIdToken.objects.exists()
        and not TrustedPublishingTokenScope.objects.exists()
    )


def assert_refused(response: Any, status: int, code: str) -> None:
    assert (response.status_code, error_code(response)) == (status, code)
    assert nothing_minted()
    failed = AuditEvent.objects.filter(kind=AuditEvent.Kind.MINT_FAILED).last()
    assert failed is not None and failed.data["code"] == code


# --- success --------------------------------------------------------------------------


def test_a_matching_github_token_mints_an_upload_token(
    oidc: Oidc, channel: Any
) -> None:
    publisher = github_publisher(channel)
    jwt = oidc.github.sign(github_claims(environment="Production"))  # case 16

    response = oidc.mint(jwt)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Cache-Control"] == "no-store"
    secret = response.content.decode()
    assert TOKEN_RE.match(secret)  # case 38: no quotes, no newline
    token = TrustedPublishingToken.objects.get()
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in json.dumps(token.claims)
    assert (token.expires_at - token.created_at).total_seconds() == 15 * 60
    assert list(token.scopes.values_list("channel_id", "publisher_id")) == [
        (channel.pk, publisher.pk)
    ]
    assert UsedIdToken.objects.get().key == json.loads(_payload(jwt))["jti"]
    minted = AuditEvent.objects.get(kind=AuditEvent.Kind.TOKEN_MINTED)
    assert minted.data["token_id"] == token.pk
    assert minted.data["publisher_ids"] == [publisher.pk]
    assert minted.data["claims"]["workflow_ref"].endswith("release.yml@refs/heads/main")
    assert minted.ip == "203.0.113.7"
    assert jwt not in json.dumps(minted.data) and secret not in json.dumps(minted.data)
    publisher.refresh_from_db()
    assert publisher.last_used_at is not None


def _payload(jwt: str) -> str:
    import base64

    segment = jwt.split(".")[1]
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)).decode()


def test_the_audience_endpoint_names_the_audience(oidc: Oidc) -> None:
    response = oidc.client.get("/api/oidc/audience")

    assert response.status_code == 200
    assert response.json() == {"audience": "conda.example.org"}
    assert "public" in response["Cache-Control"]


# --- structure, signature, keys (cases 1-11) -------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        pytest.param(b"not json", "application/json", id="1-not-json"),
        pytest.param(b"{}", "application/json", id="1-token-missing"),
        pytest.param(b'{"token": 5}', "application/json", id="1-token-number"),
        pytest.param(b'{"token": ["a.b.c"]}', "application/json", id="1-token-list"),
        pytest.param(b"[]", "application/json", id="1-not-an-object"),
        pytest.param(b'{"token": "a.b.c"}', "text/plain", id="1-wrong-content-type"),
        pytest.param(b'{"token": "aaa.bbb"}', "application/json", id="2-two-segments"),
        pytest.param(b'{"token": "a.b.c.d"}', "application/json", id="2-four-segments"),
        pytest.param(b'{"token": "a$.b.c"}', "application/json", id="2-not-base64url"),
        pytest.param(
            b'{"token": "W10.W10.c2ln"}', "application/json", id="2-payload-not-object"
        ),
        pytest.param(
            json.dumps({"token": "a" * 8193}).encode(),
            "application/json",
            id="2-jwt-over-8k",
        ),
        pytest.param(
            json.dumps({"token": "a.b.c", "pad": "x" * 17000}).encode(),
            "application/json",
            id="2-body-over-16k",
        ),
    ],
)
def test_malformed_requests_are_invalid_payload(
    oidc: Oidc, channel: Any, body: bytes, content_type: str
) -> None:
    github_publisher(channel)

    response = oidc.client.post("/api/oidc/mint_token", body, content_type=content_type)

    assert_refused(response, 400, "invalid-payload")
    assert oidc.server.requests == []  # refused before any key was fetched


def test_other_methods_are_not_allowed(oidc: Oidc) -> None:
    assert oidc.client.get("/api/oidc/mint_token").status_code == 405
    assert oidc.client.put("/api/oidc/mint_token").status_code == 405


def _alg_none(oidc: Oidc) -> str:
    return compact(
        {"alg": "none", "kid": oidc.github.current.kid}, github_claims(), b""
    )


def _hs256_with_public_key(oidc: Oidc) -> str:
    public_pem = oidc.github.current.as_pem(private=False)
    header = {"alg": "HS256", "kid": oidc.github.current.kid}
    return hs256(header, github_claims(), public_pem)


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(_alg_none, id="3-alg-none"),
        pytest.param(_hs256_with_public_key, id="4-hs256-public-key-as-secret"),
        pytest.param(
            lambda o: o.github.sign(github_claims(), header={"kid": None}),
            id="5-no-kid",
        ),
        pytest.param(
            lambda o: compact(
                {"alg": "RS256", "kid": o.github.current.kid, "crit": ["exp"]},
                github_claims(),
                b"signature",
            ),
            id="crit-header",
        ),
        pytest.param(
            lambda o: o.github.sign(github_claims(iss=None)), id="iss-missing"
        ),
        pytest.param(
            lambda o: o.github.sign(github_claims(iss="https://evil.example")),
            id="iss-unknown",
        ),
        pytest.param(
            lambda o: o.google.sign(google_claims(iss="accounts.google.com")),
            id="35-google-iss-without-scheme",
        ),
    ],
)
def test_forged_headers_and_issuers_are_invalid_payload(
    oidc: Oidc, channel: Any, forge: Any
) -> None:
    github_publisher(channel)
    google_publisher(channel)

    assert_refused(oidc.mint(forge(oidc)), 400, "invalid-payload")


def test_a_key_set_with_one_key_still_needs_a_kid(oidc: Oidc, channel: Any) -> None:
    """Backstop: joserfc would fall back to a set's only key; we never ask it to."""
    github_publisher(channel)
    oidc.github.published = [oidc.github.current]

    response = oidc.mint(oidc.github.sign(github_claims(), header={"kid": None}))

    assert_refused(response, 400, "invalid-payload")


def test_an_unknown_kid_refreshes_once_then_the_cooldown_holds(
    oidc: Oidc, channel: Any, oidc_keys: dict[str, Any]
) -> None:
    github_publisher(channel)
    attacker = oidc_keys["attacker"]

    first = oidc.mint(oidc.github.sign(github_claims(), key=attacker))
    second = oidc.mint(
        oidc.github.sign(github_claims(), key=attacker, header={"kid": "other"})
    )

    assert_refused(first, 401, "invalid-token")  # case 6
    assert_refused(second, 401, "invalid-token")
    assert oidc.server.count("/github/jwks") == 1  # the second caused no fetch
    assert description(first) == "The OIDC token is not valid for this server."


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(
            lambda o, k: o.github.sign(
                github_claims(), key=k["attacker"], header={"kid": o.github.current.kid}
            ),
            id="7-attacker-key-with-genuine-kid",
        ),
        pytest.param(
            lambda o, k: o.github.sign(
                github_claims(),
                key=k["attacker"],
                header={
                    "kid": "attacker",
                    "jku": "http://127.0.0.1:9/attacker/jwks",
                    "x5u": "http://127.0.0.1:9/attacker/cert",
                    "jwk": k["attacker"].as_dict(private=False),
                },
            ),
            id="8-jku-x5u-jwk-point-at-attacker-keys",
        ),
        pytest.param(
            lambda o, k: _tamper(o.github.sign(github_claims())),
            id="9-payload-altered-after-signing",
        ),
    ],
)
def test_forged_signatures_are_invalid_token(
    oidc: Oidc, channel: Any, oidc_keys: dict[str, Any], forge: Any
) -> None:
    github_publisher(channel)

    assert_refused(oidc.mint(forge(oidc, oidc_keys)), 401, "invalid-token")
    assert all("attacker" not in r["path"] for r in oidc.server.requests)


def _tamper(jwt: str) -> str:
    from tests.oidc_issuer import b64

    head, _, signature = jwt.split(".")
    claims = json.loads(_payload(jwt))
    claims["repository"] = "octo-org/pkg2"
    return ".".join([head, b64(json.dumps(claims).encode()), signature])


@pytest.mark.parametrize(
    ("status", "body"),
    [
        pytest.param(500, b"{}", id="500"),
        pytest.param(200, b"{}", id="empty-object"),
        pytest.param(200, b'{"keys": []}', id="no-keys"),
        pytest.param(200, b"<html>", id="not-json"),
    ],
)
def test_a_broken_key_endpoint_never_replaces_the_cached_set(
    oidc: Oidc, channel: Any, settings: Any, status: int, body: bytes
) -> None:
    """Case 10: with a cached set it is used; with none the answer is 503."""
    github_publisher(channel)
    assert oidc.mint(oidc.github.sign(github_claims())).status_code == 200
    oidc.server.responses["/github/jwks"] = (status, body)

    # Past the max age and the cooldown: the next use tries a refresh.
    with time_machine.travel(time.time() + 3601, tick=False):
        again = oidc.mint(oidc.github.sign(github_claims()))

    assert again.status_code == 200
    assert oidc.server.count("/github/jwks") == 2


@pytest.mark.parametrize(
    ("status", "body"),
    [(500, b"{}"), (200, b"{}"), (200, b'{"keys": []}'), (200, b"<html>")],
    ids=["500", "empty-object", "no-keys", "not-json"],
)
def test_without_a_cached_set_a_broken_key_endpoint_is_503(
    oidc: Oidc, channel: Any, status: int, body: bytes
) -> None:
    github_publisher(channel)
    oidc.server.responses["/github/jwks"] = (status, body)

    response = oidc.mint(oidc.github.sign(github_claims()))

    assert_refused(response, 503, "keys-unavailable")
    assert int(response["Retry-After"]) > 0


def test_an_unreachable_issuer_is_503(oidc: Oidc, channel: Any, settings: Any) -> None:
    github_publisher(channel)
    settings.OIDC_ISSUERS["github"]["jwks_url"] = "http://127.0.0.1:9/jwks"

    assert_refused(
        oidc.mint(oidc.github.sign(github_claims())), 503, "keys-unavailable"
    )


def test_keys_are_fetched_through_discovery_on_the_allowed_host_only(
    oidc: Oidc, channel: Any
) -> None:
    gitlab_publisher(channel)
    oidc.server.responses["/gitlab/.well-known/openid-configuration"] = (
        200,
        b'{"jwks_uri": "https://evil.example/jwks"}',
    )

    response = oidc.mint(oidc.gitlab.sign(gitlab_claims()))

    assert_refused(response, 503, "keys-unavailable")
    assert oidc.server.count("/gitlab/jwks") == 0


def test_a_withdrawn_key_stops_working_after_the_next_refresh(
    oidc: Oidc, channel: Any, settings: Any
) -> None:
    """Case 11: the issuer rotates; the old key lives at most OIDC_JWKS_MAX_AGE."""
    github_publisher(channel)
    old = oidc.github.rotated
    assert oidc.mint(oidc.github.sign(github_claims(), key=old)).status_code == 200
    oidc.github.published = [oidc.github.current]

    with time_machine.travel(time.time() + 3601, tick=False):
        response = oidc.mint(oidc.github.sign(github_claims(), key=old))

    assert (response.status_code, error_code(response)) == (401, "invalid-token")


# --- registered claims (cases 12-15) ---------------------------------------------------


@pytest.mark.parametrize(
    "over",
    [
        pytest.param({"aud": "prefix.dev"}, id="12-aud-prefix-dev-without-opt-in"),
        pytest.param({"aud": "pypi"}, id="12-aud-pypi"),
        pytest.param({"aud": "https://github.com/octo-org"}, id="12-aud-github-owner"),
        pytest.param({"aud": ["conda.example.org"]}, id="aud-array-with-our-value"),
        pytest.param({"aud": None}, id="aud-missing"),
        pytest.param({"exp": None}, id="14-exp-missing"),
        pytest.param({"exp": "9999999999"}, id="14-exp-string"),
        pytest.param({"exp": -31}, id="14-exp-31s-ago"),
        pytest.param({"iat": None}, id="15-iat-missing"),
        pytest.param({"iat": 300}, id="15-iat-5-minutes-ahead"),
        pytest.param({"nbf": 300}, id="nbf-5-minutes-ahead"),
    ],
)
def test_registered_claim_failures_are_invalid_token(
    oidc: Oidc, channel: Any, over: dict[str, Any]
) -> None:
    github_publisher(channel)
    now = int(time.time())
    relative = {"exp", "iat", "nbf"}
    claims = github_claims(
        **{
            k: (now + v if k in relative and isinstance(v, int) else v)
            for k, v in over.items()
        }
    )

    assert_refused(oidc.mint(oidc.github.sign(claims)), 401, "invalid-token")


def test_an_extra_audience_is_accepted_once_listed(
    oidc: Oidc, channel: Any, settings: Any
) -> None:
    """Case 13."""
    github_publisher(channel)
    settings.OIDC_EXTRA_AUDIENCES = ["prefix.dev"]

    assert (
        oidc.mint(oidc.github.sign(github_claims(aud="prefix.dev"))).status_code == 200
    )


def test_an_exp_10_seconds_ago_is_within_the_leeway(oidc: Oidc, channel: Any) -> None:
    """Case 14, accepted half."""
    github_publisher(channel)
    claims = github_claims(exp=int(time.time()) - 10)

    assert oidc.mint(oidc.github.sign(claims)).status_code == 200
