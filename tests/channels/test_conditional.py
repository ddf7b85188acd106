"""The HTTP header rules of the channel URLs, one by one (RFC 9110)."""

from __future__ import annotations

import doctest

import pytest

from channels import conditional
from channels.conditional import (
    UNSATISFIABLE,
    accepts_gzip,
    is_not_modified,
    none_match,
    parse_http_date,
    parse_range,
    range_applies,
)

DATE = "Wed, 21 Oct 2015 07:28:00 GMT"
STAMP = 1445412480


def test_the_docstring_examples_pass():
    result = doctest.testmod(conditional)
    assert result.failed == 0 and result.attempted > 10


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('"a"', True),
        ('W/"a"', True),  # weak comparison: a gzip proxy's weak tag still matches
        (' "b" , W/"a" ', True),
        ("*", True),
        ('"b"', False),
        ('W/"b"', False),
        ("", False),
        ("a", False),  # unquoted: not our tag
    ],
)
def test_if_none_match_uses_weak_comparison(header, expected):
    assert none_match(header, '"a"') is expected


def test_a_weak_tag_of_ours_matches_a_strong_header_too():
    assert none_match('"a"', 'W/"a"')


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (DATE, STAMP),
        ("Wednesday, 21-Oct-15 07:28:00 GMT", STAMP),  # RFC 850, still accepted
        ("Wed Oct 21 07:28:00 2015", STAMP),  # asctime
        ("Wed, 21 Oct 2015 09:28:00 +0200", STAMP),
        ("yesterday", None),
        ("", None),
    ],
)
def test_http_dates_parse_in_all_three_formats(value, expected):
    assert parse_http_date(value) == expected


@pytest.mark.parametrize(
    ("inm", "ims", "last_modified", "expected"),
    [
        (None, DATE, STAMP, True),
        (None, DATE, STAMP - 100, True),
        (None, DATE, STAMP + 1, False),  # changed after the client's copy
        (None, DATE, None, False),  # no Last-Modified sent: the date means nothing
        (None, "garbage", STAMP, False),
        (None, None, STAMP, False),
        ('"other"', DATE, STAMP, False),  # If-None-Match wins over the date
        ('W/"a"', None, None, True),
    ],
)
def test_not_modified(inm, ims, last_modified, expected):
    assert (
        is_not_modified(
            if_none_match=inm,
            if_modified_since=ims,
            etag='"a"',
            last_modified=last_modified,
        )
        is expected
    )


@pytest.mark.parametrize(
    ("if_range", "last_modified", "expected"),
    [
        (None, STAMP, True),
        ('"a"', STAMP, True),
        ('"b"', STAMP, False),
        ('W/"a"', STAMP, False),  # If-Range needs a strong match
        (DATE, STAMP, True),
        (DATE, STAMP + 1, False),
        (DATE, None, False),
        ("not a date", STAMP, False),
    ],
)
def test_if_range(if_range, last_modified, expected):
    assert range_applies(if_range, etag='"a"', last_modified=last_modified) is expected


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 10, None),
        ("", 10, None),
        ("bytes=0-0", 10, (0, 0)),
        ("bytes=0-9", 10, (0, 9)),
        ("bytes=3-", 10, (3, 9)),
        ("bytes=3-100", 10, (3, 9)),
        ("bytes=-3", 10, (7, 9)),
        ("bytes=-30", 10, (0, 9)),
        ("BYTES = 2-4", 10, (2, 4)),
        ("bytes=10-", 10, UNSATISFIABLE),
        ("bytes=10-20", 10, UNSATISFIABLE),
        ("bytes=-0", 10, UNSATISFIABLE),
        ("bytes=-5", 0, UNSATISFIABLE),
        ("bytes=0-", 0, UNSATISFIABLE),
        ("bytes=5-2", 10, None),  # invalid: ignored, the whole file
        ("bytes=0-1,4-5", 10, None),  # several ranges: the whole file
        ("items=0-1", 10, None),
        ("bytes=a-b", 10, None),
        ("bytes=1", 10, None),
        ("bytes=-", 10, None),
        ("bytes=+1-2", 10, None),
    ],
)
def test_parse_range(header, size, expected):
    assert parse_range(header, size) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip", True),
        ("gzip, deflate, br, zstd", True),
        ("GZIP;q=0.5", True),
        ("gzip;q=0", False),
        ("gzip;q=nonsense", False),
        ("*", True),
        ("*;q=0", False),
        ("deflate", False),
        ("identity", False),
        ("", False),
        (None, False),
    ],
)
def test_accepts_gzip(header, expected):
    assert accepts_gzip(header) is expected
