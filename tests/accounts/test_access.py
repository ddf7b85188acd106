"""Every branch of accounts/access.py, as stories: a key is only ever its owner's."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.utils import timezone

from accounts.access import get_api_key_for_user
from accounts.credentials import Credential
from accounts.models import ApiKey
from accounts.services import revoke_api_key


def key_for(user: Any, **kw: Any) -> ApiKey:
    key, _ = ApiKey.issue(user, name="test key", **kw)
    return key


def test_a_user_gets_their_own_key(alice: Any) -> None:
    key = key_for(alice)

    assert get_api_key_for_user(Credential.for_user(alice), key.pk) == key


def test_a_user_gets_their_own_narrowed_read_only_key_with_its_channel(
    channel: Any, alice: Any, django_assert_num_queries: Any
) -> None:
    key = key_for(alice, channel=channel, is_read_only=True)

    with django_assert_num_queries(1):
        found = get_api_key_for_user(Credential.for_user(alice), key.pk)
        assert found.channel == channel

    assert found.is_read_only is True


def test_an_expired_key_is_still_the_users_to_revoke(alice: Any) -> None:
    key = key_for(alice)
    key.expires_at = timezone.now() - timedelta(days=1)
    key.save(update_fields=["expires_at"])

    assert get_api_key_for_user(Credential.for_user(alice), key.pk) == key


def test_a_revoked_key_is_not_found(alice: Any) -> None:
    key = revoke_api_key(key_for(alice))

    with pytest.raises(Http404):
        get_api_key_for_user(Credential.for_user(alice), key.pk)


def test_another_users_key_is_not_found(alice: Any, bob: Any) -> None:
    key = key_for(alice)

    with pytest.raises(Http404):
        get_api_key_for_user(Credential.for_user(bob), key.pk)


def test_a_member_cannot_reach_a_key_of_their_channels_owner(
    channel: Any, alice: Any, bob: Any
) -> None:
    key = key_for(alice, channel=channel)

    with pytest.raises(Http404):
        get_api_key_for_user(Credential.for_user(bob), key.pk)


def test_a_stranger_cannot_reach_anybodys_key(alice: Any, charlie: Any) -> None:
    key = key_for(alice)

    with pytest.raises(Http404):
        get_api_key_for_user(Credential.for_user(charlie), key.pk)


def test_an_anonymous_visitor_finds_no_key(alice: Any) -> None:
    key = key_for(alice)

    with pytest.raises(Http404):
        get_api_key_for_user(Credential.for_user(AnonymousUser()), key.pk)


def test_an_unknown_key_is_not_found(alice: Any) -> None:
    key = key_for(alice)

    with pytest.raises(Http404):
        get_api_key_for_user(Credential.for_user(alice), key.pk + 1000)
