from __future__ import annotations

from django.contrib.admin.apps import AdminConfig as StockAdminConfig


class AdminConfig(StockAdminConfig):
    """Django's admin, on prefixhub's admin site (``prefixhub/admin.py``)."""

    default_site = "prefixhub.admin.AdminSite"
