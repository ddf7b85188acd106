"""``POST /api/oidc/mint_token`` and ``GET /api/oidc/audience`` (spec §1).

No caller authentication: cookies and ``Authorization`` are ignored, so the
endpoint is CSRF-exempt. Success is the bare token as text; every failure is the
JSON error body with one of the codes of §1.1, never a stack trace.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from publishing.models import AuditEvent

from .errors import InvalidPayload, InvalidToken, MintError, RateLimited
from .mint import mint

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 16 * 1024
_PERIODS = {"s": 1, "m": 60, "h": 3600}


def _failure(exc: MintError) -> JsonResponse:
    body = {
        "message": "Token request failed",
        "errors": [{"code": exc.code, "description": exc.description}],
    }
    response = JsonResponse(body, status=exc.status)
    response["Cache-Control"] = "no-store"
    if exc.retry_after is not None:
        response["Retry-After"] = str(exc.retry_after)
    return response


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _check_rate(ip: str | None) -> None:
    count, _, unit = settings.OIDC_MINT_RATE_LIMIT.partition("/")
    period = _PERIODS.get(unit or "m", 60)
    now = time.time()
    key = f"oidc:mint-rate:{ip}:{int(now // period)}"
    cache.add(key, 0, period + 1)
    try:
        used = cache.incr(key)
    except ValueError:  # expired between add and incr: a new window
        used = 1
    if used > int(count):
        error = RateLimited("Too many token requests from this address; slow down.")
        error.retry_after = max(1, int(period - now % period))
        raise error


def _read_jwt(request: HttpRequest) -> str:
    if request.content_type != "application/json":
        raise InvalidPayload("Send the token as JSON (Content-Type: application/json).")
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > MAX_BODY_BYTES:
        raise InvalidPayload("The request body is larger than 16 KiB.")
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        raise InvalidPayload("The request body is larger than 16 KiB.")
    try:
        payload: Any = json.loads(body)
    except ValueError:
        raise InvalidPayload("The request body is not JSON.") from None
    token = payload.get("token") if isinstance(payload, dict) else None
    if not isinstance(token, str):
        raise InvalidPayload('The body must be {"token": "<OIDC token>"}.')
    return token


def _record_failure(exc: MintError, ip: str | None) -> None:
    log.info("Trusted-publishing mint failed: %s (%s)", exc.code, exc.log_reason)
    AuditEvent.objects.create(
        kind=AuditEvent.Kind.MINT_FAILED,
        ip=ip,
        data={
            "code": exc.code,
            "issuer": exc.issuer,
            "reason": exc.log_reason[:500],
            "subject": exc.subject,
        },
    )


@csrf_exempt
@require_POST
def mint_token(request: HttpRequest) -> HttpResponse:
    """Exchange a CI provider's OIDC token for a 15-minute upload token."""
    ip = _client_ip(request)
    try:
        _check_rate(ip)
        secret = mint(_read_jwt(request), ip=ip)
    except RateLimited as exc:
        return _failure(exc)
    except MintError as exc:
        _record_failure(exc, ip)
        return _failure(exc)
    except Exception:  # fail closed: never a token, never a stack trace
        log.exception("Trusted-publishing mint crashed; answered invalid-token")
        error = InvalidToken("unexpected error during verification")
        _record_failure(error, ip)
        return _failure(error)
    response = HttpResponse(secret, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@cache_control(public=True, max_age=3600)
def audience(request: HttpRequest) -> JsonResponse:
    """The audience CI jobs must request (GitLab users declare it in id_tokens)."""
    return JsonResponse({"audience": settings.OIDC_AUDIENCE})
