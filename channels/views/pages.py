"""Public pages: home / explore, create a channel, the channel page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from packages.listing import package_summaries, search_packages
from packages.models import PackageFile

from .. import access, services
from ..exceptions import InvalidChannel
from ..forms import ChannelCreateForm, channel_name_problem
from ..page_errors import channel_page

CHANNELS_PER_PAGE = 30
MAX_QUERY = 100


def _query(request: HttpRequest) -> str:
    return request.GET.get("q", "").strip()[:MAX_QUERY]


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    query = _query(request)
    channels = access.visible_channels(request.user).order_by("name")
    mine = channels.filter(pk__in=access.member_channel_ids(request.user))
    packages: list[dict[str, Any]] = []
    if query:
        channels = channels.filter(name__icontains=query)
        packages = search_packages(PackageFile.objects.visible_to(request.user), query)
    context = {
        "query": query,
        "page": Paginator(channels, CHANNELS_PER_PAGE).get_page(
            request.GET.get("page")
        ),
        "mine": list(mine[:50]) if not query else [],
        "packages": packages,
    }
    return render(request, "channels/home.html", context)


@login_required
def new(request: HttpRequest) -> HttpResponse:
    form = ChannelCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            channel = services.create_channel(
                form.cleaned_data["name"],
                owner=request.user,
                description=form.cleaned_data["description"],
                is_private=form.is_private,
                logo_url=form.cleaned_data["logo_url"],
            )
        except InvalidChannel as exc:
            form.add_error("name", exc.message)
        else:
            messages.success(request, f"Created channel {channel.name}.")
            return redirect("channels:detail", name=channel.name)
    return render(request, "channels/new.html", {"form": form})


@login_required
@require_GET
def check_name(request: HttpRequest) -> JsonResponse:
    """Check-as-you-type for /channels/new. It tells whether a name is taken, which
    the create form would tell anyway (names are unique across the site)."""
    name = request.GET.get("name", "")[:100]
    problem = channel_name_problem(name)
    return JsonResponse({"ok": problem is None, "message": problem or "Available."})


@require_GET
@channel_page
def detail(request: HttpRequest, name: str) -> HttpResponse:
    channel = access.get_channel_for_page(name, request.user)
    query = _query(request)
    page, packages = package_summaries(
        channel, query=query, page=request.GET.get("page")
    )
    context = {
        "channel": channel,
        "can": access.abilities(channel, request.user),
        "channel_url": channel.url,
        "query": query,
        "page": page,
        "packages": packages,
    }
    return render(request, "channels/detail.html", context)
