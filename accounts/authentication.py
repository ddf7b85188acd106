"""Credentials on API and channel requests: Bearer, Basic (key as password), /t/."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.http import HttpRequest
from rest_framework import authentication, exceptions

from .models import ApiKey, hash_key

REALM = 'Bearer realm="prefixhub"'


class InvalidCredentials(Exception):
    """Credentials were sent but are malformed, unknown, expired or revoked."""


def credential_from_request(request: HttpRequest) -> str | None:
    """The key a client sent, in whichever form it used, or None if it sent none."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header:
        scheme, _, value = header.partition(" ")
        scheme = scheme.lower()
        value = value.strip()
        if scheme in ("bearer", "token") and value:
            return value
        if scheme == "basic":
            try:
                decoded = base64.b64decode(value, validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                raise InvalidCredentials("malformed Basic credentials") from None
            # conda and .netrc send user:password; the user name is ignored.
            return decoded.partition(":")[2] or None
        raise InvalidCredentials("unsupported Authorization scheme")
    return getattr(request, "path_token", None)


def authenticate_key(raw: str) -> ApiKey:
    """The usable key for ``raw``; raises InvalidCredentials for anything else."""
    if len(raw) > 200:
        raise InvalidCredentials("invalid API key")
    key = ApiKey.objects.select_related("user").filter(key_hash=hash_key(raw)).first()
    if key is None or not key.is_usable or not key.user.is_active:
        raise InvalidCredentials("invalid, expired or revoked API key")
    key.touch()
    return key


def key_from_request(request: HttpRequest) -> ApiKey | None:
    """The API key of the request, None without credentials; raises if they are bad."""
    raw = credential_from_request(request)
    if raw is None:
        return None
    return authenticate_key(raw)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """DRF authentication by API key; ``request.auth`` is the ApiKey."""

    def authenticate(self, request: Any) -> tuple[Any, ApiKey] | None:
        try:
            key = key_from_request(request._request)
        except InvalidCredentials as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from None
        if key is None:
            return None
        return key.user, key

    def authenticate_header(self, request: Any) -> str:
        return REALM


class BrowserSessionAuthentication(authentication.SessionAuthentication):
    """The signed-in browser, with CSRF enforced, for the website's upload page.

    The CSRF check reads ``request.POST``, which would consume a multipart body we
    need to stream, so the browser sends packages as a raw body and multipart
    requests are not session-authenticated.
    """

    def authenticate(self, request: Any) -> tuple[Any, None] | None:
        if request.content_type.startswith("multipart/"):
            return None
        return super().authenticate(request)

    def enforce_csrf(self, request: Any) -> None:
        # Check the Django request: DRF's own would parse the body through DRF's
        # parsers (there are none here, on purpose) and answer 415 instead.
        super().enforce_csrf(request._request)

    def authenticate_header(self, request: Any) -> str:
        return REALM
