"""Package pages: versions x platforms x builds, file details, deleting a file."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from accounts.authentication import session_credential
from channels import access
from channels.page_errors import channel_page
from channels.views.pages import channel_url
from publishing.exceptions import FileNotFound
from publishing.services import delete_package_file

from .listing import package_overview
from .models import PackageFile


@require_safe
@channel_page
def detail(request: HttpRequest, name: str, package: str) -> HttpResponse:
    channel = access.get_channel_for_page(name, session_credential(request))
    overview = package_overview(
        channel,
        package,
        version=request.GET.get("version", "")[:128],
        page=request.GET.get("page"),
    )
    if overview is None:
        raise Http404("No such package in this channel.")
    context = {
        "channel": channel,
        "can": access.abilities(channel, session_credential(request)),
        "channel_url": channel_url(channel.name),
        "package": overview,
        "record": overview.latest.record,
        "about": overview.latest.about,
        "summary": overview.latest.about.get("summary")
        or overview.latest.record.get("summary", ""),
    }
    return render(request, "packages/detail.html", context)


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
        return render(request, "packages/confirm_delete.html", context)
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
