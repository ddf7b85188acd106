"""Domain errors on website pages become Django's 404 and 403 (rendered in style)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse

from .exceptions import AccessForbidden, ChannelNotFound


def channel_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Turn ChannelNotFound into 404 and AccessForbidden into 403 for a page view."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(*args, **kwargs)
        except ChannelNotFound as exc:
            raise Http404(exc.message) from None
        except AccessForbidden as exc:
            raise PermissionDenied(exc.message) from None

    return wrapper
