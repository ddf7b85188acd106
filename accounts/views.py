"""Account settings and the API keys page; sign-in itself is allauth's."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from allauth.socialaccount.providers import registry
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from . import services
from .access import get_api_key_for_user
from .authentication import session_credential
from .forms import ApiKeyForm
from .models import ApiKey, User


def _signed_in(request: HttpRequest) -> User:
    """The user of a ``login_required`` view (never anonymous there)."""
    assert isinstance(request.user, User)
    return request.user


@login_required
def account_settings(request: HttpRequest) -> HttpResponse:
    social = [
        {"provider": _provider_name(account.provider), "uid": account.uid}
        for account in SocialAccount.objects.filter(user=request.user)
    ]
    return render(
        request,
        "accounts/settings.html",
        {
            "emails": EmailAddress.objects.filter(user=request.user),
            "social_accounts": social,
            "has_password": _signed_in(request).has_usable_password(),
        },
    )


def _provider_name(provider_id: str) -> str:
    provider_class = registry.get_class(provider_id)
    return provider_class.name if provider_class else provider_id


NEW_KEY_SESSION = "new_api_key"


@never_cache  # the page after a creation carries the secret: keep it out of caches
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def api_keys(request: HttpRequest) -> HttpResponse:
    """POST creates a key and redirects (a refresh creates nothing); the next GET
    shows its secret once, handed over through the session."""
    user = _signed_in(request)
    form = ApiKeyForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        key, secret = services.create_api_key(
            user,
            name=form.cleaned_data["name"],
            expires_in_days=form.expires_in_days,
            channel=form.cleaned_data["channel"],
            is_read_only=form.cleaned_data["is_read_only"],
        )
        request.session[NEW_KEY_SESSION] = {"id": key.pk, "secret": secret}
        return redirect("accounts:api-keys")
    keys = ApiKey.objects.filter(user=user, revoked_at__isnull=True).select_related(
        "channel"
    )
    created = _just_created(request, user)
    if created:
        # Focus stays at the top, on the new key, not on the form below it.
        form.fields["name"].widget.attrs.pop("autofocus", None)
    return render(
        request,
        "accounts/api_keys.html",
        {"form": form, "keys": keys, "created": created},
        status=400 if form.errors else 200,
    )


def _just_created(request: HttpRequest, user: User) -> dict[str, Any] | None:
    """The key created by the previous request, popped so it is shown only once."""
    new = request.session.pop(NEW_KEY_SESSION, None)
    if not isinstance(new, dict) or not isinstance(new.get("id"), int):
        return None
    key = ApiKey.objects.filter(
        pk=new["id"], user=user, revoked_at__isnull=True
    ).first()
    if key is None:
        return None
    secret = str(new.get("secret", ""))
    return {"key": key, "secret": secret, **_commands(key, secret)}


def _commands(key: ApiKey, secret: str) -> dict[str, str]:
    """The exact client commands for this server (PUBLIC_URL) and this key."""
    url = settings.PUBLIC_URL
    channel = key.channel.name if key.channel else "<channel>"
    return {
        "pixi_login": f"pixi auth login {urlsplit(url).netloc} --token {secret}",
        "rattler_upload": (
            f"rattler-build upload prefix --url {url} --channel {channel} "
            f"--api-key {secret} <package-file>"
        ),
    }


@login_required
@require_POST
def revoke_api_key(request: HttpRequest, key_id: int) -> HttpResponse:
    key = get_api_key_for_user(session_credential(request), key_id)
    services.revoke_api_key(key)
    messages.success(request, f"The API key “{key.name}” was revoked.")
    return redirect("accounts:api-keys")
