"""Benchmark: ``POST /api/oidc/mint_token`` with a cached key set.

Times the whole exchange through Django's test client (middleware, view, RS256
verification, claim checks, publisher match, the one transaction that writes the
replay row, the token, its scope and the audit event) against a local issuer on
loopback whose key set is already cached. The reference, measured in the same
run on the same tokens, is the bare RS256 signature check with joserfc: the part
no implementation can skip. Run with
``python -m tests.benchmarks.bench_mint [--repeat 300]``; it creates and drops its
own PostgreSQL database (``BENCH_DB``, default ``prefixhub_bench``).
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from tests.benchmarks import harness


def _setup() -> tuple[Any, Any, Any]:
    from django.conf import settings
    from django.test import Client

    from publishing.models import TrustedPublisher
    from tests.factories import make_channel, make_user
    from tests.oidc_issuer import IssuerServer, make_issuers, make_keys

    server = IssuerServer(make_issuers(make_keys())).start()
    settings.OIDC_ISSUERS = server.settings_for()
    settings.OIDC_MINT_RATE_LIMIT = "1000000/m"
    owner = make_user("bench-owner")
    channel = make_channel("bench", owner=owner)
    TrustedPublisher.objects.create(
        channel=channel, provider="github", owner="octo-org", repository="pkg",
        workflow_filename="release.yml", environment="production", owner_id="65",
    )  # fmt: skip
    # ALLOWED_HOSTS is "localhost" here (harness): the client says so.
    return server, Client(REMOTE_ADDR="198.51.100.1", HTTP_HOST="localhost"), settings


def run(repeat: int) -> list[harness.Result]:
    from django.core.cache import cache
    from joserfc import jwt as jose_jwt

    from tests.oidc_issuer import github_claims

    server, client, settings = _setup()
    github = server.issuers["github"]
    cache.clear()

    def mint(token: str) -> float:
        started = time.perf_counter()
        response = client.post(
            "/api/oidc/mint_token", {"token": token}, content_type="application/json"
        )
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.content
        return elapsed * 1000

    mint(github.sign(github_claims()))  # fetches and caches the key set
    fetches = server.count("/github/jwks")
    tokens = [github.sign(github_claims()) for _ in range(repeat + 20)]
    for token in tokens[:20]:  # warm-up
        mint(token)
    timings = [mint(token) for token in tokens[20:]]
    assert server.count("/github/jwks") == fetches, "the key set was fetched again"

    from publishing.oidc.verify import verify

    verifying = []
    for token in tokens[20:]:
        started = time.perf_counter()
        verify(token)
        verifying.append((time.perf_counter() - started) * 1000)
    key = github.current
    reference = []
    for token in tokens[20:]:
        started = time.perf_counter()
        jose_jwt.decode(token, key, algorithms=["RS256"])
        reference.append((time.perf_counter() - started) * 1000)
    server.stop()

    ours, ref = harness.median(timings), harness.median(reference)
    checked = harness.median(verifying)
    return [
        harness.Result(
            scenario="mint",
            size=str(repeat),
            metric="POST /api/oidc/mint_token, cached JWKS",
            ours=ours,
            ours_p99=harness.p99(timings),
            reference=ref,
            ratio=ours / ref if ref else None,
            note=(
                "reference = bare RS256 verify (joserfc) of the same tokens, median; "
                f"reference p99 {harness.p99(reference):.3f} ms; cache backend "
                f"{settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}"
            ),
        ),
        harness.Result(
            scenario="mint",
            size=str(repeat),
            metric="of which: verify (key from cache, RS256, claims)",
            ours=checked,
            ours_p99=harness.p99(verifying),
            reference=ref,
            ratio=checked / ref if ref else None,
            note="the rest of the endpoint is the match query and the one "
            "transaction (replay row, token, scope, audit event) on PostgreSQL",
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    args = harness.parse_args(__doc__.splitlines()[1], argv)
    repeat = args.repeat if args.repeat != 7 else 300
    harness.BENCH_DB = os.environ.get("BENCH_DB", harness.BENCH_DB)
    with harness.bench_database(keep=args.keep_db):
        harness.log(f"minting {repeat} tokens")
        results = run(repeat)
        return harness.finish(args, harness.header(), results)


if __name__ == "__main__":
    sys.exit(main())
