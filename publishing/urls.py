from __future__ import annotations

from django.urls import path

from . import views

app_name = "publishing"

urlpatterns = [
    path("channels/<str:name>/settings/upload", views.upload_page, name="upload-page"),
    path(
        "channels/<str:name>/files/<str:subdir>/<str:filename>/delete",
        views.delete_file,
        name="file-delete",
    ),
]
