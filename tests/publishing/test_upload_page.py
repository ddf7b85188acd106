"""The web upload page, and the browser's way into the upload API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from packages.models import PackageFile
from tests.channels.visitors import VISITORS, WRITERS, visit
from tests.conftest import upload


@pytest.fixture
def users(
    channel: Any, private_channel: Any, alice: Any, bob: Any, charlie: Any
) -> dict[str, Any]:
    return {"alice": alice, "bob": bob, "charlie": charlie}


@pytest.mark.parametrize("role", VISITORS)
def test_the_upload_page_is_for_owners_and_contributors(
    users: dict[str, Any], role: str
) -> None:
    client, name = visit(role, users)

    response = client.get(f"/channels/{name}/settings/upload")

    assert response.status_code == WRITERS[role]


def test_the_upload_page_posts_to_the_upload_api_and_shows_the_limit(
    client: Client, users: dict[str, Any], settings: Any
) -> None:
    settings.PREFIXHUB_MAX_UPLOAD_SIZE = 5 * 1024 * 1024
    client.force_login(users["bob"])

    response = client.get("/channels/demo/settings/upload")

    content = response.content.decode()
    assert 'data-upload-url="/api/v1/upload/demo"' in content
    assert 'data-max-size="5242880"' in content
    assert "5.0\xa0MB" in content
    assert 'accept=".conda,.tar.bz2"' in content
    assert 'name="csrfmiddlewaretoken"' in content
    assert "csrftoken" in response.cookies
    assert "js/upload.js" in content


def test_a_contributor_sees_upload_but_not_the_owner_menu(
    client: Client, users: dict[str, Any]
) -> None:
    client.force_login(users["bob"])

    content = client.get("/channels/demo/settings/upload").content

    assert b"/settings/upload" in content
    assert b"/settings/members" not in content
    assert b"/settings/danger" not in content


def _browser(user: Any) -> tuple[Client, str]:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/channels/demo/settings/upload")
    return client, client.cookies["csrftoken"].value


def test_the_browser_uploads_a_raw_body_with_its_session_and_csrf_token(
    users: dict[str, Any], noarch_pkg: Path
) -> None:
    client, token = _browser(users["bob"])

    response = upload(client, "demo", noarch_pkg, None, HTTP_X_CSRFTOKEN=token)

    assert response.status_code == 200, response.content
    assert PackageFile.objects.get(filename=noarch_pkg.name).uploaded_by == users["bob"]


def test_a_session_upload_without_the_csrf_token_is_refused(
    users: dict[str, Any], noarch_pkg: Path
) -> None:
    client, _ = _browser(users["bob"])

    response = upload(client, "demo", noarch_pkg, None)

    assert response.status_code in (401, 403)
    assert not PackageFile.objects.exists()


def test_a_viewer_session_cannot_upload(
    users: dict[str, Any], noarch_pkg: Path
) -> None:
    client = Client()
    client.force_login(users["bob"])

    response = upload(client, "secret", noarch_pkg, None)

    assert response.status_code == 403
    assert not PackageFile.objects.exists()
