"""DELETE /api/v1/delete/<channel>/<subdir>/<filename> and POST /api/v1/reindex/…."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgpack
import pytest
import zstandard
from django.conf import settings

from channels.models import RetiredShard, Subdir
from packages.models import PackageFile
from tests.artifacts import build_package
from tests.conftest import body, upload
from tests.factories import make_key


def _decode_zst(data: bytes) -> bytes:
    return zstandard.ZstdDecompressor().decompressobj().decompress(data)


def shard_index(client: Any, channel: str, subdir: str) -> dict[str, str]:
    """Package name -> shard sha256 hex, as the served shard index says."""
    response = client.get(f"/{channel}/{subdir}/repodata_shards.msgpack.zst")
    assert response.status_code == 200
    index = msgpack.unpackb(_decode_zst(body(response)))
    return {name: sha.hex() for name, sha in index["shards"].items()}


def get_shard(client: Any, channel: str, subdir: str, sha: str) -> Any:
    response = client.get(f"/{channel}/{subdir}/shards/{sha}.msgpack.zst")
    response.data = body(response)  # read it all, so the file is closed
    return response


def shard_files(client: Any, channel: str, subdir: str, name: str) -> list[str]:
    sha = shard_index(client, channel, subdir)[name]
    shard = msgpack.unpackb(_decode_zst(get_shard(client, channel, subdir, sha).data))
    return sorted([*shard["packages"], *shard["packages.conda"]])


def repodata_files(client: Any, channel: str, subdir: str) -> list[str]:
    response = client.get(f"/{channel}/{subdir}/repodata.json")
    assert response.status_code == 200
    data = json.loads(body(response))
    return sorted([*data["packages"], *data["packages.conda"]])


def stored_packages() -> list[Path]:
    root = Path(settings.STORAGES["packages"]["OPTIONS"]["location"])
    return sorted(p for p in root.rglob("*") if p.is_file())


def index_files() -> dict[str, bytes]:
    root = Path(settings.STORAGES["index"]["OPTIONS"]["location"])
    return {
        str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()
    }


def delete(client: Any, path: str, key: str | None) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    return client.delete(f"/api/v1/delete/{path}", **headers)


def reindex(client: Any, path: str, key: str | None) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}
    return client.post(f"/api/v1/reindex/{path}", **headers)


@pytest.fixture(scope="session")
def demo_v2(package_dir: Path) -> Path:
    return build_package(package_dir / "delete-reindex", "demo", "2.0")


@pytest.fixture(scope="session")
def other_pkg(package_dir: Path) -> Path:
    return build_package(package_dir / "delete-reindex", "other-tool", "0.3")


@pytest.fixture
def published(
    client: Any,
    channel: Any,
    alice_key: str,
    noarch_pkg: Path,
    demo_v2: Path,
    other_pkg: Path,
    committed: Any,
) -> None:
    """``demo`` holds demo 1.0 and 2.0 and other-tool 0.3, all indexed."""
    with committed():
        for path in (noarch_pkg, demo_v2, other_pkg):
            assert upload(client, "demo", path, alice_key).status_code == 200


@pytest.fixture
def stored(client: Any, channel: Any, alice_key: str, noarch_pkg: Path) -> None:
    """demo 1.0 stored in ``demo``, its index not built (enough for access checks)."""
    assert upload(client, "demo", noarch_pkg, alice_key).status_code == 200


# --- delete -----------------------------------------------------------------------------


def test_deleting_a_file_removes_it_from_repodata_and_its_shard(
    client: Any,
    published: None,
    alice_key: str,
    noarch_pkg: Path,
    demo_v2: Path,
    other_pkg: Path,
    committed: Any,
) -> None:
    with committed():
        response = delete(client, f"demo/noarch/{noarch_pkg.name}", alice_key)

    assert response.status_code == 200, response.content
    assert response.json() == {"deleted": f"noarch/{noarch_pkg.name}"}
    assert repodata_files(client, "demo", "noarch") == sorted(
        [demo_v2.name, other_pkg.name]
    )
    assert shard_files(client, "demo", "noarch", "demo") == [demo_v2.name]
    assert client.get(f"/demo/noarch/{noarch_pkg.name}").status_code == 404
    assert not PackageFile.objects.filter(filename=noarch_pkg.name).exists()
    assert noarch_pkg.name not in [p.name for p in stored_packages()]


def test_deleting_the_last_file_of_a_name_removes_the_name_from_the_shard_index(
    client: Any,
    published: None,
    alice_key: str,
    noarch_pkg: Path,
    demo_v2: Path,
    other_pkg: Path,
    committed: Any,
) -> None:
    for path in (noarch_pkg, demo_v2):
        with committed():
            assert (
                delete(client, f"demo/noarch/{path.name}", alice_key).status_code == 200
            )

    assert list(shard_index(client, "demo", "noarch")) == ["other-tool"]
    assert repodata_files(client, "demo", "noarch") == [other_pkg.name]


def test_the_replaced_shard_stays_fetchable_after_a_delete(
    client: Any, published: None, alice_key: str, noarch_pkg: Path, committed: Any
) -> None:
    old_sha = shard_index(client, "demo", "noarch")["demo"]

    with committed():
        delete(client, f"demo/noarch/{noarch_pkg.name}", alice_key)

    assert shard_index(client, "demo", "noarch")["demo"] != old_sha
    assert get_shard(client, "demo", "noarch", old_sha).status_code == 200
    assert RetiredShard.objects.filter(sha256=old_sha).exists()


def test_the_shard_of_a_removed_name_stays_fetchable(
    client: Any, published: None, alice_key: str, other_pkg: Path, committed: Any
) -> None:
    old_sha = shard_index(client, "demo", "noarch")["other-tool"]

    with committed():
        delete(client, f"demo/noarch/{other_pkg.name}", alice_key)

    assert "other-tool" not in shard_index(client, "demo", "noarch")
    response = get_shard(client, "demo", "noarch", old_sha)
    assert response.status_code == 200
    assert "immutable" in response["Cache-Control"]
    assert RetiredShard.objects.filter(sha256=old_sha).exists()


def test_deleting_the_last_file_of_a_subdir_leaves_it_served_and_empty(
    client: Any, channel: Any, alice_key: str, linux_pkg: Path, committed: Any
) -> None:
    with committed():
        upload(client, "demo", linux_pkg, alice_key)

    with committed():
        response = delete(client, f"demo/linux-64/{linux_pkg.name}", alice_key)

    assert response.status_code == 200
    assert shard_index(client, "demo", "linux-64") == {}
    assert repodata_files(client, "demo", "linux-64") == []
    state = Subdir.objects.get(channel=channel, name="linux-64")
    assert state.index_generation == state.repodata_generation == state.generation


def test_deleting_a_missing_file_is_not_found(
    client: Any, stored: None, alice_key: str
) -> None:
    response = delete(client, "demo/noarch/nothing-1.0-0.conda", alice_key)

    assert response.status_code == 404
    assert response.json()["detail"] == (
        "noarch/nothing-1.0-0.conda does not exist in this channel."
    )


def test_deleting_a_file_from_the_wrong_subdir_is_not_found(
    client: Any, stored: None, alice_key: str, noarch_pkg: Path
) -> None:
    response = delete(client, f"demo/linux-64/{noarch_pkg.name}", alice_key)

    assert response.status_code == 404
    assert PackageFile.objects.filter(filename=noarch_pkg.name).exists()


def test_a_contributor_may_delete(
    client: Any, stored: None, bob_key: str, noarch_pkg: Path
) -> None:
    response = delete(client, f"demo/noarch/{noarch_pkg.name}", bob_key)

    assert response.status_code == 200


def test_deleting_without_a_key_asks_for_authentication(
    client: Any, stored: None, noarch_pkg: Path
) -> None:
    response = delete(client, f"demo/noarch/{noarch_pkg.name}", None)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert PackageFile.objects.filter(filename=noarch_pkg.name).exists()


def test_deleting_with_an_unknown_key_is_unauthorised(
    client: Any, stored: None, noarch_pkg: Path
) -> None:
    response = delete(client, f"demo/noarch/{noarch_pkg.name}", "phub-" + "0" * 32)

    assert response.status_code == 401
    assert PackageFile.objects.filter(filename=noarch_pkg.name).exists()


def test_a_stranger_may_not_delete_from_a_public_channel(
    client: Any, stored: None, charlie_key: str, noarch_pkg: Path
) -> None:
    response = delete(client, f"demo/noarch/{noarch_pkg.name}", charlie_key)

    assert response.status_code == 403
    assert PackageFile.objects.filter(filename=noarch_pkg.name).exists()


def test_a_read_only_key_may_not_delete(
    client: Any, stored: None, alice: Any, noarch_pkg: Path
) -> None:
    key = make_key(alice, is_read_only=True)

    response = delete(client, f"demo/noarch/{noarch_pkg.name}", key)

    assert response.status_code == 403
    assert PackageFile.objects.filter(filename=noarch_pkg.name).exists()


def test_a_viewer_may_not_delete_and_a_stranger_sees_no_private_channel(
    client: Any,
    private_channel: Any,
    alice_key: str,
    bob_key: str,
    charlie_key: str,
    noarch_pkg: Path,
) -> None:
    upload(client, "secret", noarch_pkg, alice_key)
    path = f"secret/noarch/{noarch_pkg.name}"

    assert delete(client, path, bob_key).status_code == 403
    assert delete(client, path, charlie_key).status_code == 404
    assert PackageFile.objects.filter(channel=private_channel).count() == 1


# --- reindex ----------------------------------------------------------------------------


def test_reindexing_answers_200_and_changes_nothing_that_is_current(
    client: Any, published: None, alice_key: str, committed: Any
) -> None:
    before = index_files()

    with committed():
        first = reindex(client, "demo/noarch", alice_key)
    with committed():
        second = reindex(client, "demo/noarch", alice_key)

    assert first.status_code == second.status_code == 200
    assert first.json()["subdir"] == "noarch"
    assert second.json()["generation"] > first.json()["generation"]
    assert index_files() == before
    state = Subdir.objects.get(channel__name="demo", name="noarch")
    assert state.index_generation == state.repodata_generation == state.generation


def test_reindexing_restores_index_files_lost_from_storage(
    client: Any, published: None, alice_key: str, committed: Any
) -> None:
    before_all = index_files()
    # Each upload answered once indexed, so earlier shards were retired on the way;
    # only what the current index uses needs restoring.
    retired = set(RetiredShard.objects.values_list("sha256", flat=True))
    root = Path(settings.STORAGES["index"]["OPTIONS"]["location"])
    for relative in index_files():
        (root / relative).unlink()
    before = {
        name: data
        for name, data in before_all.items()
        if Path(name).name.split(".")[0] not in retired
    }

    with committed():
        response = reindex(client, "demo/noarch", alice_key)

    assert response.status_code == 200
    assert index_files() == before


def test_reindexing_an_unused_platform_publishes_its_empty_index(
    client: Any, channel: Any, alice_key: str, committed: Any
) -> None:
    with committed():
        response = reindex(client, "demo/osx-arm64", alice_key)

    assert response.status_code == 200
    state = Subdir.objects.get(channel=channel, name="osx-arm64")
    assert state.index_sha256
    assert state.repodata_sha256
    assert shard_index(client, "demo", "osx-arm64") == {}


def test_reindexing_an_unknown_platform_is_not_found(
    client: Any, channel: Any, alice_key: str
) -> None:
    response = reindex(client, "demo/linux-65", alice_key)

    assert response.status_code == 404
    assert "linux-65" in response.json()["detail"]
    assert not Subdir.objects.filter(name="linux-65").exists()


def test_reindexing_an_unknown_channel_is_not_found(
    client: Any, channel: Any, alice_key: str
) -> None:
    assert reindex(client, "nowhere/noarch", alice_key).status_code == 404


@pytest.mark.parametrize(
    ("who", "status"), [(None, 401), ("charlie", 403), ("bob-read-only", 403)]
)
def test_reindexing_needs_write_access(
    client: Any, channel: Any, bob: Any, charlie_key: str, who: str | None, status: int
) -> None:
    key = {
        None: None,
        "charlie": charlie_key,
        "bob-read-only": make_key(bob, is_read_only=True),
    }[who]

    response = reindex(client, "demo/noarch", key)

    assert response.status_code == status


def test_a_contributor_may_reindex(client: Any, channel: Any, bob_key: str) -> None:
    assert reindex(client, "demo/noarch", bob_key).status_code == 200


def test_a_viewer_may_not_reindex(
    client: Any, private_channel: Any, bob_key: str
) -> None:
    assert reindex(client, "secret/noarch", bob_key).status_code == 403


# --- methods ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/delete/demo/noarch/demo-1.0-h0_0.conda",
        "/api/v1/reindex/demo/noarch",
        "/api/v1/upload/demo",
    ],
)
@pytest.mark.parametrize("with_key", [True, False])
def test_get_is_not_allowed_on_the_write_endpoints(
    client: Any, channel: Any, alice_key: str, url: str, with_key: bool
) -> None:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {alice_key}"} if with_key else {}

    response = client.get(url, **headers)

    assert response.status_code == 405


def test_post_is_not_allowed_on_delete_nor_delete_on_reindex(
    client: Any, stored: None, alice_key: str, noarch_pkg: Path
) -> None:
    auth = {"HTTP_AUTHORIZATION": f"Bearer {alice_key}"}

    assert (
        client.post(f"/api/v1/delete/demo/noarch/{noarch_pkg.name}", **auth).status_code
        == 405
    )
    assert client.delete("/api/v1/reindex/demo/noarch", **auth).status_code == 405
    assert PackageFile.objects.filter(filename=noarch_pkg.name).exists()
