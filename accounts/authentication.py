"""Credentials on requests: Bearer, Basic (key as password), /t/, browser sessions.

Each producer here turns what a request carries into a ``Credential``; nothing
downstream looks at keys, tokens or sessions themselves.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from rest_framework import authentication, exceptions

from prefixhub.fastquery import first_row
from publishing.oidc import tokens as minted_tokens

from .credentials import ANONYMOUS, Credential
from .models import ApiKey, User, hash_key

REALM = 'Bearer realm="prefixhub"'


class InvalidCredentials(Exception):
    """Credentials were sent but are malformed, unknown, expired or revoked."""


def raw_credential(request: HttpRequest) -> str | None:
    """The key a client sent, in whichever form it used, or None if it sent none."""
    return sent_key(
        request.META.get("HTTP_AUTHORIZATION", ""), getattr(request, "path_token", None)
    )


def sent_key(authorization: str, path_token: str | None) -> str | None:
    """The key in an ``Authorization`` header or else a ``/t/<token>/`` path, or
    None; raises InvalidCredentials for a form we do not take."""
    if authorization:
        scheme, _, value = authorization.partition(" ")
        scheme = scheme.lower()
        value = value.strip()
        if scheme in ("bearer", "token") and value:
            return value
        if scheme == "basic":
            try:
                decoded = base64.b64decode(value, validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                raise InvalidCredentials("Malformed Basic credentials.") from None
            # conda and .netrc send user:password; the user name is ignored.
            return decoded.partition(":")[2] or None
        raise InvalidCredentials("Unsupported Authorization scheme.")
    if path_token is not None and path_token.startswith(minted_tokens.PREFIX):
        # Minted tokens only ever go in an Authorization header: URLs end up in
        # logs, and a token there could be replayed for its 15 minutes.
        raise InvalidCredentials("Trusted-publishing tokens are not accepted in URLs.")
    return path_token


def authenticate_key(raw: str) -> ApiKey:
    """The usable key for ``raw``; raises InvalidCredentials for anything else."""
    if len(raw) > 200:
        raise InvalidCredentials("Invalid API key.")
    # Every private channel URL comes here: indexed lookups, no query compiler.
    key = first_row(ApiKey, {"key_hash": hash_key(raw)})
    user = first_row(User, {"id": key.user_id}) if key is not None else None
    if key is None or user is None or not key.is_usable or not user.is_active:
        raise InvalidCredentials("Invalid, expired or revoked API key.")
    key.user = user
    key.touch()
    return key


def key_credential(key: ApiKey) -> Credential:
    """What an API key may do: act for its user, narrowed as the key says."""
    return Credential(
        user=key.user,
        channel_ids=None if key.channel_id is None else frozenset({key.channel_id}),
        read_only=key.is_read_only,
    )


def session_credential(request: HttpRequest) -> Credential:
    """The signed-in browser (or nobody): every right the user's roles give."""
    return Credential.for_user(request.user)


def credential_from_request(request: HttpRequest) -> Credential:
    """The credential a client sent (ANONYMOUS without any); raises if it is bad."""
    raw = raw_credential(request)
    if raw is None:
        return ANONYMOUS
    if raw.startswith(minted_tokens.PREFIX):
        try:
            return minted_tokens.authenticate(raw)
        except minted_tokens.TokenRejected as exc:
            raise InvalidCredentials(str(exc)) from None
    return key_credential(authenticate_key(raw))


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """DRF authentication by API key; ``request.auth`` is the Credential."""

    def authenticate(self, request: Any) -> tuple[Any, Credential] | None:
        try:
            credential = credential_from_request(request._request)
        except InvalidCredentials as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from None
        if credential.is_anonymous:
            return None
        return credential.user or AnonymousUser(), credential

    def authenticate_header(self, request: Any) -> str:
        return REALM


class BrowserSessionAuthentication(authentication.SessionAuthentication):
    """The signed-in browser, with CSRF enforced, for the website's upload page.

    The CSRF check reads ``request.POST``, which would consume a multipart body we
    need to stream, so the browser sends packages as a raw body and multipart
    requests are not session-authenticated.
    """

    def authenticate(self, request: Any) -> tuple[Any, Credential] | None:
        if request.content_type.startswith("multipart/"):
            return None
        found = super().authenticate(request)
        if found is None:
            return None
        return found[0], Credential.for_user(found[0])

    def enforce_csrf(self, request: Any) -> None:
        # Check the Django request: DRF's own would parse the body through DRF's
        # parsers (there are none here, on purpose) and answer 415 instead.
        super().enforce_csrf(request._request)

    def authenticate_header(self, request: Any) -> str:
        return REALM
