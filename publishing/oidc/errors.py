"""Mint failures: the status and ``code`` of docs/trusted-publishing.md §1.1."""

from __future__ import annotations

# One description for every invalid-token failure: details go to the log only.
GENERIC_INVALID_TOKEN = "The OIDC token is not valid for this server."  # noqa: S105


class MintError(Exception):
    status = 400
    code = "invalid-payload"

    def __init__(self, description: str, *, log_reason: str = "") -> None:
        super().__init__(description)
        self.description = description
        self.log_reason = log_reason or description
        self.retry_after: int | None = None
        # Filled in once known, for the oidc.mint_failed event: the issuer, and the
        # repository or project only after the signature was verified.
        self.issuer = ""
        self.subject = ""


class InvalidPayload(MintError):
    status = 400
    code = "invalid-payload"


class InvalidToken(MintError):
    status = 401
    code = "invalid-token"

    def __init__(self, log_reason: str) -> None:
        super().__init__(GENERIC_INVALID_TOKEN, log_reason=log_reason)


class InvalidPublisher(MintError):
    status = 401
    code = "invalid-publisher"


class ReusedToken(MintError):
    status = 401
    code = "invalid-reuse-token"


class NotEnabled(MintError):
    status = 403
    code = "not-enabled"


class RateLimited(MintError):
    status = 429
    code = "rate-limited"


class KeysUnavailable(MintError):
    status = 503
    code = "keys-unavailable"
