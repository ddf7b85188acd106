"""Root URLs. Site pages come first; channel paths (``/<channel>/<subdir>/…``) last,
which is why channel names may not take the site's own top-level segments."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from channels import serving
from channels.views import pages as channel_pages

handler403 = "prefixhub.views.permission_denied"
handler404 = "prefixhub.views.page_not_found"
handler500 = "prefixhub.views.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", include("publishing.api_urls")),
    path("api/oidc/", include("publishing.oidc_urls")),
    path("", include("accounts.urls")),
    path("", include("channels.urls")),
    path("", include("packages.urls")),
    path("", include("publishing.urls")),
    *serving.urlpatterns,
    # The channel URL itself: browsers are sent to the channel page.
    path("<str:channel>", channel_pages.channel_root, name="channel-root"),
    path("<str:channel>/", channel_pages.channel_root),
]
