"""HTTP semantics of the channel URLs (RFC 9110): validators, ranges, encodings.

Plain functions over header values, without Django, so every rule is unit-tested
on its own; ``serving.py`` applies them to requests and responses.
"""

from __future__ import annotations

import calendar
from email.utils import parsedate_tz
from typing import Final

#: ``parse_range`` result for a range that lies wholly outside the file (416).
UNSATISFIABLE: Final = "unsatisfiable"


def _opaque(tag: str) -> str:
    """The opaque part of an entity tag, for weak comparison.

    >>> _opaque('W/"abc"'), _opaque('"abc"')
    ('"abc"', '"abc"')
    """
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def none_match(if_none_match: str, etag: str) -> bool:
    """``If-None-Match`` matches ``etag`` under weak comparison (RFC 9110 13.1.2).

    A gzip proxy turns our strong ``"x"`` into ``W/"x"``; both must revalidate.

    >>> none_match('W/"a", "b"', '"a"'), none_match('"b"', '"a"')
    (True, False)
    >>> none_match("*", '"a"')
    True
    """
    if if_none_match.strip() == "*":
        return True
    wanted = _opaque(etag)
    return any(_opaque(tag) == wanted for tag in if_none_match.split(","))


def parse_http_date(value: str) -> int | None:
    """Seconds since the epoch of an HTTP date, or None if it is not one.

    >>> parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT"), parse_http_date("soon")
    (1445412480, None)
    """
    parsed = parsedate_tz(value.strip())
    if parsed is None:
        return None
    try:
        return calendar.timegm(parsed[:9]) - (parsed[9] or 0)
    except (OverflowError, ValueError):
        return None


def is_not_modified(
    *,
    if_none_match: str | None,
    if_modified_since: str | None,
    etag: str,
    last_modified: int | None,
) -> bool:
    """Whether a GET or HEAD gets ``304``: ``If-None-Match`` first; only without it
    ``If-Modified-Since``, and only where a ``Last-Modified`` is sent.

    >>> is_not_modified(if_none_match=None, if_modified_since="Wed, 21 Oct 2015 "
    ...     "07:28:00 GMT", etag='"a"', last_modified=1445412480)
    True
    """
    if if_none_match is not None:
        return none_match(if_none_match, etag)
    if if_modified_since is None or last_modified is None:
        return False
    since = parse_http_date(if_modified_since)
    return since is not None and last_modified <= since


def range_applies(
    if_range: str | None, *, etag: str, last_modified: int | None
) -> bool:
    """Whether a ``Range`` is honoured given ``If-Range`` (strong comparison only).

    >>> range_applies(None, etag='"a"', last_modified=None)
    True
    >>> range_applies('"a"', etag='"a"', last_modified=None)
    True
    >>> range_applies('W/"a"', etag='"a"', last_modified=None)
    False
    """
    if if_range is None:
        return True
    value = if_range.strip()
    if value.startswith(('"', "W/")):
        return not value.startswith("W/") and value == etag
    date = parse_http_date(value)
    return date is not None and last_modified is not None and date == last_modified


def parse_range(header: str | None, size: int) -> tuple[int, int] | str | None:
    """The single byte range ``(first, last)`` a ``Range`` header asks for.

    None means "send the whole file": no header, a syntax error, another unit or
    several ranges (a server may ignore ``Range``). ``UNSATISFIABLE`` means 416.

    >>> parse_range("bytes=0-99", 1000), parse_range("bytes=900-", 1000)
    ((0, 99), (900, 999))
    >>> parse_range("bytes=-100", 1000), parse_range("bytes=500-5000", 1000)
    ((900, 999), (500, 999))
    >>> parse_range("bytes=1000-", 1000), parse_range("bytes=5-1", 1000)
    ('unsatisfiable', None)
    """
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first_raw, dash, last_raw = spec.strip().partition("-")
    if not dash or not (first_raw + last_raw).isdigit():
        return None
    if not first_raw:  # suffix: the last N bytes
        length = int(last_raw)
        if length == 0 or size == 0:
            return UNSATISFIABLE
        return max(0, size - length), size - 1
    first = int(first_raw)
    if last_raw and int(last_raw) < first:
        return None
    if first >= size:
        return UNSATISFIABLE
    last = int(last_raw) if last_raw else size - 1
    return first, min(last, size - 1)


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether ``Accept-Encoding`` allows gzip (``q=0`` refuses it).

    >>> accepts_gzip("gzip, deflate"), accepts_gzip("br;q=1, gzip;q=0")
    (True, False)
    >>> accepts_gzip("*"), accepts_gzip("identity")
    (True, False)
    """
    if not accept_encoding:
        return False
    offered: dict[str, float] = {}
    for item in accept_encoding.split(","):
        coding, _, params = item.strip().partition(";")
        quality = 1.0
        name, _, value = params.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value)
            except ValueError:
                quality = 0.0
        offered[coding.strip().lower()] = quality
    if "gzip" in offered:
        return offered["gzip"] > 0
    return offered.get("*", 0.0) > 0
