from __future__ import annotations

from django.urls import path

from . import api

app_name = "publishing-api"

urlpatterns = [
    path("upload/<str:channel>", api.UploadView.as_view(), name="upload"),
    path(
        "delete/<str:channel>/<str:subdir>/<str:filename>",
        api.DeleteView.as_view(),
        name="delete",
    ),
    path(
        "reindex/<str:channel>/<str:subdir>", api.ReindexView.as_view(), name="reindex"
    ),
]
