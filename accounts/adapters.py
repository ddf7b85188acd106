"""django-allauth glue: usernames that follow the channel-name rules, and providers
that are simply absent (404) until they have credentials."""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.utils import user_email, user_field, user_username
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp
from django.conf import settings
from django.http import Http404, HttpRequest

from channels.names import name_problem

from .models import User

_INVALID_RUN = re.compile(r"[^a-z0-9_-]+")
_MAX_LENGTH = 64


def username_base(text: str | None) -> str | None:
    """A valid username made from ``text`` (a login, an email, a name), or None.

    >>> username_base("Jane.Doe@example.org")
    'jane-doe'
    >>> username_base("Zoë Müller")
    'zoe-muller'
    >>> username_base("api") is None
    True
    """
    if not text:
        return None
    text = text.partition("@")[0]
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    candidate = _INVALID_RUN.sub("-", ascii_text.lower()).strip("-_")
    candidate = candidate[:_MAX_LENGTH].rstrip("-_")
    if not candidate or name_problem(candidate):
        return None
    return candidate


def unique_username(texts: Iterable[str | None]) -> str:
    """The first free username made from ``texts``; a numbered variant when taken."""
    bases = [base for base in map(username_base, texts) if base] or ["user"]
    for base in bases:
        if not User.objects.filter(username=base).exists():
            return base
    for _ in range(50):
        candidate = f"{bases[0][: _MAX_LENGTH - 7]}-{secrets.randbelow(10**6):06d}"
        if not User.objects.filter(username=candidate).exists():
            return candidate
    raise RuntimeError("could not find a free username")  # 50 collisions in 10**6


@dataclass(frozen=True)
class PublicSite:
    """What allauth's mail templates read from ``current_site``: our name and host."""

    name: str
    domain: str


def public_site() -> PublicSite:
    return PublicSite(
        name=settings.SITE_NAME, domain=urlsplit(settings.PUBLIC_URL).netloc
    )


def public_url(url: str) -> str:
    """``url`` moved onto ``PUBLIC_URL``: mail never links to the Host a request sent.

    >>> from django.conf import settings
    >>> url = public_url("http://evil.example/accounts/x/?a=1")
    >>> url == settings.PUBLIC_URL + "/accounts/x/?a=1"
    True
    """
    bits = urlsplit(url)
    public = urlsplit(settings.PUBLIC_URL)
    return bits._replace(scheme=public.scheme, netloc=public.netloc).geturl()


class AccountAdapter(DefaultAccountAdapter):
    def get_reset_password_from_key_url(self, key: str) -> str:
        return public_url(super().get_reset_password_from_key_url(key))

    def get_email_confirmation_url(
        self, request: HttpRequest, emailconfirmation: Any
    ) -> str:
        return public_url(
            super().get_email_confirmation_url(request, emailconfirmation)
        )

    def format_email_subject(self, subject: str) -> str:
        return f"[{settings.SITE_NAME}] {subject}"

    def send_mail(
        self, template_prefix: str, email: str, context: dict[str, Any]
    ) -> None:
        # allauth names the site after the request's Host (e.g. "127.0.0.1:8103").
        super().send_mail(
            template_prefix, email, {**context, "current_site": public_site()}
        )

    def populate_username(self, request: HttpRequest, user: Any) -> None:
        """Social sign-ups bring a GitHub login or a Google name in any shape: make
        one that passes the channel-name rules instead of trusting it."""
        username = user_username(user)
        if (
            username
            and username_base(username) == username
            and not User.objects.filter(username=username).exists()
        ):
            return
        name = " ".join(
            user_field(user, field) or "" for field in ("first_name", "last_name")
        )
        texts = [username, user_email(user), name]
        user_username(user, unique_username(texts))


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def populate_user(self, request: HttpRequest, sociallogin: Any, data: Any) -> Any:
        """allauth drops a provider's username that fails our rules ("Dana-Dev") and
        falls back to the email; offer its valid form ("dana-dev") first instead."""
        user = super().populate_user(request, sociallogin, data)
        user_username(user, username_base(data.get("username")) or "")
        return user

    def get_app(
        self, request: HttpRequest, provider: Any, client_id: Any = None
    ) -> Any:
        """A provider without credentials does not exist here: 404, not a 500."""
        try:
            return super().get_app(request, provider, client_id=client_id)
        except SocialApp.DoesNotExist:
            raise Http404("This sign-in provider is not configured.") from None
