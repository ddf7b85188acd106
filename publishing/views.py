"""The web upload page, the file-delete page and the trusted-publisher settings.

Uploaded files go to the upload API, as pixi's do; deletion calls the same
service as the delete API.
"""

from __future__ import annotations

from typing import Any

from allauth.account.decorators import reauthentication_required
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import (
    require_http_methods,
    require_POST,
    require_safe,
)

from accounts.authentication import session_credential
from channels import access
from channels.models import Channel
from channels.page_errors import channel_page
from packages.models import PackageFile

from . import publishers
from .exceptions import FileNotFound, PublisherError
from .forms import FORMS
from .models import TrustedPublisher
from .services import delete_package_file
from .snippets import publisher_view

ACCEPTED_EXTENSIONS = (".conda", ".tar.bz2")


@login_required
@require_safe
@ensure_csrf_cookie
@channel_page
def upload_page(request: HttpRequest, name: str) -> HttpResponse:
    channel = access.get_channel_for_upload_page(name, session_credential(request))
    context = {
        "channel": channel,
        "can": access.abilities(channel, session_credential(request)),
        "section": "upload",
        "upload_url": reverse("publishing-api:upload", args=[channel.name]),
        "max_size": settings.PREFIXHUB_MAX_UPLOAD_SIZE,
        "accepted": ",".join(ACCEPTED_EXTENSIONS),
        "can_replace": session_credential(request).may_overwrite,
    }
    return render(request, "publishing/upload.html", context)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@channel_page
def delete_file(
    request: HttpRequest, name: str, subdir: str, filename: str
) -> HttpResponse:
    """GET (and HEAD) asks for confirmation; POST deletes the file and its entry."""
    channel = access.get_channel_for_upload_page(name, session_credential(request))
    package = PackageFile.objects.filter(
        channel=channel, subdir=subdir, filename=filename
    ).first()
    if package is None:
        raise Http404("No such file in this channel.")
    if request.method != "POST":
        context = {"channel": channel, "file": package}
        return render(request, "publishing/confirm_delete.html", context)
    try:
        delete_package_file(
            channel, subdir=subdir, filename=filename, actor=session_credential(request)
        )
    except FileNotFound as exc:
        raise Http404(exc.message) from None
    messages.success(request, f"Deleted {subdir}/{filename}.")
    if PackageFile.objects.filter(channel=channel, name=package.name).exists():
        return redirect("packages:detail", name=channel.name, package=package.name)
    return redirect("channels:detail", name=channel.name)


# --- trusted publishers (docs/trusted-publishing.md §4) ------------------------------


def _publisher_page(
    request: HttpRequest,
    channel: Channel,
    *,
    forms: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    credential = session_credential(request)
    bound = forms or {}
    context = {
        "channel": channel,
        "can": access.abilities(channel, credential),
        "section": "publishers",
        "publishers": [
            publisher_view(p, channel)
            for p in TrustedPublisher.objects.filter(channel=channel)
        ],
        "forms": {
            provider: bound.get(provider) or form_class()
            for provider, form_class in FORMS.items()
        },
        "open_provider": next(iter(bound), "github"),
        "audience": settings.OIDC_AUDIENCE,
        "server_url": settings.PUBLIC_URL,
    }
    return render(
        request, "channels/settings/trusted_publishers.html", context, status=status
    )


@login_required
@require_safe
@channel_page
def trusted_publishers(request: HttpRequest, name: str) -> HttpResponse:
    channel = access.get_channel_for_manage(name, session_credential(request))
    return _publisher_page(request, channel)


@login_required
@require_POST
@reauthentication_required
@channel_page
def publisher_add(request: HttpRequest, name: str, provider: str) -> HttpResponse:
    credential = session_credential(request)
    channel = access.get_channel_for_manage(name, credential)
    form_class = FORMS.get(provider)
    if form_class is None:
        raise Http404("No such provider.")
    form = form_class(request.POST)
    status = 400
    if form.is_valid():
        try:
            publisher = publishers.add_publisher(
                channel,
                provider=provider,
                fields=form.publisher_fields(),
                actor=credential,
                ip=request.META.get("REMOTE_ADDR"),
            )
        except PublisherError as exc:
            form.add_error(None, exc.message)
            status = exc.status
        else:
            messages.success(request, "Added the trusted publisher.")
            if publishers.is_default_service_account(publisher.email):
                messages.warning(request, publishers.DEFAULT_ACCOUNT_WARNING)
            return redirect("channels:trusted-publishers", name=channel.name)
    return _publisher_page(request, channel, forms={provider: form}, status=status)


@login_required
@require_POST
@reauthentication_required
@channel_page
def publisher_remove(
    request: HttpRequest, name: str, publisher_id: int
) -> HttpResponse:
    credential = session_credential(request)
    channel = access.get_channel_for_manage(name, credential)
    publisher = TrustedPublisher.objects.filter(
        pk=publisher_id, channel=channel
    ).first()
    if publisher is None:
        raise Http404("No such trusted publisher.")
    publishers.remove_publisher(
        publisher, actor=credential, ip=request.META.get("REMOTE_ADDR")
    )
    messages.success(request, f"Removed {publisher}; its tokens stopped working.")
    return redirect("channels:trusted-publishers", name=channel.name)
