from __future__ import annotations

import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, URLResolver
from django.urls.resolvers import RegexPattern

from channels import serving

# conda and rattler put a token in the path: /t/<token>/<channel>/... (section 8.1 of
# the protocol doc). conda extracts it with this same alphabet.
_TOKEN_PATH = re.compile(r"^/t/(?P<token>[A-Za-z0-9-]+)(?P<rest>/.*)$")


def _strip_token(request: HttpRequest) -> None:
    match = _TOKEN_PATH.match(request.path_info)
    if match:
        request.path_token = match["token"]  # type: ignore[attr-defined]
        request.path_info = match["rest"]
        request.path = request.path_info


class ChannelTokenPathMiddleware:
    """Strip a ``/t/<token>/`` prefix before routing; keep the token as a credential."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        _strip_token(request)
        return self.get_response(request)


class ChannelURLMiddleware:
    """Answer the channel URLs conda clients read (index files, shards, packages)
    right here when one query grants the read (``channels.access.read_grant``),
    skipping WhiteNoise, the session, CSRF, auth, message and allauth middleware
    and the site's URL patterns below.

    They are machine traffic, the hottest path prefixhub has: clients send no
    cookies and only read. A request with a session cookie (a signed-in browser
    following a package link), and every request the grant does not cover
    (refusals, trusted-publishing tokens, unknown names, the site's own pages that
    look like channel URLs), take the full stack, which answers as before.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        # Only the channel URL patterns: resolving the whole site costs more than
        # answering a shard.
        self.resolver = URLResolver(RegexPattern(r"^/"), serving.urlpatterns)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.method in ("GET", "HEAD")
            and settings.SESSION_COOKIE_NAME not in request.COOKIES
        ):
            _strip_token(request)
            try:
                match = self.resolver.resolve(request.path_info)
            except Resolver404:
                return self.get_response(request)
            channel = serving.granted_channel(request, match.kwargs["channel"])
            if channel is not None:
                request.granted_channel = channel  # type: ignore[attr-defined]
                response: HttpResponse = match.func(
                    request, *match.args, **match.kwargs
                )
                return response
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
