"""Every branch of channels/access.py and publishing/access.py, as stories.

In ``demo`` (public) alice is the owner and bob a contributor; in ``secret``
(private) alice is the owner and bob a viewer; charlie belongs to neither.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from accounts.authentication import key_credential
from accounts.credentials import ANONYMOUS as NOBODY
from accounts.credentials import Credential, TrustedWorkflow
from accounts.models import ApiKey, hash_key
from channels.access import (
    ChannelAbilities,
    ReadGrant,
    abilities,
    can_manage,
    can_read,
    can_write,
    get_channel_for_manage,
    get_channel_for_page,
    get_channel_for_read,
    get_channel_for_upload,
    get_channel_for_upload_page,
    member_channel_ids,
    read_grant,
    role_of,
)
from channels.exceptions import AccessForbidden, AuthenticationRequired, ChannelNotFound
from channels.models import Channel
from publishing.access import check_overwrite, get_channel_for_change
from publishing.exceptions import OverwriteForbidden
from tests.factories import make_channel

ANONYMOUS = AnonymousUser()


def key_for(user: Any, **kw: Any) -> ApiKey:
    key, _ = ApiKey.issue(user, name="test key", **kw)
    return key


def cred(user: Any, key: ApiKey | None = None) -> Credential:
    """The credential a request of ``user`` carries: a session, or the key's."""
    return key_credential(key) if key is not None else Credential.for_user(user)


def minted(*channels: Any) -> Credential:
    """What a minted trusted-publishing token scoped to ``channels`` carries."""
    workflow = TrustedWorkflow(
        token_id=1,
        publishers=tuple((c.pk, 100 + c.pk) for c in channels),
        provider="github",
        repository="octo-org/pkg",
        workflow="release.yml",
        ref="refs/heads/main",
        run_url="https://github.com/octo-org/pkg/actions/runs/1",
    )
    return Credential(
        channel_ids=frozenset(c.pk for c in channels),
        may_overwrite=False,
        workflow=workflow,
    )


# --- role_of ------------------------------------------------------------------------


def test_role_of_nobody_is_none(channel: Any) -> None:
    assert role_of(channel, cred(None)) is None


def test_role_of_an_anonymous_user_is_none(channel: Any) -> None:
    assert role_of(channel, cred(ANONYMOUS)) is None


def test_role_of_a_member_is_their_role(
    channel: Any, private_channel: Any, alice: Any, bob: Any
) -> None:
    assert role_of(channel, cred(alice)) == "owner"
    assert role_of(channel, cred(bob)) == "contributor"
    assert role_of(private_channel, cred(bob)) == "viewer"


def test_role_of_a_stranger_is_none(channel: Any, charlie: Any) -> None:
    assert role_of(channel, cred(charlie)) is None


# --- credentials: what each producer lets through ------------------------------------


def test_a_session_reaches_every_channel_and_may_overwrite(
    channel: Any, alice: Any
) -> None:
    credential = cred(alice)

    assert credential.reaches(channel.pk) is True
    assert credential.read_only is False
    assert credential.may_overwrite is True


def test_an_anonymous_visitor_is_the_anonymous_credential() -> None:
    assert cred(ANONYMOUS) is NOBODY
    assert cred(None).is_anonymous is True


def test_a_plain_key_acts_for_its_user_everywhere(channel: Any, alice: Any) -> None:
    credential = cred(alice, key_for(alice))

    assert credential.user == alice
    assert credential.reaches(channel.pk) is True
    assert credential.read_only is False


def test_a_key_narrowed_to_a_channel_reaches_only_that_one(
    channel: Any, private_channel: Any, alice: Any
) -> None:
    credential = cred(alice, key_for(alice, channel=private_channel))

    assert credential.reaches(private_channel.pk) is True
    assert credential.reaches(channel.pk) is False


def test_a_read_only_key_is_read_only(channel: Any, alice: Any) -> None:
    assert cred(alice, key_for(alice, is_read_only=True)).read_only is True


# --- can_read -----------------------------------------------------------------------------


def test_anyone_can_read_a_public_channel(channel: Any, charlie: Any) -> None:
    assert can_read(channel, cred(ANONYMOUS)) is True
    assert can_read(channel, cred(None)) is True
    assert can_read(channel, cred(charlie)) is True


