"""The platform names (subdirs) a channel may hold."""

from __future__ import annotations

import pytest
from rattler import Subdir

from channels.repodata import KNOWN_SUBDIRS, is_known_subdir


@pytest.mark.parametrize(
    "subdir", ["noarch", "linux-64", "linux-aarch64", "osx-arm64", "win-64"]
)
def test_common_subdirs_are_known(subdir):
    assert is_known_subdir(subdir)


@pytest.mark.parametrize(
    "subdir",
    ["", "linux-65", "Linux-64", "linux-64/", " noarch", "noarch\n", "..", "x"],
)
def test_other_names_are_not_subdirs(subdir):
    assert not is_known_subdir(subdir)


def test_every_known_subdir_is_a_platform_rattler_knows():
    assert {str(Subdir(s)) for s in KNOWN_SUBDIRS} == KNOWN_SUBDIRS
    assert {str(p) for p in Subdir.all()} >= KNOWN_SUBDIRS


def test_known_subdirs_cannot_be_changed_at_runtime():
    assert isinstance(KNOWN_SUBDIRS, frozenset)
