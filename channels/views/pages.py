"""Public pages: home / explore, create a channel, the channel page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Subquery
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_safe

from accounts.authentication import session_credential
from packages.listing import package_summaries, search_packages
from packages.models import PackageFile

from .. import access, services
from ..commands import usage_tabs
from ..exceptions import InvalidChannel
from ..forms import ChannelCreateForm, channel_name_problem
from ..models import Channel, Membership
from ..page_errors import channel_page

CHANNELS_PER_PAGE = 30
MAX_QUERY = 100


def _query(request: HttpRequest) -> str:
    return request.GET.get("q", "").strip()[:MAX_QUERY]


def _listed(channels: Any, user: Any) -> Any:
    """Channels with what their tiles show: package count and the user's role."""
    channels = channels.annotate(
        package_count=Count("files__name", distinct=True)
    ).order_by("name")
    if user.is_authenticated:
        role = Membership.objects.filter(channel=OuterRef("pk"), user=user)
        channels = channels.annotate(role=Subquery(role.values("role")[:1]))
    return channels


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    query = _query(request)
    member_of = access.member_channel_ids(session_credential(request))
    channels = Channel.objects.visible_to(request.user)
    mine = channels.filter(pk__in=member_of)
    packages: list[dict[str, Any]] = []
    if query:
        channels = channels.filter(name__icontains=query)
        packages = search_packages(PackageFile.objects.visible_to(request.user), query)
    else:
        # Your channels are listed once, at the top, not again among all channels.
        channels = channels.exclude(pk__in=member_of)
    context = {
        "query": query,
        "page": Paginator(_listed(channels, request.user), CHANNELS_PER_PAGE).get_page(
            request.GET.get("page")
        ),
        "mine": list(_listed(mine, request.user)[:50]) if not query else [],
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
@require_safe
def check_name(request: HttpRequest) -> JsonResponse:
    """Check-as-you-type for /channels/new. It tells whether a name is taken, which
    the create form would tell anyway (names are unique across the site)."""
    name = request.GET.get("name", "")[:100]
    problem = channel_name_problem(name)
    return JsonResponse({"ok": problem is None, "message": problem or "Available."})


@require_safe
@channel_page
def detail(request: HttpRequest, name: str) -> HttpResponse:
    channel = access.get_channel_for_page(name, session_credential(request))
    query = _query(request)
    page, packages = package_summaries(
        channel, query=query, page=request.GET.get("page")
    )
    can = access.abilities(channel, session_credential(request))
    context = {
        "channel": channel,
        "can": can,
        "usage": usage_tabs(
            settings.PUBLIC_URL,
            channel.name,
            is_private=channel.is_private,
            can_write=can.can_write,
        ),
        "query": query,
        "page": page,
        "packages": packages,
    }
    return render(request, "channels/detail.html", context)


def _prefers_html(request: HttpRequest) -> bool:
    """Whether the client is a browser: it asks for HTML by name, which conda
    clients (``*/*`` or JSON) never do."""
    return any(
        media.main_type == "text" and media.sub_type == "html"
        for media in request.accepted_types
    )


@require_safe
def channel_root(request: HttpRequest, channel: str) -> HttpResponse:
    """``PUBLIC_URL/<channel>``, the URL people copy: browsers go to the channel
    page, which decides who may see it; clients find no file here, as before."""
    if _prefers_html(request):
        return redirect("channels:detail", name=channel)
    raise Http404("A channel URL holds subdirs, not a file.")