def test_members_can_read_a_private_channel(
    private_channel: Any, alice: Any, bob: Any
) -> None:
    assert can_read(private_channel, cred(alice)) is True
    assert can_read(private_channel, cred(bob)) is True


def test_strangers_cannot_read_a_private_channel(
    private_channel: Any, charlie: Any
) -> None:
    assert can_read(private_channel, cred(charlie)) is False
    assert can_read(private_channel, cred(ANONYMOUS)) is False


def test_a_read_only_key_can_read(private_channel: Any, bob: Any) -> None:
    assert can_read(private_channel, cred(bob, key_for(bob, is_read_only=True))) is True


def test_a_key_narrowed_elsewhere_cannot_read_even_a_public_channel(
    channel: Any, private_channel: Any, bob: Any
) -> None:
    key = key_for(bob, channel=private_channel)

    assert can_read(channel, cred(bob, key)) is False
    assert can_read(private_channel, cred(bob, key)) is True


# --- can_write ----------------------------------------------------------------------------


def test_owner_and_contributor_can_write(channel: Any, alice: Any, bob: Any) -> None:
    assert can_write(channel, cred(alice)) is True
    assert can_write(channel, cred(bob)) is True


def test_a_viewer_cannot_write(private_channel: Any, bob: Any) -> None:
    assert can_write(private_channel, cred(bob)) is False


def test_strangers_and_anonymous_cannot_write(channel: Any, charlie: Any) -> None:
    assert can_write(channel, cred(charlie)) is False
    assert can_write(channel, cred(ANONYMOUS)) is False


def test_a_read_only_key_cannot_write(channel: Any, alice: Any) -> None:
    assert can_write(channel, cred(alice, key_for(alice, is_read_only=True))) is False


def test_a_key_narrowed_elsewhere_cannot_write(
    channel: Any, private_channel: Any, alice: Any
) -> None:
    assert (
        can_write(channel, cred(alice, key_for(alice, channel=private_channel)))
        is False
    )


def test_a_key_never_adds_rights_its_user_lacks(channel: Any, charlie: Any) -> None:
    assert can_write(channel, cred(charlie, key_for(charlie, channel=channel))) is False


# --- can_manage ---------------------------------------------------------------------------


def test_only_the_owner_can_manage(
    channel: Any, private_channel: Any, alice: Any, bob: Any, charlie: Any
) -> None:
    assert can_manage(channel, cred(alice)) is True
    assert can_manage(channel, cred(bob)) is False
    assert can_manage(private_channel, cred(bob)) is False
    assert can_manage(channel, cred(charlie)) is False
    assert can_manage(channel, cred(ANONYMOUS)) is False


# --- get_channel_for_read -------------------------------------------------------------------


def test_reading_a_public_channel_returns_it(channel: Any) -> None:
    assert get_channel_for_read("demo", cred(ANONYMOUS)) == channel


def test_reading_looks_channel_names_up_case_insensitively(channel: Any) -> None:
    assert get_channel_for_read("Demo", cred(ANONYMOUS)) == channel


def test_a_member_reading_a_private_channel_gets_it(
    private_channel: Any, bob: Any
) -> None:
    assert get_channel_for_read("secret", cred(bob, key_for(bob))) == private_channel


@pytest.mark.parametrize("user", [None, ANONYMOUS])
def test_anonymous_readers_of_a_private_channel_must_authenticate(
    private_channel: Any, user: Any
) -> None:
    with pytest.raises(AuthenticationRequired) as raised:
        get_channel_for_read("secret", cred(user))

    assert raised.value.status == 401


def test_anonymous_readers_of_an_unknown_channel_must_authenticate_too(
    private_channel: Any,
) -> None:
    with pytest.raises(AuthenticationRequired) as unknown:
        get_channel_for_read("hidden", cred(ANONYMOUS))
    with pytest.raises(AuthenticationRequired) as private:
        get_channel_for_read("secret", cred(ANONYMOUS))

    assert unknown.value.message.replace("hidden", "secret") == private.value.message


def test_a_stranger_reading_a_private_channel_is_forbidden(
    private_channel: Any, charlie: Any
) -> None:
    with pytest.raises(AccessForbidden) as raised:
        get_channel_for_read("secret", cred(charlie))

    assert raised.value.status == 403


