"""PackageFile.objects.visible_to: the files a searcher may find.

In ``demo`` (public) alice is the owner and bob a contributor; in ``secret``
(private) alice is the owner and bob a viewer; charlie belongs to neither.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from packages.models import PackageFile
from tests.factories import make_channel, make_user

ANONYMOUS = AnonymousUser()


def make_file(channel: Any, filename: str = "demo-1.0-0.conda") -> PackageFile:
    """A bare PackageFile row: enough for searching, no archive behind it."""
    return PackageFile.objects.create(
        channel=channel,
        subdir="noarch",
        filename=filename,
        name="demo",
        version="1.0",
        build="0",
        sha256="0" * 64,
        md5="0" * 32,
        size=1,
        record={},
        record_json=b"{}",
        record_msgpack=b"\x80",
        storage_key=f"{channel.pk}/noarch/{filename}",
    )


@pytest.fixture
def files(channel: Any, private_channel: Any) -> tuple[PackageFile, PackageFile]:
    """One file in public ``demo`` and one in private ``secret``."""
    return make_file(channel), make_file(private_channel)


@pytest.mark.parametrize("user", [None, ANONYMOUS])
def test_anonymous_visitors_find_only_files_of_public_channels(
    files: tuple[PackageFile, PackageFile], user: Any
) -> None:
    public, _ = files

    assert list(PackageFile.objects.visible_to(user)) == [public]


def test_a_stranger_finds_only_files_of_public_channels(
    files: tuple[PackageFile, PackageFile], charlie: Any
) -> None:
    public, _ = files

    assert list(PackageFile.objects.visible_to(charlie)) == [public]


def test_members_find_the_files_of_their_private_channels_too(
    files: tuple[PackageFile, PackageFile], alice: Any, bob: Any
) -> None:
    assert set(PackageFile.objects.visible_to(alice)) == set(files)
    assert set(PackageFile.objects.visible_to(bob)) == set(files)


def test_members_do_not_find_files_of_other_private_channels(
    files: tuple[PackageFile, PackageFile], charlie: Any
) -> None:
    public, _ = files
    dave = make_user("dave")
    own = make_file(make_channel("daves", owner=dave, is_private=True))

    assert set(PackageFile.objects.visible_to(dave)) == {public, own}
    assert list(PackageFile.objects.visible_to(charlie)) == [public]
