"""The issuers' signing keys, fetched through one function and cached per issuer.

Docs: trusted-publishing.md §3.1. The cache entry (Django cache, shared by every
web process) holds the last good key set and when it was fetched; a failed fetch
never replaces it, and an issuer is fetched at most once per cooldown.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from joserfc.jwk import RSAKey

from .errors import InvalidToken, KeysUnavailable

log = logging.getLogger(__name__)

MAX_RESPONSE_BYTES = 512 * 1024


class FetchError(Exception):
    """The issuer could not be reached or answered something unusable."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect becomes an HTTPError: keys come from one place


_opener = urllib.request.build_opener(_NoRedirects)


def http_get_json(url: str) -> Any:
    """GET a JSON document: the only way this module talks to an issuer."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310 (http(s) URLs from settings, checked at startup)
    try:
        with _opener.open(request, timeout=settings.OIDC_HTTP_TIMEOUT) as response:
            body = response.read(MAX_RESPONSE_BYTES + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise FetchError(f"GET {url}: {exc}") from None
    if len(body) > MAX_RESPONSE_BYTES:
        raise FetchError(f"GET {url}: response too large")
    try:
        return json.loads(body)
    except ValueError:
        raise FetchError(f"GET {url}: not JSON") from None


def _jwks_url(config: dict[str, Any]) -> str:
    if config["jwks_url"]:
        return str(config["jwks_url"])
    document = http_get_json(config["discovery_url"])
    url = document.get("jwks_uri") if isinstance(document, dict) else None
    if not isinstance(url, str):
        raise FetchError("discovery document without jwks_uri")
    parts = urlsplit(url)
    allowed_scheme = "http" if config["overridden"] and parts.scheme == "http" else ""
    if parts.scheme not in ("https", allowed_scheme) or (
        (parts.hostname or "").lower() != config["jwks_host"]
    ):
        raise FetchError(f"jwks_uri {url!r} is not on the allowed host")
    return url


def _usable(jwk: Any) -> bool:
    return (
        isinstance(jwk, dict)
        and jwk.get("kty") == "RSA"
        and jwk.get("use", "sig") == "sig"
        and isinstance(jwk.get("kid"), str)
        and isinstance(jwk.get("n"), str)
        and isinstance(jwk.get("e"), str)
    )


def fetch_key_set(config: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The issuer's usable RSA signing keys by ``kid``; FetchError if there are none."""
    document = http_get_json(_jwks_url(config))
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list):
        raise FetchError("key set without a 'keys' list")
    usable = {
        jwk["kid"]: {"kty": "RSA", "kid": jwk["kid"], "n": jwk["n"], "e": jwk["e"]}
        for jwk in keys
        if _usable(jwk)
    }
    if not usable:
        raise FetchError("key set without a usable RSA signing key")
    return usable


def _entry_key(provider: str) -> str:
    return f"oidc:jwks:{provider}"


def _wait_for_first_fetch(provider: str) -> dict[str, Any] | None:
    """Another worker is fetching an issuer's keys for the first time: wait for it
    rather than answer 503 to every request of a cold start."""
    deadline = time.monotonic() + 2 * settings.OIDC_HTTP_TIMEOUT
    while time.monotonic() < deadline:
        entry: dict[str, Any] | None = cache.get(_entry_key(provider))
        if entry is not None:
            return entry
        time.sleep(0.05)
    return None


def _refresh(
    provider: str, config: dict[str, Any], cached: dict[str, Any] | None
) -> dict[str, Any] | None:
    """Fetch the key set unless another fetch for this issuer happened lately."""
    if not cache.add(
        f"oidc:jwks-cooldown:{provider}", 1, settings.OIDC_JWKS_REFRESH_COOLDOWN
    ):
        return _wait_for_first_fetch(provider) if cached is None else None
    try:
        keys = fetch_key_set(config)
    except FetchError as exc:
        log.warning("OIDC keys of %s not refreshed: %s", provider, exc)
        return None
    entry = {"keys": keys, "fetched_at": time.time()}
    cache.set(_entry_key(provider), entry, None)
    return entry


def signing_key(provider: str, config: dict[str, Any], kid: str) -> RSAKey:
    """The issuer's key named ``kid``, refreshing the cached set when needed."""
    entry = cache.get(_entry_key(provider))
    stale = entry is None or (
        time.time() - entry["fetched_at"] >= settings.OIDC_JWKS_MAX_AGE
    )
    if stale or kid not in entry["keys"]:
        entry = _refresh(provider, config, entry) or entry
    if entry is None:
        error = KeysUnavailable(
            "The CI provider's signing keys cannot be fetched right now; retry later."
        )
        error.retry_after = max(1, settings.OIDC_JWKS_REFRESH_COOLDOWN)
        raise error
    jwk = entry["keys"].get(kid)
    if jwk is None:
        raise InvalidToken(f"unknown kid {kid!r} for {provider}")
    return _import(jwk["kid"], jwk["n"], jwk["e"])


@lru_cache(maxsize=64)
def _import(kid: str, n: str, e: str) -> RSAKey:
    return RSAKey.import_key({"kty": "RSA", "kid": kid, "n": n, "e": e})