def test_a_signed_in_reader_of_an_unknown_channel_is_forbidden_too(
    charlie: Any,
) -> None:
    with pytest.raises(AccessForbidden):
        get_channel_for_read("hidden", cred(charlie))


def test_a_narrowed_key_reading_another_channel_is_forbidden(
    channel: Any, private_channel: Any, bob: Any
) -> None:
    with pytest.raises(AccessForbidden):
        get_channel_for_read("demo", cred(bob, key_for(bob, channel=private_channel)))


# --- get_channel_for_upload -----------------------------------------------------------------


@pytest.mark.parametrize("user", [None, ANONYMOUS])
def test_anonymous_uploaders_must_authenticate(channel: Any, user: Any) -> None:
    with pytest.raises(AuthenticationRequired):
        get_channel_for_upload("demo", cred(user))


def test_uploading_to_an_unknown_channel_is_not_found(alice: Any) -> None:
    with pytest.raises(ChannelNotFound) as raised:
        get_channel_for_upload("nowhere", cred(alice))

    assert raised.value.status == 404


def test_a_stranger_uploading_to_a_private_channel_finds_nothing(
    private_channel: Any, charlie: Any
) -> None:
    with pytest.raises(ChannelNotFound) as private:
        get_channel_for_upload("secret", cred(charlie))
    with pytest.raises(ChannelNotFound) as unknown:
        get_channel_for_upload("secrex", cred(charlie))

    assert private.value.message == unknown.value.message.replace("secrex", "secret")


def test_a_stranger_uploading_to_a_public_channel_is_forbidden(
    channel: Any, charlie: Any
) -> None:
    with pytest.raises(AccessForbidden) as raised:
        get_channel_for_upload("demo", cred(charlie, key_for(charlie)))

    assert raised.value.message == "You may not upload to channel 'demo'."


def test_a_viewer_uploading_is_forbidden(private_channel: Any, bob: Any) -> None:
    with pytest.raises(AccessForbidden) as raised:
        get_channel_for_upload("secret", cred(bob))

    assert raised.value.message == "You may not upload to channel 'secret'."


def test_a_read_only_key_uploading_is_forbidden_because_of_the_key(
    channel: Any, alice: Any
) -> None:
    with pytest.raises(AccessForbidden) as raised:
        get_channel_for_upload("demo", cred(alice, key_for(alice, is_read_only=True)))

    assert raised.value.message == "This API key may not write to channel 'demo'."


def test_a_key_narrowed_elsewhere_uploading_is_forbidden_because_of_the_key(
    channel: Any, private_channel: Any, alice: Any
) -> None:
    key = key_for(alice, channel=channel)

    with pytest.raises(AccessForbidden) as raised:
        get_channel_for_upload("secret", cred(alice, key))

    assert raised.value.message == "This API key may not write to channel 'secret'."


def test_a_viewer_with_a_read_only_key_is_told_about_the_key(
    private_channel: Any, bob: Any
) -> None:
    with pytest.raises(AccessForbidden) as raised:
        get_channel_for_upload("secret", cred(bob, key_for(bob, is_read_only=True)))

    assert "API key" in raised.value.message


def test_owner_and_contributor_get_the_channel_to_upload_to(
    channel: Any, alice: Any, bob: Any
) -> None:
    assert get_channel_for_upload("demo", cred(alice)) == channel
    assert (
        get_channel_for_upload("DEMO", cred(bob, key_for(bob, channel=channel)))
        == channel
    )


# --- get_channel_for_manage -----------------------------------------------------------------


def test_the_owner_gets_the_channel_to_manage(private_channel: Any, alice: Any) -> None:
    assert get_channel_for_manage("secret", cred(alice)) == private_channel


def test_managing_an_unknown_channel_is_not_found(alice: Any) -> None:
    with pytest.raises(ChannelNotFound):
        get_channel_for_manage("nowhere", cred(alice))


@pytest.mark.parametrize("who", ["charlie", "anonymous"])
def test_outsiders_managing_a_private_channel_find_nothing(
    private_channel: Any, charlie: Any, who: str
) -> None:
    user = charlie if who == "charlie" else ANONYMOUS

    with pytest.raises(ChannelNotFound):
        get_channel_for_manage("secret", cred(user))


