"""The web upload page. The files themselves go to the upload API, as pixi's do."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe

from accounts.authentication import session_credential
from channels import access
from channels.page_errors import channel_page

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
    }
    return render(request, "publishing/upload.html", context)
