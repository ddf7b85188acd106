"""Channel pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .models import Channel


def home(request: HttpRequest) -> HttpResponse:
    channels = Channel.objects.visible_to(request.user).order_by("name")[:50]
    return render(request, "channels/home.html", {"channels": channels})
