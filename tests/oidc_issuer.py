"""A local OIDC issuer for trusted-publishing tests (docs/trusted-publishing.md §5).

Real RSA keys, real RS256 signatures, served over real HTTP on loopback: discovery
documents, key sets, and GitHub Actions' ID-token request endpoint. The tokens
carry the real issuer strings, so the production claim checks run unchanged; the
server under test only learns the loopback URLs through its settings.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from joserfc import jwt
from joserfc.jwk import RSAKey

ISSUERS = {
    "github": "https://token.actions.githubusercontent.com",
    "gitlab": "https://gitlab.com",
    "google": "https://accounts.google.com",
}
GOOGLE_EMAIL = "ci@proj.iam.gserviceaccount.com"
GOOGLE_SUB = "117700000000000000001"


def _audience() -> str:
    from django.conf import settings

    return str(settings.OIDC_AUDIENCE)


def _apply(claims: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    for name, value in over.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return claims


def github_claims(**over: Any) -> dict[str, Any]:
    """GitHub's example token (github/docs oidc.md), for octo-org/pkg's release.yml."""
    now = int(time.time())
    repository = over.get("repository") or "octo-org/pkg"
    ref = "refs/heads/main"
    workflow_ref = f"{repository}/.github/workflows/release.yml@{ref}"
    claims = {
        "jti": uuid.uuid4().hex,
        "sub": f"repo:{repository}:environment:production",
        "environment": "production",
        "aud": _audience(),
        "ref": ref,
        "sha": "e4ac6a8c1e6d3b8f0c5b3bd9c4d3e0a4f1a2b3c4",
        "repository": repository,
        "repository_owner": repository.split("/")[0],
        "repository_owner_id": "65",
        "repository_id": "74",
        "repository_visibility": "private",
        "actor": "octocat",
        "actor_id": "12",
        "run_id": "1234567890",
        "run_number": "10",
        "run_attempt": "1",
        "runner_environment": "github-hosted",
        "workflow": "Release",
        "head_ref": "",
        "base_ref": "",
        "event_name": "push",
        "ref_type": "branch",
        "ref_protected": "true",
        "job_workflow_ref": workflow_ref,
        "workflow_ref": workflow_ref,
        "iss": ISSUERS["github"],
        "nbf": now - 5,
        "iat": now,
        "exp": now + 300,
    }
    return _apply(claims, over)


def gitlab_claims(**over: Any) -> dict[str, Any]:
    """GitLab's example ID token, for group/sub/proj's .gitlab-ci.yml."""
    now = int(time.time())
    claims = {
        "jti": uuid.uuid4().hex,
        "iss": ISSUERS["gitlab"],
        "aud": _audience(),
        "sub": "project_path:group/sub/proj:ref_type:branch:ref:main",
        "namespace_id": "72",
        "namespace_path": "group/sub",
        "project_id": "20",
        "project_path": "group/sub/proj",
        "user_id": "1",
        "user_login": "sample-user",
        "user_email": "sample-user@example.com",
        "pipeline_id": "574",
        "pipeline_source": "push",
        "job_id": "302",
        "ref": "main",
        "ref_type": "branch",
        "ref_path": "refs/heads/main",
        "ref_protected": "true",
        "environment": "release",
        "environment_protected": "true",
        "runner_id": 1,
        "runner_environment": "gitlab-hosted",
        "sha": "714a629c0b401fdce83e847fc9589983fc6f46bc",
        "project_visibility": "public",
        "ci_config_ref_uri": "gitlab.com/group/sub/proj//.gitlab-ci.yml@refs/heads/main",
        "ci_config_sha": "714a629c0b401fdce83e847fc9589983fc6f46bc",
        "iat": now,
        "nbf": now - 5,
        "exp": now + 3600,
    }
    return _apply(claims, over)


def google_claims(**over: Any) -> dict[str, Any]:
    """A Google service-account ID token (metadata server, format=full)."""
    now = int(time.time())
    claims = {
        "aud": _audience(),
        "azp": "117700000000000000001",
        "email": GOOGLE_EMAIL,
        "email_verified": True,
        "iss": ISSUERS["google"],
        "sub": GOOGLE_SUB,
        "iat": now,
        "exp": now + 3600,
    }
    return _apply(claims, over)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def compact(header: dict[str, Any], claims: dict[str, Any], signature: bytes) -> str:
    """A JWT built by hand, for tokens no honest library would sign."""
    return ".".join(
        [
            b64(json.dumps(header).encode()),
            b64(json.dumps(claims).encode()),
            b64(signature),
        ]
    )


def hs256(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    head = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    signature = hmac.new(secret, head.encode(), hashlib.sha256).digest()
    return head + "." + b64(signature)


@dataclass
class FakeIssuer:
    provider: str
    iss: str
    current: RSAKey
    rotated: RSAKey
    published: list[RSAKey] = field(default_factory=list)

    def jwks(self) -> dict[str, Any]:
        """The public key set, as the provider's JWKS endpoint serves it."""
        return {
            "keys": [
                {**k.as_dict(private=False), "use": "sig", "alg": "RS256"}
                for k in self.published
            ]
        }

    def sign(
        self,
        claims: dict[str, Any],
        *,
        key: RSAKey | None = None,
        header: dict[str, Any] | None = None,
    ) -> str:
        key = key or self.current
        head = {"alg": "RS256", "typ": "JWT", "kid": key.kid}
        for name, value in (header or {}).items():
            if value is None:
                head.pop(name, None)
            else:
                head[name] = value
        return jwt.encode(head, claims, key, algorithms=["RS256"])