@pytest.mark.parametrize("who", ["bob", "charlie", "anonymous"])
def test_non_owners_managing_a_public_channel_are_forbidden(
    channel: Any, bob: Any, charlie: Any, who: str
) -> None:
    user = {"bob": bob, "charlie": charlie, "anonymous": ANONYMOUS}[who]

    with pytest.raises(AccessForbidden) as raised:
        get_channel_for_manage("demo", cred(user))

    assert raised.value.message == "Only the channel's owner can do this."


def test_a_viewer_managing_a_private_channel_is_forbidden(
    private_channel: Any, bob: Any
) -> None:
    with pytest.raises(AccessForbidden):
        get_channel_for_manage("secret", cred(bob))


# --- publishing.access: replacing and removing files ---------------------------------


def test_sessions_and_keys_may_overwrite(alice: Any) -> None:
    check_overwrite(cred(alice))
    check_overwrite(cred(alice, key_for(alice)))


def test_a_minted_token_may_not_overwrite(channel: Any) -> None:
    with pytest.raises(OverwriteForbidden) as raised:
        check_overwrite(minted(channel))

    assert raised.value.status == 403


def test_owner_and_contributor_may_delete_and_reindex(
    channel: Any, alice: Any, bob: Any
) -> None:
    assert get_channel_for_change("demo", cred(alice)) == channel
    assert get_channel_for_change("demo", cred(bob, key_for(bob))) == channel


def test_a_viewer_may_not_delete(private_channel: Any, bob: Any) -> None:
    with pytest.raises(AccessForbidden):
        get_channel_for_change("secret", cred(bob))


def test_a_minted_token_may_not_delete_or_reindex_even_in_its_channel(
    channel: Any,
) -> None:
    with pytest.raises(AccessForbidden) as raised:
        get_channel_for_change("demo", minted(channel))

    assert "only upload new files" in raised.value.message


# --- abilities --------------------------------------------------------------------------


def test_the_owner_may_write_and_manage(channel: Any, alice: Any) -> None:
    assert abilities(channel, cred(alice)) == ChannelAbilities(
        can_write=True, can_manage=True
    )


def test_a_contributor_may_write_but_not_manage(channel: Any, bob: Any) -> None:
    assert abilities(channel, cred(bob)) == ChannelAbilities(
        can_write=True, can_manage=False
    )


def test_a_viewer_may_neither_write_nor_manage(private_channel: Any, bob: Any) -> None:
    assert abilities(private_channel, cred(bob)) == ChannelAbilities(
        can_write=False, can_manage=False
    )


def test_strangers_and_anonymous_visitors_may_neither_write_nor_manage(
    channel: Any, charlie: Any
) -> None:
    nothing = ChannelAbilities(can_write=False, can_manage=False)

    assert abilities(channel, cred(charlie)) == nothing
    assert abilities(channel, cred(ANONYMOUS)) == nothing
    assert abilities(channel, cred(None)) == nothing


# --- get_channel_for_page ---------------------------------------------------------------


def test_anyone_sees_the_pages_of_a_public_channel(channel: Any, charlie: Any) -> None:
    assert get_channel_for_page("demo", cred(ANONYMOUS)) == channel
    assert get_channel_for_page("demo", cred(None)) == channel
    assert get_channel_for_page("demo", cred(charlie)) == channel


def test_pages_look_channel_names_up_case_insensitively(channel: Any) -> None:
    assert get_channel_for_page("DeMo", cred(ANONYMOUS)) == channel


def test_members_see_the_pages_of_a_private_channel(
    private_channel: Any, alice: Any, bob: Any
) -> None:
    assert get_channel_for_page("secret", cred(alice)) == private_channel
    assert get_channel_for_page("secret", cred(bob)) == private_channel


@pytest.mark.parametrize("who", ["charlie", "anonymous", "nobody"])
def test_outsiders_find_no_pages_for_a_private_channel(
    private_channel: Any, charlie: Any, who: str
) -> None:
    user = {"charlie": charlie, "anonymous": ANONYMOUS, "nobody": None}[who]

    with pytest.raises(ChannelNotFound) as raised:
        get_channel_for_page("secret", cred(user))

    assert raised.value.status == 404


def test_a_private_channel_page_answers_like_an_unknown_one(
    private_channel: Any, charlie: Any
) -> None:
    with pytest.raises(ChannelNotFound) as private:
        get_channel_for_page("secret", cred(charlie))
    with pytest.raises(ChannelNotFound) as unknown:
        get_channel_for_page("secrex", cred(charlie))

    assert private.value.message == unknown.value.message.replace("secrex", "secret")


