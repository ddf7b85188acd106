"""The package page and deleting a file from it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from packages.models import PackageFile
from tests.channels.visitors import VISITORS, WRITERS, visit
from tests.conftest import upload
from tests.packages.rows import add_rows, package_row


@pytest.fixture
def files(channel: Any, private_channel: Any, alice: Any, bob: Any) -> None:
    add_rows(
        channel,
        package_row(channel, "tool", "1.0", uploaded_by=alice, age=50, license="MIT"),
        package_row(channel, "tool", "2.0", subdir="linux-64", uploaded_by=bob, age=10,
                    license="BSD-3-Clause", depends=["python >=3.11", "libzlib"],
                    constrains=["tool-extras 2.*"], summary="A tool"),
        package_row(channel, "tool", "2.0", subdir="osx-arm64", build="h1_1", uploaded_by=bob, age=11),
    )  # fmt: skip
    add_rows(
        private_channel,
        package_row(private_channel, "hushpkg", "0.1", subdir="linux-64"),
    )
    add_rows(channel, package_row(channel, "hushpkg", "9.9"))  # same name, public


@pytest.fixture
def users(alice: Any, bob: Any, charlie: Any) -> dict[str, Any]:
    return {"alice": alice, "bob": bob, "charlie": charlie}


def test_package_page_shows_versions_platforms_builds_and_file_details(
    client: Client, files: None, settings: Any
) -> None:
    response = client.get("/channels/demo/packages/tool")

    content = response.content.decode()
    assert response.status_code == 200
    overview = response.context["package"]
    assert overview.platforms == ["linux-64", "noarch", "osx-arm64"]
    assert [
        (r.version, [[b.build for b in cell] for cell in r.cells])
        for r in overview.rows
    ] == [
        ("2.0", [["h0_0"], [], ["h1_1"]]),
        ("1.0", [[], ["h0_0"], []]),
    ]
    assert overview.selected_version == "2.0"
    assert "BSD-3-Clause" in content
    assert "A tool" in content
    assert "python &gt;=3.11" in content
    assert "tool-extras 2.*" in content
    assert "by bob" in content
    assert "1.2\xa0KB" in content
    assert PackageFile.objects.get(subdir="linux-64", name="tool").sha256 in content
    assert 'href="/demo/linux-64/tool-2.0-h0_0.conda"' in content
    assert f"pixi workspace channel add {settings.PUBLIC_URL}/demo" in content
    assert ">pixi add tool==2.0</code>" in content
    assert f"conda install --channel {settings.PUBLIC_URL}/demo tool==2.0" in content


def test_package_page_shows_the_files_of_a_chosen_version(
    client: Client, files: None
) -> None:
    response = client.get("/channels/demo/packages/tool", {"version": "1.0"})

    assert [d.file.filename for d in response.context["package"].files] == [
        "tool-1.0-h0_0.conda"
    ]
    assert b"by alice" in response.content


def test_unknown_package_is_not_found(client: Client, files: None) -> None:
    assert client.get("/channels/demo/packages/nope").status_code == 404


@pytest.mark.parametrize("who", ["anonymous", "charlie"])
def test_private_package_pages_reveal_nothing_to_strangers(
    client: Client, files: None, charlie: Any, who: str
) -> None:
    if who == "charlie":
        client.force_login(charlie)

    for url in (
        "/channels/secret/packages/hushpkg",
        "/channels/secret/packages/nope",
        "/channels/secret/files/linux-64/hushpkg-0.1-h0_0.conda/delete",
    ):
        response = client.get(url)
        assert response.status_code in (404, 302)
        assert b"0.1" not in response.content


def test_a_viewer_sees_the_private_package_without_a_delete_button(
    client: Client, files: None, bob: Any
) -> None:
    client.force_login(bob)

    response = client.get("/channels/secret/packages/hushpkg")

    assert response.status_code == 200
    assert b"/delete" not in response.content


def test_contributors_see_a_delete_button(
    client: Client, files: None, bob: Any
) -> None:
    client.force_login(bob)

    response = client.get("/channels/demo/packages/tool")

    assert (
        b'href="/channels/demo/files/linux-64/tool-2.0-h0_0.conda/delete"'
        in response.content
    )


@pytest.mark.parametrize("role", VISITORS)
def test_deleting_a_file_is_for_owners_and_contributors(
    files: None, users: dict[str, Any], role: str
) -> None:
    client, name = visit(role, users)
    filename = "tool-1.0-h0_0.conda" if name == "demo" else "hushpkg-0.1-h0_0.conda"
    subdir = "noarch" if name == "demo" else "linux-64"
    url = f"/channels/{name}/files/{subdir}/{filename}/delete"

    confirm = client.get(url)
    response = client.post(url)

    expected = WRITERS[role]
    assert confirm.status_code == expected
    if expected == 200:
        assert b"Delete this file?" in confirm.content
        assert response.status_code == 302
        assert not PackageFile.objects.filter(filename=filename).exists()
    else:
        assert response.status_code == expected
        assert PackageFile.objects.filter(filename=filename).exists()


def test_deleting_a_file_needs_a_csrf_token(files: None, bob: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(bob)

    response = client.post("/channels/demo/files/noarch/tool-1.0-h0_0.conda/delete")

    assert response.status_code == 403
    assert PackageFile.objects.filter(filename="tool-1.0-h0_0.conda").exists()


def test_deleting_an_unknown_file_is_not_found(
    client: Client, files: None, bob: Any
) -> None:
    client.force_login(bob)

    assert (
        client.post("/channels/demo/files/noarch/nope-1-0.conda/delete").status_code
        == 404
    )


def test_deleting_the_last_file_removes_it_from_the_index_and_goes_to_the_channel(
    client: Client,
    channel: Any,
    bob: Any,
    bob_key: str,
    noarch_pkg: Path,
    committed: Any,
) -> None:
    with committed():
        upload(Client(), "demo", noarch_pkg, bob_key)
    client.force_login(bob)

    with committed():
        response = client.post(f"/channels/demo/files/noarch/{noarch_pkg.name}/delete")

    assert response["Location"] == "/channels/demo"
    repodata = client.get("/demo/noarch/repodata.json")
    assert noarch_pkg.name.encode() not in b"".join(repodata.streaming_content)
    assert channel.activity.first().verb == "deleted"


def test_deleting_one_of_several_files_returns_to_the_package(
    client: Client, files: None, bob: Any
) -> None:
    client.force_login(bob)

    response = client.post("/channels/demo/files/noarch/tool-1.0-h0_0.conda/delete")

    assert response["Location"] == "/channels/demo/packages/tool"


def test_each_build_shows_its_upload_time_and_uploader(
    client: Client, files: None
) -> None:
    overview = client.get("/channels/demo/packages/tool").context["package"]
    cells = {
        (row.version, platform): [(b.build, b.uploaded_by) for b in cell]
        for row in overview.rows
        for platform, cell in zip(overview.platforms, row.cells, strict=True)
    }
    assert cells["2.0", "linux-64"] == [("h0_0", "bob")]
    assert cells["2.0", "osx-arm64"] == [("h1_1", "bob")]
    assert cells["1.0", "noarch"] == [("h0_0", "alice")]


def test_the_about_card_shows_description_license_and_links(
    client: Client, channel: Any
) -> None:
    about = {
        "summary": "Short words",
        "description": "A longer\ndescription.",
        "license": "Apache-2.0",
        "home": "https://home.example.org",
        "dev_url": "https://github.com/example/rich",
        "doc_url": "https://docs.example.org",
    }
    row = package_row(channel, "rich", "1.0")
    row.about = about
    add_rows(channel, row)

    content = client.get("/channels/demo/packages/rich").content.decode()

    assert "Short words" in content
    assert "A longer\ndescription." in content
    assert "Apache-2.0" in content
    for label, url in [
        ("Home page", "https://home.example.org"),
        ("Source", "https://github.com/example/rich"),
        ("Documentation", "https://docs.example.org"),
    ]:
        assert f'<dt>{label}</dt><dd><a href="{url}"' in content


def test_dependencies_in_the_same_channel_link_to_their_pages(
    client: Client, channel: Any, private_channel: Any
) -> None:
    add_rows(
        channel,
        package_row(channel, "app", "1.0", depends=["libfoo >=1.2", "python >=3.11"]),
        package_row(channel, "libfoo", "1.3"),
    )
    add_rows(private_channel, package_row(private_channel, "python", "3.12"))

    content = client.get("/channels/demo/packages/app").content.decode()

    assert '<a href="/channels/demo/packages/libfoo">libfoo &gt;=1.2</a>' in content
    assert "<li>python &gt;=3.11</li>" in content  # not in this channel: no link
