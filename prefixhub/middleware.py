from __future__ import annotations

import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

# conda and rattler put a token in the path: /t/<token>/<channel>/... (section 8.1 of
# the protocol doc). conda extracts it with this same alphabet.
_TOKEN_PATH = re.compile(r"^/t/(?P<token>[A-Za-z0-9-]+)(?P<rest>/.*)$")


class ChannelTokenPathMiddleware:
    """Strip a ``/t/<token>/`` prefix before routing; keep the token as a credential."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        match = _TOKEN_PATH.match(request.path_info)
        if match:
            request.path_token = match["token"]  # type: ignore[attr-defined]
            request.path_info = match["rest"]
            request.path = request.path_info
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """Send ``settings.PREFIXHUB_CSP`` as the Content-Security-Policy of every response.

    Scripts come only from our own static files (no inline script or handler), so an
    injected ``<script>`` does not run. Django 5.2 has no CSP support of its own.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy = settings.PREFIXHUB_CSP

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy
        return response