def test_the_pages_of_an_unknown_channel_are_not_found_even_for_members(
    channel: Any, alice: Any
) -> None:
    with pytest.raises(ChannelNotFound):
        get_channel_for_page("nowhere", cred(alice))


# --- get_channel_for_upload_page --------------------------------------------------------


def test_owner_and_contributor_get_the_upload_page(
    channel: Any, alice: Any, bob: Any
) -> None:
    assert get_channel_for_upload_page("demo", cred(alice)) == channel
    assert get_channel_for_upload_page("Demo", cred(bob)) == channel


def test_the_owner_gets_the_upload_page_of_a_private_channel(
    private_channel: Any, alice: Any
) -> None:
    assert get_channel_for_upload_page("secret", cred(alice)) == private_channel


def test_a_viewer_is_refused_the_upload_page(private_channel: Any, bob: Any) -> None:
    with pytest.raises(AccessForbidden) as raised:
        get_channel_for_upload_page("secret", cred(bob))

    assert raised.value.message == "You may not upload to channel 'secret'."


@pytest.mark.parametrize("who", ["charlie", "anonymous"])
def test_outsiders_are_refused_the_upload_page_of_a_public_channel(
    channel: Any, charlie: Any, who: str
) -> None:
    user = charlie if who == "charlie" else ANONYMOUS

    with pytest.raises(AccessForbidden) as raised:
        get_channel_for_upload_page("demo", cred(user))

    assert raised.value.status == 403


@pytest.mark.parametrize("who", ["charlie", "anonymous"])
def test_outsiders_find_no_upload_page_for_a_private_channel(
    private_channel: Any, charlie: Any, who: str
) -> None:
    user = charlie if who == "charlie" else ANONYMOUS

    with pytest.raises(ChannelNotFound):
        get_channel_for_upload_page("secret", cred(user))


def test_the_upload_page_of_an_unknown_channel_is_not_found(alice: Any) -> None:
    with pytest.raises(ChannelNotFound):
        get_channel_for_upload_page("nowhere", cred(alice))


# --- Channel.objects.visible_to -------------------------------------------------------------------


@pytest.mark.parametrize("user", [None, ANONYMOUS])
def test_anonymous_visitors_see_only_public_channels(
    channel: Any, private_channel: Any, user: Any
) -> None:
    assert list(Channel.objects.visible_to(user)) == [channel]


def test_a_stranger_sees_only_public_channels(
    channel: Any, private_channel: Any, charlie: Any
) -> None:
    assert list(Channel.objects.visible_to(charlie)) == [channel]


def test_members_see_public_channels_and_their_private_ones_once_each(
    channel: Any, private_channel: Any, alice: Any, bob: Any
) -> None:
    # demo has two members: the join must not list it twice.
    assert list(Channel.objects.visible_to(alice)) == [channel, private_channel]
    assert list(Channel.objects.visible_to(bob)) == [channel, private_channel]


def test_members_do_not_see_other_private_channels(
    channel: Any, private_channel: Any, charlie: Any
) -> None:
    own = make_channel("charlies", owner=charlie, is_private=True)

    assert list(Channel.objects.visible_to(charlie)) == [own, channel]


# --- member_channel_ids -----------------------------------------------------------------


@pytest.mark.parametrize("user", [None, ANONYMOUS])
def test_anonymous_visitors_belong_to_no_channel(
    channel: Any, private_channel: Any, user: Any
) -> None:
    assert list(member_channel_ids(cred(user))) == []


def test_a_stranger_belongs_to_no_channel(
    channel: Any, private_channel: Any, charlie: Any
) -> None:
    assert list(member_channel_ids(cred(charlie))) == []


def test_members_belong_to_their_channels_whatever_their_role(
    channel: Any, private_channel: Any, alice: Any, bob: Any
) -> None:
    both = {channel.pk, private_channel.pk}

    assert set(member_channel_ids(cred(alice))) == both
    assert set(member_channel_ids(cred(bob))) == both


# --- read_grant: the one-query decision of the channel URLs -------------------------


def grant(name: str, key: ApiKey | str | None) -> ReadGrant | None:
    """``read_grant`` for a stored key (by its hash), a plain secret, or no key."""
    if isinstance(key, ApiKey):
        return read_grant(name, key.key_hash)
    return read_grant(name, None if key is None else hash_key(key))


