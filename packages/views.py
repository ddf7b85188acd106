"""Package pages: versions x platforms x builds, file details."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from accounts.authentication import session_credential
from channels import access
from channels.commands import usage_tabs
from channels.page_errors import channel_page

from .listing import package_overview


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
    can = access.abilities(channel, session_credential(request))
    context = {
        "channel": channel,
        "can": can,
        "usage": usage_tabs(
            settings.PUBLIC_URL,
            channel.name,
            is_private=channel.is_private,
            can_write=can.can_write,
            package=overview.name,
            version=overview.selected_version,
        ),
        "package": overview,
        "about": overview.latest.about,
        "summary": overview.latest.about.get("summary")
        or overview.latest.record.get("summary", ""),
        "license": overview.latest.about.get("license")
        or overview.latest.record.get("license", ""),
        "links": _links(overview.latest.about),
    }
    return render(request, "packages/detail.html", context)


_LINKS = (("home", "Home page"), ("dev_url", "Source"), ("doc_url", "Documentation"))


def _links(about: dict[str, Any]) -> list[dict[str, str]]:
    """The web links of info/about.json (only http(s) ones are kept at upload)."""
    return [
        {"label": label, "url": about[key]}
        for key, label in _LINKS
        if isinstance(about.get(key), str)
        and about[key].startswith(("https://", "http://"))
    ]
