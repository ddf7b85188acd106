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
    path(
        "channels/<str:name>/settings/trusted-publishers/add/<str:provider>",
        views.publisher_add,
        name="publisher-add",
    ),
    path(
        "channels/<str:name>/settings/trusted-publishers/<int:publisher_id>/remove",
        views.publisher_remove,
        name="publisher-remove",
    ),
]
