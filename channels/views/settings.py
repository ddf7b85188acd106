"""Channel settings: general, members, trusted publishers, danger zone, activity.

Owner only (``access.get_channel_for_manage``); anonymous visitors are sent to the
login page, strangers get 404 for private channels and 403 for public ones.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.authentication import session_credential
from accounts.models import User

from .. import access, services
from ..exceptions import InvalidChannel
from ..forms import (
    AddMemberForm,
    ChangeRoleForm,
    ChannelSettingsForm,
    DeleteChannelForm,
    TransferForm,
)
from ..models import Activity, Channel
from ..page_errors import channel_page

ACTIVITY_PER_PAGE = 50


def _render(
    request: HttpRequest,
    channel: Channel,
    template: str,
    section: str,
    status: int = 200,
    **context: Any,
) -> HttpResponse:
    context.update(
        channel=channel,
        can=access.abilities(channel, session_credential(request)),
        section=section,
    )
    return render(request, f"channels/settings/{template}", context, status=status)


def _posted(request: HttpRequest) -> Any:
    return request.POST if request.method == "POST" else None


@login_required
@channel_page
def general(request: HttpRequest, name: str) -> HttpResponse:
    channel = access.get_channel_for_manage(name, session_credential(request))
    form = ChannelSettingsForm.for_channel(channel, _posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_channel(
                channel,
                actor=request.user,
                description=form.cleaned_data["description"],
                is_private=form.is_private,
                logo_url=form.cleaned_data["logo_url"],
            )
        except InvalidChannel as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Settings saved.")
            return redirect("channels:settings", name=channel.name)
    return _render(request, channel, "general.html", "general", form=form)


def _members_page(
    request: HttpRequest, channel: Channel, form: AddMemberForm, status: int = 200
) -> HttpResponse:
    members = channel.memberships.select_related("user").order_by("created_at", "pk")
    return _render(
        request,
        channel,
        "members.html",
        "members",
        status=status,
        members=members,
        form=form,
        role_choices=ChangeRoleForm.base_fields["role"].choices,  # type: ignore[attr-defined]
    )


@login_required
@channel_page
def members(request: HttpRequest, name: str) -> HttpResponse:
    channel = access.get_channel_for_manage(name, session_credential(request))
    return _members_page(request, channel, AddMemberForm())


@login_required
@require_POST
@channel_page
def member_add(request: HttpRequest, name: str) -> HttpResponse:
    channel = access.get_channel_for_manage(name, session_credential(request))
    form = AddMemberForm(request.POST)
    if form.is_valid():
        try:
            services.add_member(
                channel,
                user=form.cleaned_data["username"],
                role=form.cleaned_data["role"],
                actor=request.user,
            )
        except InvalidChannel as exc:
            form.add_error("username", exc.message)
        else:
            messages.success(request, f"Added {form.cleaned_data['username']}.")
            return redirect("channels:members", name=channel.name)
    return _members_page(request, channel, form, status=400)


def _member_user(username: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        raise Http404("No such member.")
    return user


@login_required
@require_POST
@channel_page
def member_role(request: HttpRequest, name: str, username: str) -> HttpResponse:
    channel = access.get_channel_for_manage(name, session_credential(request))
    member = _member_user(username)
    form = ChangeRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose contributor or viewer.")
        return redirect("channels:members", name=channel.name)
    try:
        services.change_role(
            channel, user=member, role=form.cleaned_data["role"], actor=request.user
        )
    except InvalidChannel as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"{member.username} is now a {form.cleaned_data['role']}."
        )
    return redirect("channels:members", name=channel.name)


@login_required
@require_http_methods(["GET", "POST"])
@channel_page
def member_remove(request: HttpRequest, name: str, username: str) -> HttpResponse:
    """GET asks for confirmation; POST removes the member."""
    channel = access.get_channel_for_manage(name, session_credential(request))
    member = _member_user(username)
    if request.method == "GET":
        if not channel.memberships.filter(user=member).exists():
            raise Http404("No such member.")
        return _render(
            request, channel, "confirm_remove.html", "members", member=member
        )
    try:
        services.remove_member(channel, user=member, actor=request.user)
    except InvalidChannel as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Removed {member.username}.")
    return redirect("channels:members", name=channel.name)


def _danger_page(
    request: HttpRequest,
    channel: Channel,
    *,
    transfer: TransferForm | None = None,
    delete: DeleteChannelForm | None = None,
    status: int = 200,
) -> HttpResponse:
    return _render(
        request,
        channel,
        "danger.html",
        "danger",
        status=status,
        transfer_form=transfer or TransferForm(),
        delete_form=delete or DeleteChannelForm(channel=channel),
    )


@login_required
@channel_page
def danger(request: HttpRequest, name: str) -> HttpResponse:
    channel = access.get_channel_for_manage(name, session_credential(request))
    return _danger_page(request, channel)


@login_required
@require_POST
@channel_page
def transfer(request: HttpRequest, name: str) -> HttpResponse:
    channel = access.get_channel_for_manage(name, session_credential(request))
    form = TransferForm(request.POST)
    if form.is_valid():
        new_owner = form.cleaned_data["username"]
        try:
            if not form.is_confirmed:
                # First step: a page that names the new owner and asks again.
                services.check_transfer(channel, new_owner=new_owner)
                return _render(
                    request,
                    channel,
                    "confirm_transfer.html",
                    "danger",
                    new_owner=new_owner,
                )
            services.transfer_ownership(
                channel, new_owner=new_owner, actor=request.user
            )
        except InvalidChannel as exc:
            form.add_error("username", exc.message)
        else:
            messages.success(
                request,
                f"{new_owner.username} now owns {channel.name}; "
                "you stay on as a contributor.",
            )
            return redirect("channels:detail", name=channel.name)
    return _danger_page(request, channel, transfer=form, status=400)


@login_required
@require_POST
@channel_page
def delete(request: HttpRequest, name: str) -> HttpResponse:
    channel = access.get_channel_for_manage(name, session_credential(request))
    form = DeleteChannelForm(request.POST, channel=channel)
    if not form.is_valid():
        return _danger_page(request, channel, delete=form, status=400)
    services.delete_channel(channel, actor=request.user)
    messages.success(request, f"Deleted channel {name}.")
    return redirect("channels:home")


@login_required
@channel_page
def activity(request: HttpRequest, name: str) -> HttpResponse:
    channel = access.get_channel_for_manage(name, session_credential(request))
    rows = Activity.objects.filter(channel=channel).select_related("actor")
    page = Paginator(rows, ACTIVITY_PER_PAGE).get_page(request.GET.get("page"))
    return _render(request, channel, "activity.html", "activity", page=page)
