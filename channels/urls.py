from __future__ import annotations

from django.urls import path

from publishing import views as publishing_views

from .views import pages
from .views import settings as settings_views

app_name = "channels"

urlpatterns = [
    path("", pages.home, name="home"),
    path("channels/new", pages.new, name="new"),
    path("channels/new/check", pages.check_name, name="check-name"),
    path("channels/<str:name>", pages.detail, name="detail"),
    path("channels/<str:name>/settings", settings_views.general, name="settings"),
    path(
        "channels/<str:name>/settings/members",
        settings_views.members,
        name="members",
    ),
    path(
        "channels/<str:name>/settings/members/add",
        settings_views.member_add,
        name="member-add",
    ),
    path(
        "channels/<str:name>/settings/members/<str:username>/role",
        settings_views.member_role,
        name="member-role",
    ),
    path(
        "channels/<str:name>/settings/members/<str:username>/remove",
        settings_views.member_remove,
        name="member-remove",
    ),
    path(
        "channels/<str:name>/settings/trusted-publishers",
        publishing_views.trusted_publishers,
        name="trusted-publishers",
    ),
    path("channels/<str:name>/settings/danger", settings_views.danger, name="danger"),
    path(
        "channels/<str:name>/settings/transfer",
        settings_views.transfer,
        name="transfer",
    ),
    path("channels/<str:name>/settings/delete", settings_views.delete, name="delete"),
    path(
        "channels/<str:name>/settings/activity",
        settings_views.activity,
        name="activity",
    ),
]
