from __future__ import annotations

from django.urls import path

from . import views

app_name = "packages"

urlpatterns = [
    path(
        "channels/<str:name>/packages/<str:package>",
        views.detail,
        name="detail",
    ),
]
