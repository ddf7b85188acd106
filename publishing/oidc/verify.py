"""Steps 1-5 of the verification pipeline (docs/trusted-publishing.md §3).

Parse the JWT without trusting it, pick the issuer and its key, verify the RS256
signature with that one key, then check the registered claims. Only ``alg``,
``kid``, ``crit`` and ``iss`` are read before the signature is verified; ``jku``,
``x5u``, ``jwk`` and ``x5c`` are never used.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from joserfc import jwt
from joserfc.errors import JoseError

from . import claims as claim_checks
from .errors import InvalidPayload, InvalidToken, NotEnabled
from .jwks import signing_key

MAX_JWT_BYTES = 8 * 1024
_SEGMENT = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class VerifiedToken:
    provider: str
    issuer: str
    claims: dict[str, Any]


def _b64_json(segment: str, what: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError):
        raise InvalidPayload(f"The JWT {what} is not base64url JSON.") from None
    if not isinstance(value, dict):
        raise InvalidPayload(f"The JWT {what} is not a JSON object.")
    return value


def parse(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and payload of a JWT, decoded but not verified (step 1)."""
    if len(token.encode()) > MAX_JWT_BYTES:
        raise InvalidPayload("The JWT is larger than 8 KiB.")
    segments = token.split(".")
    if len(segments) != 3 or not all(_SEGMENT.match(s) for s in segments[:2]):
        raise InvalidPayload("The JWT must have three base64url segments.")
    if segments[2] and not _SEGMENT.match(segments[2]):
        raise InvalidPayload("The JWT must have three base64url segments.")
    return _b64_json(segments[0], "header"), _b64_json(segments[1], "payload")


def provider_for(header: dict[str, Any], payload: dict[str, Any]) -> str:
    """Step 2: the configured provider whose issuer signed this, by ``iss``."""
    if header.get("alg") != "RS256":
        raise InvalidPayload("The JWT must be signed with RS256.")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise InvalidPayload("The JWT header has no key id (kid).")
    if "crit" in header:
        raise InvalidPayload("The JWT header may not carry 'crit'.")
    iss = payload.get("iss")
    for provider, config in settings.OIDC_ISSUERS.items():
        if iss == config["issuer"]:
            if not config["enabled"]:
                raise NotEnabled(
                    f"Trusted publishing from {provider} is disabled on this server."
                )
            return str(provider)
    raise InvalidPayload("The JWT's issuer (iss) is not a supported CI provider.")


def audiences() -> set[str]:
    return {settings.OIDC_AUDIENCE, *settings.OIDC_EXTRA_AUDIENCES}


def verify(token: str, *, now: float | None = None) -> VerifiedToken:
    """A genuine token for this server, or a MintError saying why not."""
    header, payload = parse(token)
    provider = provider_for(header, payload)
    config = settings.OIDC_ISSUERS[provider]
    key = signing_key(provider, config, header["kid"])
    try:
        verified = jwt.decode(token, key, algorithms=["RS256"])
    except (JoseError, ValueError) as exc:
        raise InvalidToken(f"signature: {exc.__class__.__name__}") from None
    claims = verified.claims
    problem = claim_checks.registered_claims_problem(
        claims, audiences=audiences(), now=time.time() if now is None else now
    )
    if problem:
        raise InvalidToken(problem)
    return VerifiedToken(provider=provider, issuer=config["issuer"], claims=claims)
