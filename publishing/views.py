"""The web upload page and the file-delete page. The files themselves go to the
upload API, as pixi's do; deletion calls the same service as the delete API."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_http_methods

from accounts.authentication import session_credential
from channels import access
from channels.page_errors import channel_page
from packages.models import PackageFile

from .exceptions import FileNotFound
from .services import delete_package_file

ACCEPTED_EXTENSIONS = (".conda", ".tar.bz2")


@login_required
@require_GET
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
@require_http_methods(["GET", "POST"])
@channel_page
def delete_file(
    request: HttpRequest, name: str, subdir: str, filename: str
) -> HttpResponse:
    """GET asks for confirmation; POST deletes the file and its index entry."""
    channel = access.get_channel_for_upload_page(name, session_credential(request))
    package = PackageFile.objects.filter(
        channel=channel, subdir=subdir, filename=filename
    ).first()
    if package is None:
        raise Http404("No such file in this channel.")
    if request.method == "GET":
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
