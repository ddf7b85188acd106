"""The admin site: named prefixhub, signed in through the site's own login.

The stock admin login form checks passwords itself, without the site's rate limits;
here it sends people to the site's login (allauth, rate limited) and back.
"""

from __future__ import annotations

from typing import Any

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.http import HttpRequest, HttpResponse


class AdminSite(admin.AdminSite):
    site_header = "prefixhub administration"
    site_title = "prefixhub admin"
    index_title = "Site administration"

    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        stock_login = super().login
        return secure_admin_login(lambda req: stock_login(req, extra_context))(request)

    def get_app_list(
        self, request: HttpRequest, app_label: str | None = None
    ) -> list[Any]:
        """One section per name: allauth's "Accounts" (email addresses) joins ours."""
        merged: dict[str, dict[str, Any]] = {}
        for app in super().get_app_list(request, app_label):
            section = merged.setdefault(app["name"], {**app, "models": []})
            section["models"] = sorted(
                [*section["models"], *app["models"]], key=lambda m: str(m["name"])
            )
        return list(merged.values())


class ReadOnlyAdmin(admin.ModelAdmin):
    """Internal bookkeeping (leases, shard names, the audit log): staff look, the
    services write."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
