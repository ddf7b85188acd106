"""A delete and an at-once re-upload of the same bytes share one stored object.

Stored package files are content-addressed, so the clean-up that a delete leaves
for after its commit must never remove an object that a row refers to again.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from django.core.files.storage import FileSystemStorage
from django.utils.functional import empty

from packages.models import PackageFile
from prefixhub.storage import package_storage
from tests.conftest import body, upload


def _download(client: Any, path: Path) -> bytes:
    response = client.get(f"/demo/noarch/{path.name}")
    assert response.status_code == 200
    return body(response)


def test_a_late_clean_up_of_a_delete_keeps_the_bytes_a_re_upload_stored(
    client: Any,
    channel: Any,
    alice_key: str,
    noarch_pkg: Path,
    committed: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with committed():
        assert upload(client, "demo", noarch_pkg, alice_key).status_code == 200
    key = PackageFile.objects.get().storage_key

    # The delete commits; its clean-up of the stored bytes has not run yet.
    with django_capture_on_commit_callbacks() as delete_clean_up:
        response = client.delete(
            f"/api/v1/delete/demo/noarch/{noarch_pkg.name}",
            HTTP_AUTHORIZATION=f"Bearer {alice_key}",
        )
        assert response.status_code == 200
    # The same bytes come back at once, under the same content-addressed key.
    with committed():
        assert upload(client, "demo", noarch_pkg, alice_key).status_code == 200
    assert PackageFile.objects.get().storage_key == key
    for clean_up in delete_clean_up:
        clean_up()

    assert package_storage.exists(key)
    assert _download(client, noarch_pkg) == noarch_pkg.read_bytes()


def test_a_delete_with_no_re_upload_still_removes_the_bytes(
    client: Any, channel: Any, alice_key: str, noarch_pkg: Path, committed: Any
) -> None:
    with committed():
        assert upload(client, "demo", noarch_pkg, alice_key).status_code == 200
        key = PackageFile.objects.get().storage_key
        response = client.delete(
            f"/api/v1/delete/demo/noarch/{noarch_pkg.name}",
            HTTP_AUTHORIZATION=f"Bearer {alice_key}",
        )
        assert response.status_code == 200
    assert not package_storage.exists(key)


class CleanUpAfterSave(FileSystemStorage):
    """A file system whose next save is followed by a callback (a racing clean-up)."""

    after_save: list[Any] = []

    def _save(self, name: str, content: Any) -> str:
        saved = super()._save(name, content)
        while self.after_save:
            self.after_save.pop()()
        return saved


def test_bytes_removed_between_an_uploads_store_and_commit_are_stored_again(
    client: Any,
    channel: Any,
    alice_key: str,
    noarch_pkg: Path,
    committed: Any,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with committed():
        assert upload(client, "demo", noarch_pkg, alice_key).status_code == 200
    key = PackageFile.objects.get().storage_key
    with django_capture_on_commit_callbacks() as delete_clean_up:
        response = client.delete(
            f"/api/v1/delete/demo/noarch/{noarch_pkg.name}",
            HTTP_AUTHORIZATION=f"Bearer {alice_key}",
        )
        assert response.status_code == 200

    # The re-upload stores its bytes; the delete's clean-up runs right then, before
    # the upload records its row, and finds no row referring to the key.
    location = settings.STORAGES["packages"]["OPTIONS"]["location"]
    settings.STORAGES = {
        **settings.STORAGES,
        "packages": {
            "BACKEND": f"{__name__}.CleanUpAfterSave",
            "OPTIONS": {"location": location},
        },
    }
    package_storage._wrapped = empty
    CleanUpAfterSave.after_save[:] = list(delete_clean_up)
    with committed():
        assert upload(client, "demo", noarch_pkg, alice_key).status_code == 200

    assert CleanUpAfterSave.after_save == []
    assert package_storage.exists(key)
    with package_storage.open(key) as handle:
        stored = handle.read()
    assert hashlib.sha256(stored).hexdigest() == PackageFile.objects.get().sha256
