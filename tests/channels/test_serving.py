"""The channel URLs conda clients read: index files, shards, package files, and who
may read them (protocol doc, sections 3, 7 and 8)."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgpack
import pytest
import zstandard
from django.utils import timezone

from accounts.models import ApiKey
from channels.models import Subdir
from tests.artifacts import build_package
from tests.conftest import body, upload
from tests.factories import make_channel, make_key

INDEX = "repodata_shards.msgpack.zst"
INDEX_FILES = [INDEX, "repodata.json", "repodata.json.zst"]


def _decode_zst(data: bytes) -> bytes:
    return zstandard.ZstdDecompressor().decompressobj().decompress(data)


def get(client: Any, url: str, **headers: Any) -> tuple[Any, bytes]:
    """GET ``url``; the response and its whole body (which also closes files)."""
    response = client.get(url, **headers)
    return response, body(response)


def bearer(key: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def shard_sha(client: Any, channel: str, subdir: str, name: str, **auth: Any) -> str:
    response, data = get(client, f"/{channel}/{subdir}/{INDEX}", **auth)
    assert response.status_code == 200
    return bytes(msgpack.unpackb(_decode_zst(data))["shards"][name]).hex()


@pytest.fixture(scope="session")
def hush_pkg(package_dir: Path) -> Path:
    """The package of the private channel: its name must never leak."""
    return build_package(package_dir / "serving", "hushpkg", "0.1")


@pytest.fixture
def public_files(
    client: Any, channel: Any, alice_key: str, noarch_pkg: Path, committed: Any
) -> dict[str, str]:
    """demo 1.0 published in ``demo``; the URL of each kind of file."""
    with committed():
        assert upload(client, "demo", noarch_pkg, alice_key).status_code == 200
    sha = shard_sha(client, "demo", "noarch", "demo")
    return {
        INDEX: f"/demo/noarch/{INDEX}",
        "repodata.json": "/demo/noarch/repodata.json",
        "repodata.json.zst": "/demo/noarch/repodata.json.zst",
        "shard": f"/demo/noarch/shards/{sha}.msgpack.zst",
        "package": f"/demo/noarch/{noarch_pkg.name}",
    }


@pytest.fixture
def secret_files(
    client: Any, private_channel: Any, alice_key: str, hush_pkg: Path, committed: Any
) -> dict[str, str]:
    """hushpkg 0.1 published in the private ``secret``; the path of each file."""
    with committed():
        assert upload(client, "secret", hush_pkg, alice_key).status_code == 200
    sha = shard_sha(client, "secret", "noarch", "hushpkg", **bearer(alice_key))
    return {
        INDEX: f"secret/noarch/{INDEX}",
        "repodata.json": "secret/noarch/repodata.json",
        "repodata.json.zst": "secret/noarch/repodata.json.zst",
        "shard": f"secret/noarch/shards/{sha}.msgpack.zst",
        "package": f"secret/noarch/{hush_pkg.name}",
    }


FILE_KINDS = [INDEX, "repodata.json", "repodata.json.zst", "shard", "package"]


def assert_reveals_nothing(data: bytes, secret_files: dict[str, str]) -> None:
    assert b"hushpkg" not in data
    shard_hex = secret_files["shard"].rsplit("/", 1)[1].split(".")[0]
    assert shard_hex.encode() not in data


# --- public channels ----------------------------------------------------------------


def test_a_public_channel_is_readable_without_credentials(
    client: Any, public_files: dict[str, str], noarch_pkg: Path
) -> None:
    for kind in FILE_KINDS:
        response, data = get(client, public_files[kind])

        assert response.status_code == 200, kind
        assert data, kind
    assert data == noarch_pkg.read_bytes()


def test_served_index_files_list_the_published_package(
    client: Any, public_files: dict[str, str], noarch_pkg: Path
) -> None:
    plain = json.loads(get(client, public_files["repodata.json"])[1])
    packed = json.loads(_decode_zst(get(client, public_files["repodata.json.zst"])[1]))
    shard = msgpack.unpackb(_decode_zst(get(client, public_files["shard"])[1]))

    assert plain == packed
    assert list(plain["packages.conda"]) == [noarch_pkg.name]
    assert list(shard["packages.conda"]) == [noarch_pkg.name]


def test_index_files_have_their_content_types(
    client: Any, public_files: dict[str, str]
) -> None:
    types = {
        kind: get(client, public_files[kind])[0]["Content-Type"] for kind in FILE_KINDS
    }

    assert types == {
        INDEX: "application/zstd",
        "repodata.json": "application/json",
        "repodata.json.zst": "application/zstd",
        "shard": "application/zstd",
        "package": "application/octet-stream",
    }


@pytest.mark.parametrize("filename", INDEX_FILES)
def test_noarch_index_files_exist_as_soon_as_a_channel_exists(
    client: Any, channel: Any, filename: str
) -> None:
    # No index build has run yet (nothing was committed): still valid and empty.
    response, data = get(client, f"/demo/noarch/{filename}")

    assert response.status_code == 200
    assert_empty_document(filename, data, "noarch")


def test_a_new_channel_publishes_its_noarch_index_on_commit(
    client: Any, alice: Any, committed: Any
) -> None:
    with committed():
        created = make_channel("fresh", owner=alice)

    state = Subdir.objects.get(channel=created, name="noarch")
    assert state.index_sha256
    assert state.repodata_sha256
    for filename in INDEX_FILES:
        response, data = get(client, f"/fresh/noarch/{filename}")
        assert response.status_code == 200
        assert response["ETag"]
        assert_empty_document(filename, data, "noarch")


def assert_empty_document(filename: str, data: bytes, subdir: str) -> None:
    if filename == INDEX:
        index = msgpack.unpackb(_decode_zst(data))
        assert index["info"]["subdir"] == subdir
        assert index["info"]["base_url"] == ""
        assert index["info"]["shards_base_url"] == "./shards/"
        assert index["shards"] == {}
        return
    if filename.endswith(".zst"):
        data = _decode_zst(data)
    assert json.loads(data) == {
        "info": {"subdir": subdir},
        "packages": {},
        "packages.conda": {},
        "repodata_version": 1,
    }


@pytest.mark.parametrize("filename", INDEX_FILES)
def test_a_known_platform_without_packages_serves_empty_documents(
    client: Any, channel: Any, filename: str
) -> None:
    response, data = get(client, f"/demo/osx-arm64/{filename}")

    assert response.status_code == 200
    assert_empty_document(filename, data, "osx-arm64")
    assert not Subdir.objects.filter(name="osx-arm64").exists()


def test_files_missing_from_a_known_platform_are_not_found(
    client: Any, channel: Any
) -> None:
    package, _ = get(client, "/demo/osx-arm64/demo-1.0-0.conda")
    shard, _ = get(client, "/demo/osx-arm64/shards/" + "0" * 64 + ".msgpack.zst")
    bad_name, _ = get(client, "/demo/osx-arm64/shards/not-a-hash.msgpack.zst")

    assert package.status_code == shard.status_code == bad_name.status_code == 404
    assert package["Content-Type"] == "application/json"


@pytest.mark.parametrize("filename", [*INDEX_FILES, "demo-1.0-0.conda"])
def test_an_unknown_platform_is_not_found(
    client: Any, channel: Any, filename: str
) -> None:
    response, data = get(client, f"/demo/linux-65/{filename}")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "linux-65" in json.loads(data)["detail"]


def test_shards_of_an_unknown_platform_are_not_found(client: Any, channel: Any) -> None:
    response, _ = get(client, "/demo/linux-65/shards/" + "0" * 64 + ".msgpack.zst")

    assert response.status_code == 404


def test_channel_root_files_are_not_published(client: Any, channel: Any) -> None:
    response, _ = get(client, "/demo/notices.json")

    assert response.status_code == 404


def test_channel_urls_only_answer_reads(
    client: Any, public_files: dict[str, str]
) -> None:
    for url in (public_files[INDEX], public_files["shard"], "/demo/notices.json"):
        assert client.post(url).status_code == 405


# --- HEAD, validators and caching ------------------------------------------------------


@pytest.mark.parametrize("published", [True, False])
def test_head_on_repodata_zst_gives_its_length_and_no_body(
    client: Any, channel: Any, request: pytest.FixtureRequest, published: bool
) -> None:
    if published:
        request.getfixturevalue("public_files")
    _, data = get(client, "/demo/noarch/repodata.json.zst")

    response = client.head("/demo/noarch/repodata.json.zst")

    assert response.status_code == 200
    assert response["Content-Length"] == str(len(data))
    assert body(response) == b""


def test_head_gives_the_length_of_any_file(
    client: Any, public_files: dict[str, str]
) -> None:
    for kind in FILE_KINDS:
        _, data = get(client, public_files[kind])

        response = client.head(public_files[kind])

        assert response.status_code == 200, kind
        assert response["Content-Length"] == str(len(data)), kind
        assert body(response) == b"", kind


def test_a_matching_etag_gives_304(client: Any, public_files: dict[str, str]) -> None:
    for kind in FILE_KINDS:
        url = public_files[kind]
        first, _ = get(client, url)
        etag = first["ETag"]

        again, data = get(client, url, HTTP_IF_NONE_MATCH=etag)
        listed, _ = get(client, url, HTTP_IF_NONE_MATCH=f'"0000", {etag}')
        star, _ = get(client, url, HTTP_IF_NONE_MATCH="*")

        assert etag.startswith('"') and etag.endswith('"'), kind
        assert again.status_code == listed.status_code == star.status_code == 304
        assert data == b"", kind
        assert again["ETag"] == etag, kind
        assert again["Cache-Control"] == first["Cache-Control"], kind


def test_a_stale_etag_gets_the_file(client: Any, public_files: dict[str, str]) -> None:
    for kind in FILE_KINDS:
        response, data = get(client, public_files[kind], HTTP_IF_NONE_MATCH='"old"')

        assert response.status_code == 200, kind
        assert data, kind


def test_etags_are_the_content_hashes(
    client: Any, public_files: dict[str, str], noarch_pkg: Path
) -> None:
    import hashlib

    for kind in FILE_KINDS:
        response, data = get(client, public_files[kind])
        assert response["ETag"] == f'"{hashlib.sha256(data).hexdigest()}"', kind


def test_the_index_changes_its_etag_when_a_package_arrives(
    client: Any,
    public_files: dict[str, str],
    alice_key: str,
    linux_pkg: Path,
    package_dir: Path,
    committed: Any,
) -> None:
    before = {kind: get(client, public_files[kind])[0]["ETag"] for kind in INDEX_FILES}
    with committed():
        newer = build_package(package_dir / "serving", "demo", "3.0")
        upload(client, "demo", newer, alice_key)

    for kind in INDEX_FILES:
        response, _ = get(client, public_files[kind], HTTP_IF_NONE_MATCH=before[kind])
        assert response.status_code == 200, kind
        assert response["ETag"] != before[kind]


def test_index_files_carry_last_modified(
    client: Any, public_files: dict[str, str]
) -> None:
    for kind in INDEX_FILES:
        response, _ = get(client, public_files[kind])
        assert response["Last-Modified"].endswith(" GMT")


def test_shards_are_cached_as_immutable(
    client: Any, public_files: dict[str, str]
) -> None:
    response, _ = get(client, public_files["shard"])

    assert response["Cache-Control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize(
    ("max_age", "expected"), [(0, "public, no-cache"), (120, "public, max-age=120")]
)
def test_index_files_are_cached_as_configured(
    client: Any,
    public_files: dict[str, str],
    settings: Any,
    max_age: int,
    expected: str,
) -> None:
    settings.PREFIXHUB_INDEX_MAX_AGE = max_age

    for kind in INDEX_FILES:
        response, _ = get(client, public_files[kind])
        assert response["Cache-Control"] == expected, kind


def test_unbuilt_index_files_are_never_cached(client: Any, channel: Any) -> None:
    for filename in INDEX_FILES:
        response, _ = get(client, f"/demo/osx-arm64/{filename}")
        assert response["Cache-Control"] == "no-cache"


def test_package_files_are_cached_briefly(
    client: Any, public_files: dict[str, str]
) -> None:
    response, _ = get(client, public_files["package"])

    assert response["Cache-Control"] == "public, max-age=300"


def test_private_files_are_not_stored_by_shared_caches_unchecked(
    client: Any, secret_files: dict[str, str], bob_key: str
) -> None:
    controls = {
        kind: get(client, "/" + secret_files[kind], **bearer(bob_key))[0][
            "Cache-Control"
        ]
        for kind in FILE_KINDS
    }

    assert controls == {
        INDEX: "no-cache, must-revalidate",
        "repodata.json": "no-cache, must-revalidate",
        "repodata.json.zst": "no-cache, must-revalidate",
        "shard": "private, max-age=31536000, immutable",
        "package": "private, max-age=300",
    }


# --- private channels: who may read -----------------------------------------------------


def test_a_private_channel_asks_anonymous_readers_to_authenticate(
    client: Any, secret_files: dict[str, str]
) -> None:
    for kind in FILE_KINDS:
        response, data = get(client, "/" + secret_files[kind])
        head = client.head("/" + secret_files[kind])

        assert response.status_code == head.status_code == 401, kind
        assert response["WWW-Authenticate"] == 'Bearer realm="prefixhub"'
        assert head["WWW-Authenticate"] == 'Bearer realm="prefixhub"'
        assert response["Cache-Control"] == "no-store"
        assert_reveals_nothing(data, secret_files)


def test_a_private_channel_forbids_a_valid_key_without_access(
    client: Any, secret_files: dict[str, str], charlie_key: str
) -> None:
    for kind in FILE_KINDS:
        response, data = get(client, "/" + secret_files[kind], **bearer(charlie_key))

        assert response.status_code == 403, kind
        assert "WWW-Authenticate" not in response
        assert_reveals_nothing(data, secret_files)


def test_a_private_channel_hides_even_whether_a_platform_exists(
    client: Any, secret_files: dict[str, str], charlie_key: str
) -> None:
    anonymous, _ = get(client, "/secret/linux-65/repodata.json")
    stranger, _ = get(client, "/secret/linux-65/repodata.json", **bearer(charlie_key))
    root, _ = get(client, "/secret/notices.json")

    assert anonymous.status_code == root.status_code == 401
    assert stranger.status_code == 403


@pytest.mark.parametrize("form", ["bearer", "basic", "token path"])
def test_a_viewer_reads_a_private_channel_with_any_credential_form(
    client: Any,
    secret_files: dict[str, str],
    bob_key: str,
    hush_pkg: Path,
    form: str,
) -> None:
    for kind in FILE_KINDS:
        path = secret_files[kind]
        if form == "bearer":
            response, data = get(client, "/" + path, **bearer(bob_key))
        elif form == "basic":
            response, data = get(client, "/" + path, **basic("whoever", bob_key))
        else:
            response, data = get(client, f"/t/{bob_key}/{path}")

        assert response.status_code == 200, kind
    assert data == hush_pkg.read_bytes()


def test_a_read_only_key_reads_a_private_channel(
    client: Any, secret_files: dict[str, str], bob: Any
) -> None:
    key = make_key(bob, is_read_only=True)

    response, _ = get(client, "/" + secret_files["package"], **bearer(key))

    assert response.status_code == 200


def test_a_key_narrowed_to_the_channel_reads_it(
    client: Any, secret_files: dict[str, str], bob: Any, private_channel: Any
) -> None:
    key = make_key(bob, channel=private_channel)

    response, _ = get(client, "/" + secret_files[INDEX], **bearer(key))

    assert response.status_code == 200


def test_a_key_narrowed_to_another_channel_is_forbidden(
    client: Any, secret_files: dict[str, str], bob: Any, channel: Any
) -> None:
    key = make_key(bob, channel=channel)

    response, data = get(client, "/" + secret_files[INDEX], **bearer(key))

    assert response.status_code == 403
    assert_reveals_nothing(data, secret_files)


@pytest.mark.parametrize(
    "header",
    [
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),
        "Negotiate abc",
    ],
)
def test_a_malformed_authorization_header_is_unauthorised(
    client: Any, secret_files: dict[str, str], header: str
) -> None:
    response, data = get(client, "/" + secret_files[INDEX], HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="prefixhub"'
    assert_reveals_nothing(data, secret_files)


def test_basic_credentials_with_a_wrong_password_are_unauthorised(
    client: Any, secret_files: dict[str, str]
) -> None:
    response, _ = get(
        client, "/" + secret_files[INDEX], **basic("bob", "correct horse battery")
    )

    assert response.status_code == 401


def test_an_unknown_channel_answers_like_a_private_one(
    client: Any, secret_files: dict[str, str], charlie_key: str
) -> None:
    missing, missing_data = get(client, f"/hidden/noarch/{INDEX}")
    private, private_data = get(client, "/" + secret_files[INDEX])
    missing_403, _ = get(client, f"/hidden/noarch/{INDEX}", **bearer(charlie_key))

    assert missing.status_code == private.status_code == 401
    assert missing["WWW-Authenticate"] == private["WWW-Authenticate"]
    assert missing_data.replace(b"hidden", b"secret") == private_data
    assert missing_403.status_code == 403


def _spoiled_key(bob: Any, how: str) -> str:
    secret = make_key(bob)
    key = ApiKey.objects.get(prefix=secret[:11])
    if how == "revoked":
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    else:
        key.expires_at = timezone.now() - timedelta(seconds=1)
        key.save(update_fields=["expires_at"])
    return secret


@pytest.mark.parametrize("how", ["revoked", "expired"])
def test_a_spoiled_key_is_unauthorised_in_any_form(
    client: Any, secret_files: dict[str, str], bob: Any, how: str
) -> None:
    key = _spoiled_key(bob, how)
    path = secret_files["package"]

    for response, data in (
        get(client, "/" + path, **bearer(key)),
        get(client, "/" + path, **basic("bob", key)),
        get(client, f"/t/{key}/{path}"),
    ):
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == 'Bearer realm="prefixhub"'
        assert_reveals_nothing(data, secret_files)


def test_a_spoiled_key_is_refused_on_a_public_channel_too(
    client: Any, public_files: dict[str, str], bob: Any
) -> None:
    # Anonymous readers are welcome, but a bad credential is a mistake to report.
    response, _ = get(
        client, public_files[INDEX], **bearer(_spoiled_key(bob, "revoked"))
    )

    assert response.status_code == 401


def test_the_key_in_the_path_is_used_like_a_bearer_token(
    client: Any, public_files: dict[str, str], charlie_key: str
) -> None:
    # conda and rattler send /t/<key>/ for public channels too: it must not hurt.
    response, _ = get(client, f"/t/{charlie_key}" + public_files[INDEX])

    assert response.status_code == 200


def test_reading_records_when_a_key_was_last_used(
    client: Any, secret_files: dict[str, str], bob: Any
) -> None:
    secret = make_key(bob)

    get(client, "/" + secret_files[INDEX], **bearer(secret))

    assert ApiKey.objects.get(prefix=secret[:11]).last_used_at is not None