def test_read_grant_gives_anonymous_readers_public_channels_only(
    channel: Channel, private_channel: Channel
) -> None:
    granted = grant("demo", None)

    assert granted is not None
    assert (granted.channel.pk, granted.channel.is_private) == (channel.pk, False)
    assert granted.stale_key_id is None
    assert grant("secret", None) is None
    assert grant("nowhere", None) is None


def test_read_grant_gives_members_keys_their_private_channel(
    private_channel: Channel, bob: Any, charlie: Any
) -> None:
    viewer = key_for(bob)
    granted = grant("SECRET", viewer)  # names are case-insensitive

    assert granted is not None
    assert granted.channel.pk == private_channel.pk
    assert granted.channel.is_private
    assert grant("secret", key_for(charlie)) is None


def test_read_grant_asks_to_record_a_key_use_at_most_once_a_minute(
    private_channel: Channel, bob: Any
) -> None:
    key = key_for(bob)

    def stale() -> int | None:
        granted = grant("secret", key)
        assert granted is not None
        return granted.stale_key_id

    assert stale() == key.pk  # never used
    key.touch()
    assert stale() is None
    ApiKey.objects.filter(pk=key.pk).update(
        last_used_at=timezone.now() - timedelta(minutes=2)
    )
    assert stale() == key.pk


def test_read_grant_refuses_unusable_keys_even_on_public_channels(
    channel: Channel, private_channel: Channel, bob: Any
) -> None:
    expired = key_for(bob)
    ApiKey.objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    revoked = key_for(bob)
    ApiKey.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
    for name in ("demo", "secret"):
        assert grant(name, expired) is None, name
        assert grant(name, revoked) is None, name
        assert grant(name, "phub-unknown-key") is None, name
    later = key_for(bob, expires_in_days=1)
    assert grant("secret", later) is not None


def test_read_grant_refuses_keys_of_inactive_users(
    private_channel: Channel, bob: Any
) -> None:
    key = key_for(bob)
    bob.is_active = False
    bob.save()

    assert grant("secret", key) is None


def test_read_grant_keeps_a_narrowed_key_to_its_channel(
    channel: Channel, private_channel: Channel, alice: Any
) -> None:
    narrowed = key_for(alice, channel=private_channel)

    assert grant("secret", narrowed) is not None
    assert grant("demo", narrowed) is None  # public, but outside the key's limit


@pytest.mark.parametrize("who", ["nobody", "alice", "bob", "charlie", "narrowed"])
@pytest.mark.parametrize("name", ["demo", "secret", "nowhere"])
def test_read_grant_agrees_with_get_channel_for_read(
    channel: Channel,
    private_channel: Channel,
    alice: Any,
    bob: Any,
    charlie: Any,
    who: str,
    name: str,
) -> None:
    users = {"alice": alice, "bob": bob, "charlie": charlie}
    if who == "nobody":
        key, credential = None, NOBODY
    else:
        extra = {"channel": channel} if who == "narrowed" else {}
        key = key_for(users.get(who, alice), **extra)
        credential = key_credential(key)
    try:
        expected: int | None = get_channel_for_read(name, credential).pk
    except (AuthenticationRequired, AccessForbidden):
        expected = None

    granted = grant(name, key)

    assert (granted.channel.pk if granted else None) == expected


def test_read_grant_reads_the_index_file_state_in_the_same_query(
    channel: Channel, django_assert_num_queries: Any
) -> None:
    from channels.models import Subdir

    state = Subdir.objects.get(channel=channel, name="noarch")
    state.index_sha256 = "ab" * 32
    state.index_published_at = timezone.now()
    state.save()

    with django_assert_num_queries(1):
        granted = grant_index("demo", ("noarch", "repodata_shards.msgpack.zst"))
    missing = grant_index("demo", ("linux-64", "repodata_shards.msgpack.zst"))

    assert granted is not None and missing is not None
    assert granted.index_sha256 == "ab" * 32
    assert granted.index_published is not None
    assert not missing.index_sha256  # no such platform yet: nothing to send
    plain = grant("demo", None)
    assert plain is not None and plain.index_sha256 == ""


def grant_index(name: str, index: tuple[str, str]) -> ReadGrant | None:
    return read_grant(name, None, index=index)