def make_keys() -> dict[str, Any]:
    """Two keys per issuer (current, rotated) and one attacker key.

    Key ids are unique per run: a live server's key cache (Redis) may outlive a run.
    """
    run = uuid.uuid4().hex[:8]
    keys: dict[str, Any] = {}
    for provider in ISSUERS:
        keys[provider] = [
            RSAKey.generate_key(2048, parameters={"kid": f"{provider}-{n}-{run}"})
            for n in ("current", "rotated")
        ]
    keys["attacker"] = RSAKey.generate_key(2048, parameters={"kid": "attacker"})
    return keys


def make_issuers(keys: dict[str, Any]) -> dict[str, FakeIssuer]:
    issuers = {}
    for provider, iss in ISSUERS.items():
        current, rotated = keys[provider]
        issuers[provider] = FakeIssuer(
            provider, iss, current, rotated, published=[current, rotated]
        )
    return issuers


class IssuerServer:
    """The issuers on ``http://127.0.0.1:<port>/<provider>/…`` plus ``/token``.

    ``responses`` overrides a path with (status, body bytes); ``requests`` records
    every request (path, query, Authorization header).
    """

    def __init__(self, issuers: dict[str, FakeIssuer]) -> None:
        self.issuers = issuers
        self.responses: dict[str, tuple[int, bytes]] = {}
        self.requests: list[dict[str, str]] = []
        self.request_token = uuid.uuid4().hex
        # Extra claims of the tokens /token hands out (a simulated workflow run).
        self.github_token_claims: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> IssuerServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def reset(self) -> None:
        with self._lock:
            self.responses.clear()
            self.requests.clear()
            self.github_token_claims = {}
        for issuer in self.issuers.values():
            issuer.published = [issuer.current, issuer.rotated]

    def count(self, path: str) -> int:
        return sum(1 for r in self.requests if r["path"] == path)

    def settings_for(self) -> dict[str, dict[str, Any]]:
        """OIDC_ISSUERS pointing at this server: GitHub by JWKS URL, the others by
        discovery, as an operator would set OIDC_<P>_JWKS_URL / _DISCOVERY_URL."""
        result = {}
        for provider, iss in ISSUERS.items():
            result[provider] = {
                "issuer": iss,
                "enabled": True,
                "discovery_url": f"{self.base}/{provider}/.well-known/openid-configuration",
                "jwks_url": f"{self.base}/{provider}/jwks"
                if provider == "github"
                else "",
                "jwks_host": "127.0.0.1",
                "overridden": True,
            }
        return copy.deepcopy(result)

    def env(self) -> dict[str, str]:
        """The same, as the environment of a live server process."""
        return {
            "OIDC_GITHUB_JWKS_URL": f"{self.base}/github/jwks",
            "OIDC_GITLAB_DISCOVERY_URL": f"{self.base}/gitlab/.well-known/openid-configuration",
            "OIDC_GOOGLE_DISCOVERY_URL": f"{self.base}/google/.well-known/openid-configuration",
        }

    def _answer(
        self, path: str, query: dict[str, list[str]], auth: str
    ) -> tuple[int, bytes]:
        if path in self.responses:
            return self.responses[path]
        if path == "/token":
            return self._github_token(query, auth)
        provider, _, rest = path.strip("/").partition("/")
        issuer = self.issuers.get(provider)
        if issuer is None:
            return 404, b"{}"
        if rest == ".well-known/openid-configuration":
            document = {
                "issuer": issuer.iss,
                "jwks_uri": f"{self.base}/{provider}/jwks",
            }
            return 200, json.dumps(document).encode()
        if rest == "jwks":
            return 200, json.dumps(issuer.jwks()).encode()
        return 404, b"{}"

    def _github_token(
        self, query: dict[str, list[str]], auth: str
    ) -> tuple[int, bytes]:
        if auth != f"Bearer {self.request_token}":
            return 401, b'{"message": "bad request token"}'
        audience = (query.get("audience") or [""])[0]
        claims = github_claims(aud=audience, **self.github_token_claims)
        return 200, json.dumps({"value": self.issuers["github"].sign(claims)}).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                auth = self.headers.get("Authorization", "")
                with server._lock:
                    server.requests.append(
                        {"path": parts.path, "query": parts.query, "auth": auth}
                    )
                status, body = server._answer(parts.path, parse_qs(parts.query), auth)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler
