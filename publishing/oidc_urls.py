from __future__ import annotations

from django.urls import path

from .oidc import views

app_name = "oidc"

urlpatterns = [
    path("mint_token", views.mint_token, name="mint-token"),
    path("audience", views.audience, name="audience"),
]
