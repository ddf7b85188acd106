"""The operator's commands: createuser, createchannel, createapikey."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from accounts.models import ApiKey, User
from channels.models import Channel
from tests.conftest import upload


def run(*args: str) -> str:
    """Run a management command; what it printed on stdout."""
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


# --- createuser ---------------------------------------------------------------------


def test_createuser_creates_a_user_with_a_verified_email(db: None) -> None:
    printed = run(
        "createuser", "dana", "--email", "dana@example.org", "--password", "s3cret!"
    )

    assert printed == "Created user dana\n"
    dana = User.objects.get(username="dana")
    assert dana.check_password("s3cret!")
    assert not dana.is_superuser
    address = EmailAddress.objects.get(user=dana)
    assert (address.email, address.verified, address.primary) == (
        "dana@example.org",
        True,
        True,
    )


def test_createuser_without_a_password_makes_one_that_cannot_sign_in(
    db: None,
) -> None:
    run("createuser", "dana")

    dana = User.objects.get(username="dana")
    assert not dana.has_usable_password()
    assert not EmailAddress.objects.filter(user=dana).exists()


def test_createuser_can_make_a_superuser(db: None) -> None:
    run("createuser", "root-admin", "--superuser")

    user = User.objects.get(username="root-admin")
    assert user.is_superuser
    assert user.is_staff


def test_createuser_refuses_a_taken_name(alice: Any) -> None:
    with pytest.raises(CommandError, match="already exists"):
        run("createuser", "alice")

    assert User.objects.count() == 1


@pytest.mark.parametrize("name", ["Dana", "has space", "-dana", "api", "t"])
def test_createuser_refuses_a_bad_name(db: None, name: str) -> None:
    with pytest.raises(CommandError):
        run("createuser", name)

    assert not User.objects.exists()


# --- createchannel ------------------------------------------------------------------


def test_createchannel_creates_a_public_channel_for_its_owner(alice: Any) -> None:
    printed = run("createchannel", "tools", "--owner", "alice", "--description", "Hi")

    assert printed == "Created public channel tools\n"
    tools = Channel.objects.get(name="tools")
    assert not tools.is_private
    assert tools.description == "Hi"
    assert tools.memberships.get().user == alice


def test_createchannel_can_create_a_private_channel(alice: Any) -> None:
    printed = run("createchannel", "hidden", "--owner", "alice", "--private")

    assert printed == "Created private channel hidden\n"
    assert Channel.objects.get(name="hidden").is_private


def test_createchannel_refuses_an_unknown_owner(db: None) -> None:
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        run("createchannel", "tools", "--owner", "nobody")

    assert not Channel.objects.exists()


def test_createchannel_needs_an_owner(db: None) -> None:
    with pytest.raises(CommandError, match="--owner"):
        run("createchannel", "tools")


@pytest.mark.parametrize("name", ["demo", "Demo"])
def test_createchannel_refuses_a_taken_name(
    channel: Any, charlie: Any, name: str
) -> None:
    with pytest.raises(CommandError):
        run("createchannel", name, "--owner", "charlie")

    assert Channel.objects.count() == 1


@pytest.mark.parametrize("name", ["Bad Name", "api", "static", "t", "x" * 65])
def test_createchannel_refuses_a_bad_or_reserved_name(alice: Any, name: str) -> None:
    with pytest.raises(CommandError):
        run("createchannel", name, "--owner", "alice")

    assert not Channel.objects.exists()


# --- createapikey --------------------------------------------------------------------


def test_createapikey_prints_the_key_alone(alice: Any) -> None:
    printed = run("createapikey", "alice", "--name", "ci")

    secret = printed.removesuffix("\n")
    assert re.fullmatch(r"phub-[A-Za-z0-9]{32}", secret)
    key = ApiKey.objects.get(user=alice)
    assert key.name == "ci"
    assert secret.startswith(key.prefix)
    assert secret not in key.key_hash
    assert key.expires_at is None


def test_a_key_from_createapikey_can_upload(
    client: Any, alice: Any, noarch_pkg: Path
) -> None:
    run("createchannel", "tools", "--owner", "alice")
    secret = run("createapikey", "alice").strip()

    response = upload(client, "tools", noarch_pkg, secret)

    assert response.status_code == 200, response.content


def test_the_whole_setup_works_from_the_command_line(
    client: Any, db: None, noarch_pkg: Path
) -> None:
    run("createuser", "dana", "--email", "dana@example.org")
    run("createchannel", "danas", "--owner", "dana", "--private")
    secret = run("createapikey", "dana").strip()

    assert upload(client, "danas", noarch_pkg, secret).status_code == 200
    response = client.get(
        f"/danas/noarch/{noarch_pkg.name}", HTTP_AUTHORIZATION=f"Bearer {secret}"
    )
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == noarch_pkg.read_bytes()


def test_createapikey_can_make_a_key_that_expires(alice: Any) -> None:
    before = timezone.now()

    run("createapikey", "alice", "--expires-in-days", "30")

    expires_at = ApiKey.objects.get(user=alice).expires_at
    assert expires_at is not None
    assert timedelta(days=30) <= expires_at - before < timedelta(days=30, minutes=1)


def test_createapikey_refuses_an_unknown_user(db: None) -> None:
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        run("createapikey", "nobody")


@pytest.mark.parametrize("days", ["0", "-3", "abc", "1.5"])
def test_createapikey_refuses_a_bad_expiry(alice: Any, days: str) -> None:
    with pytest.raises(CommandError):
        run("createapikey", "alice", "--expires-in-days", days)

    assert not ApiKey.objects.exists()


def test_createapikey_refuses_an_expiry_beyond_the_calendar(alice: Any) -> None:
    with pytest.raises(CommandError):
        run("createapikey", "alice", "--expires-in-days", "100000000")

    assert not ApiKey.objects.exists()
