"""Usernames made for social sign-ups follow the channel-name rules."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.adapters import unique_username, username_base
from channels.names import name_problem


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dana-Dev", "dana-dev"),
        ("jane.doe@example.org", "jane-doe"),
        ("Zoë Müller", "zoe-muller"),
        ("__x__", "x"),
        ("a" * 80, "a" * 64),
        ("api", None),
        ("@example.org", None),
        ("李", None),
        ("", None),
        (None, None),
    ],
)
def test_username_base_makes_valid_names_or_none(
    text: str | None, expected: str | None
) -> None:
    assert username_base(text) == expected
    if expected:
        assert name_problem(expected) is None


def test_a_free_name_is_taken_as_is(db: None) -> None:
    assert unique_username(["Dana", "dana@example.org"]) == "dana"


def test_the_next_text_is_tried_when_the_first_is_taken(alice: Any) -> None:
    assert unique_username(["alice", "alice.b@example.org"]) == "alice-b"


def test_a_number_is_added_when_every_text_is_taken(alice: Any) -> None:
    name = unique_username(["alice", "alice@example.org"])
    assert name.startswith("alice-") and name_problem(name) is None


def test_nothing_usable_becomes_user(db: None) -> None:
    assert unique_username(["api", None, "!!!"]) == "user"
