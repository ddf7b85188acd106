"""Tier 2: HTTP as clients and proxies use it, over a real socket.

Range requests on package files, conditional requests (If-None-Match with weak
comparison, If-Modified-Since), repodata.json served from its stored gzip copy,
caching headers of private index files (and rattler revalidating them with 304),
and HEAD on every HTML page.
"""

from __future__ import annotations

import gzip
import hashlib
import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.live.clients import run_client
from tests.live.proxy import RecordingProxy
from tests.live.reader import shard_index
from tests.live.service import LiveService, wait_for
from tests.live.test_conda_clients import World

pytestmark = pytest.mark.live


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # show the redirect itself (urllib would turn HEAD into GET)


class Answer:
    def __init__(self, status: int, headers: Any, body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body


def request(
    url: str,
    headers: dict[str, str] | None = None,
    *,
    method: str = "GET",
    opener: urllib.request.OpenerDirector | None = None,
) -> Answer:
    """One exchange as sent: no redirects followed, no decompression."""
    opener = opener or urllib.request.build_opener(_NoRedirect)
    req = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with opener.open(req, timeout=30) as response:
            return Answer(response.status, response.headers, response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return Answer(exc.code, exc.headers, exc.read())


@pytest.fixture(scope="module")
def site(live: LiveService, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A public and a private channel, each holding a noarch and a linux-64 file."""
    world = World(live, tmp_path_factory.mktemp("http"))
    public, private = world.channel(), world.channel(private=True)
    lib, app = world.packages("http")
    for channel in (public, private):
        assert world.upload(channel, [lib, app]) == {"ok": True}
    return world, public, private, lib, app


# --- Range requests ---------------------------------------------------------------


def test_package_files_answer_range_requests(site: Any) -> None:
    world, public, _, lib, _ = site
    url = f"{world.live.url}/{public}/noarch/{lib.name}"
    data = lib.read_bytes()
    size = len(data)

    full = request(url)
    assert full.status == 200 and full.body == data
    assert full.headers["Accept-Ranges"] == "bytes"
    assert full.headers["Content-Length"] == str(size)
    etag, modified = full.headers["ETag"], full.headers["Last-Modified"]

    for header, (first, last) in {
        "bytes=10-99": (10, 99),
        "bytes=100-": (100, size - 1),
        "bytes=-20": (size - 20, size - 1),
        f"bytes=5-{size * 2}": (5, size - 1),
    }.items():
        part = request(url, {"Range": header})
        assert part.status == 206, header
        assert part.headers["Content-Range"] == f"bytes {first}-{last}/{size}"
        assert part.headers["Content-Length"] == str(last - first + 1)
        assert part.headers["Accept-Ranges"] == "bytes"
        assert part.headers["ETag"] == etag
        assert part.body == data[first : last + 1]

    beyond = request(url, {"Range": f"bytes={size}-"})
    assert beyond.status == 416
    assert beyond.headers["Content-Range"] == f"bytes */{size}"

    # If-Range: the range only while the file is still the one the client has.
    assert request(url, {"Range": "bytes=0-9", "If-Range": etag}).status == 206
    assert request(url, {"Range": "bytes=0-9", "If-Range": modified}).status == 206
    changed = request(url, {"Range": "bytes=0-9", "If-Range": '"0000"'})
    assert changed.status == 200 and changed.body == data
    old_date = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert request(url, {"Range": "bytes=0-9", "If-Range": old_date}).status == 200

    # Ignored rather than refused: several ranges, another unit, nonsense.
    for header in ("bytes=0-1,5-6", "items=0-5", "bytes=9-2"):
        whole = request(url, {"Range": header})
        assert whole.status == 200 and whole.body == data, header

    head = request(url, method="HEAD")
    assert head.status == 200 and head.body == b""
    assert head.headers["Accept-Ranges"] == "bytes"
    assert head.headers["Content-Length"] == str(size)


def test_private_package_files_answer_range_requests_to_their_readers(
    site: Any,
) -> None:
    world, _, private, _, app = site
    url = f"{world.live.url}/{private}/linux-64/{app.name}"
    assert request(url, {"Range": "bytes=0-3"}).status == 401
    part = request(url, {"Range": "bytes=0-3", "Authorization": f"Bearer {world.key}"})
    assert part.status == 206 and part.body == app.read_bytes()[:4]


# --- conditional requests -----------------------------------------------------------


def _index_urls(world: World, channel: str, lib: Path) -> dict[str, str]:
    base = f"{world.live.url}/{channel}/noarch"
    sha = shard_index(f"{world.live.url}/{channel}", "noarch")["shards"]["libhttp"]
    return {
        "shard index": f"{base}/repodata_shards.msgpack.zst",
        "repodata.json": f"{base}/repodata.json",
        "repodata.json.zst": f"{base}/repodata.json.zst",
        "package": f"{base}/{lib.name}",
        "shard": f"{base}/shards/{sha.hex()}.msgpack.zst",
    }


def test_if_modified_since_gives_304_where_last_modified_is_sent(site: Any) -> None:
    world, public, _, lib, _ = site
    for what, url in _index_urls(world, public, lib).items():
        first = request(url)
        assert first.status == 200, what
        modified = first.headers["Last-Modified"]
        if what == "shard":
            # Immutable and named by content: no date, an ETag and a year of cache.
            assert modified is None
            assert (
                request(
                    url, {"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}
                ).status
                == 200
            )
            continue
        assert modified, what
        same = request(url, {"If-Modified-Since": modified})
        assert same.status == 304, what
        assert same.body == b""
        assert same.headers["ETag"] == first.headers["ETag"]
        older = request(url, {"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})
        assert older.status == 200, what
        # If-None-Match decides when both are sent.
        both = request(url, {"If-Modified-Since": modified, "If-None-Match": '"x"'})
        assert both.status == 200, what


def test_if_none_match_uses_weak_comparison(site: Any) -> None:
    world, public, _, lib, _ = site
    for what, url in _index_urls(world, public, lib).items():
        etag = request(url).headers["ETag"]
        assert etag.startswith('"'), what  # strong, from the content hash
        for header in (etag, f"W/{etag}", f'"nope", W/{etag}', "*"):
            again = request(url, {"If-None-Match": header})
            assert again.status == 304, (what, header)
            assert again.headers["ETag"] == etag
        assert request(url, {"If-None-Match": 'W/"nope"'}).status == 200, what


# --- compression --------------------------------------------------------------------


def test_repodata_json_is_served_gzip_compressed_from_its_stored_copy(
    site: Any,
) -> None:
    world, public, _, _, _ = site
    url = f"{world.live.url}/{public}/noarch/repodata.json"

    def gzipped() -> Answer | None:
        answer = request(url, {"Accept-Encoding": "gzip, deflate"})
        return answer if answer.headers["Content-Encoding"] == "gzip" else None

    # The copy is written right after repodata.json; until then the plain file.
    packed = wait_for(gzipped, timeout=20)
    plain = request(url)
    assert plain.headers["Content-Encoding"] is None
    assert gzip.decompress(packed.body) == plain.body
    assert json.loads(plain.body)["info"]["subdir"] == "noarch"
    for answer in (packed, plain):
        assert "Accept-Encoding" in answer.headers["Vary"]
    # One entity tag per representation: the hash of the bytes sent.
    assert packed.headers["ETag"] == f'"{hashlib.sha256(packed.body).hexdigest()}"'
    assert plain.headers["ETag"] == f'"{hashlib.sha256(plain.body).hexdigest()}"'
    assert packed.headers["Content-Length"] == str(len(packed.body))

    # Compressed once when stored, not per request: the bytes are the stored file.
    stored = Path(world.live.env["PREFIXHUB_DATA_DIR"], "storage", "index")
    copies = [p.read_bytes() for p in stored.glob("*/noarch/repodata.json.gz")]
    assert packed.body in copies

    revalidate = request(
        url, {"Accept-Encoding": "gzip", "If-None-Match": packed.headers["ETag"]}
    )
    assert revalidate.status == 304
    assert revalidate.headers["ETag"] == packed.headers["ETag"]
    assert "Accept-Encoding" in revalidate.headers["Vary"]
    # The other representation's tag does not validate this one.
    other = request(
        url, {"Accept-Encoding": "gzip", "If-None-Match": plain.headers["ETag"]}
    )
    assert other.status == 200 and other.headers["Content-Encoding"] == "gzip"
    refused = request(url, {"Accept-Encoding": "gzip;q=0, identity"})
    assert refused.headers["Content-Encoding"] is None
    assert refused.body == plain.body
    head = request(url, {"Accept-Encoding": "gzip"}, method="HEAD")
    assert head.headers["Content-Length"] == str(len(packed.body))
    assert head.body == b""


# --- private index files -----------------------------------------------------------


def test_private_index_files_must_be_revalidated_but_are_not_private(
    site: Any,
) -> None:
    world, _, private, _, _ = site
    auth = {"Authorization": f"Bearer {world.key}"}
    base = f"{world.live.url}/{private}/noarch"
    for name in ("repodata_shards.msgpack.zst", "repodata.json", "repodata.json.zst"):
        answer = request(f"{base}/{name}", auth)
        assert answer.status == 200, name
        assert answer.headers["Cache-Control"] == "no-cache, must-revalidate", name
        assert answer.headers["ETag"], name


def test_a_second_rattler_install_from_a_private_channel_revalidates_with_304(
    site: Any, tmp_path: Path
) -> None:
    world, _, private, _, _ = site
    cache = tmp_path / "rattler-cache"
    with RecordingProxy(world.live.port) as proxy:
        url = f"{proxy.url}/t/{world.key}/{private}"
        for run in ("one", "two"):
            result = run_client(
                "install", channel_url=url, specs=["apphttp"],
                workdir=str(tmp_path / run), platforms=["linux-64", "noarch"],
                cache_dir=str(cache),
            )  # fmt: skip
            assert result["ok"], result
            if run == "one":
                first = len(proxy.exchanges)
        second = proxy.exchanges[first:]

    indexes = [e for e in second if e.path.endswith("repodata_shards.msgpack.zst")]
    assert {e.path.split("/")[-2] for e in indexes} == {"noarch", "linux-64"}
    for exchange in indexes:
        assert exchange.request_headers.get("If-None-Match"), exchange.request_headers
        assert exchange.status == 304, exchange.path
        assert exchange.body_bytes == 0


# --- HEAD on HTML pages ----------------------------------------------------------


def _signed_in(world: World, password: str) -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(
        _NoRedirect, urllib.request.HTTPCookieProcessor(jar)
    )
    form = request(f"{world.live.url}/accounts/login/", opener=opener)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', form.body)
    assert token is not None
    data = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token[1].decode(), "login": world.user,
         "password": password}
    ).encode()  # fmt: skip
    req = urllib.request.Request(
        f"{world.live.url}/accounts/login/",
        data=data,
        headers={"Referer": f"{world.live.url}/accounts/login/"},
    )
    # A redirect (not followed) means the password was accepted.
    with pytest.raises(urllib.error.HTTPError) as refused:
        opener.open(req, timeout=30)
    refused.value.close()
    assert refused.value.code == 302
    assert any(cookie.name == "sessionid" for cookie in jar)
    request(f"{world.live.url}/", opener=opener)  # shows the "signed in" message once
    return opener


def test_head_on_every_html_page_answers_like_get_without_a_body(
    live: LiveService, tmp_path: Path
) -> None:
    world = World(live, tmp_path)
    live.manage("createuser", f"{world.user}p", "--email", f"{world.user}p@example.org",
                "--password", "head-test-pw-1")  # fmt: skip
    world.user = f"{world.user}p"
    world.key = live.manage("createapikey", world.user, "--name", "ci")
    channel = world.channel()
    lib, _ = world.packages("head")
    assert world.upload(channel, [lib]) == {"ok": True}
    signed_in = _signed_in(world, "head-test-pw-1")
    c = f"/channels/{channel}"
    pages = {
        "anonymous": ["/", "/?q=libhead", c, f"{c}/packages/libhead",
                      "/accounts/login/", "/accounts/signup/",
                      "/accounts/password/reset/", "/admin/login/",
                      "/channels/no-such-channel", c + "/settings"],
        "signed in": ["/", "/channels/new", c, f"{c}/settings",
                      f"{c}/settings/members", f"{c}/settings/trusted-publishers",
                      f"{c}/settings/danger", f"{c}/settings/activity",
                      f"{c}/settings/upload", f"{c}/packages/libhead",
                      f"{c}/files/noarch/{lib.name}/delete", "/settings/",
                      "/settings/api-keys/"],
    }  # fmt: skip
    for who, paths in pages.items():
        opener = signed_in if who == "signed in" else None
        for path in paths:
            get = request(live.url + path, opener=opener)
            head = request(live.url + path, method="HEAD", opener=opener)
            where = (who, path, get.status)
            assert head.status == get.status, where
            assert head.status != 405, where
            assert head.body == b"", where
            assert head.headers["Content-Type"] == get.headers["Content-Type"], where
            assert head.headers["Location"] == get.headers["Location"], where
            if get.status == 200:
                assert get.headers["Content-Type"].startswith("text/html"), where
                assert int(head.headers["Content-Length"]) == len(get.body), where
    # HEAD on the delete confirmation only asks; it never deletes.
    assert request(f"{live.url}/{channel}/noarch/{lib.name}").status == 200
