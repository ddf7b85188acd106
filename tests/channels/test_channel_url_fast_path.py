"""Channel URLs skip the browser machinery (sessions, CSRF, messages, allauth) and
cost few queries; browsers with a session still read with their session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.channels import test_serving
from tests.channels.test_serving import INDEX, bearer, get

hush_pkg = test_serving.hush_pkg
public_files = test_serving.public_files
secret_files = test_serving.secret_files


def test_a_public_shard_costs_one_query_and_sets_no_cookie(
    client: Any, public_files: dict[str, str], django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(1):
        response, _ = get(client, public_files["shard"])

    assert response.status_code == 200
    assert not response.cookies
    assert "Cookie" not in response.get("Vary", "")


def test_a_public_index_costs_two_queries(
    client: Any, public_files: dict[str, str], django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(2):
        response, _ = get(client, public_files[INDEX])
    assert response.status_code == 200


def test_a_private_shard_with_a_bearer_key_costs_one_query(
    client: Any,
    secret_files: dict[str, str],
    alice_key: str,
    django_assert_num_queries: Any,
) -> None:
    get(client, "/" + secret_files["shard"], **bearer(alice_key))  # records key use

    with django_assert_num_queries(1):  # key, user, channel, membership joined
        response, _ = get(client, "/" + secret_files["shard"], **bearer(alice_key))
    assert response.status_code == 200


def test_a_signed_in_member_reads_a_private_channel_with_the_session(
    client: Any, secret_files: dict[str, str], bob: Any, hush_pkg: Path
) -> None:
    client.force_login(bob)

    response, data = get(client, "/" + secret_files["package"])

    assert response.status_code == 200
    assert data == hush_pkg.read_bytes()


def test_a_signed_in_outsider_is_refused_with_the_session(
    client: Any, secret_files: dict[str, str], charlie: Any
) -> None:
    client.force_login(charlie)

    response, _ = get(client, "/" + secret_files["shard"])

    assert response.status_code == 403


def test_site_pages_shaped_like_channel_urls_still_reach_their_views(
    client: Any, public_files: dict[str, str]
) -> None:
    response = client.get("/channels/demo/settings")

    assert response.status_code == 302  # to the sign-in page, not a channel 401
    assert "/accounts/login/" in response["Location"]


def test_head_on_a_shard_takes_the_fast_path_too(
    client: Any, public_files: dict[str, str], django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(1):
        response = client.head(public_files["shard"])
    assert response.status_code == 200
    assert int(response["Content-Length"]) > 0
