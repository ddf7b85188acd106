"""The hot path in front of Django (channels/hotpath.py) answers the shard index,
shards and repodata.json.zst exactly as the Django views do, and leaves every other
request to Django.

Each test drives the project's WSGI application (``prefixhub.wsgi.application``) as
a server would, and compares with the Django test client, which never passes
through the hot path.
"""

from __future__ import annotations

import io
import sys
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import ApiKey
from channels.hotpath import HotReads
from prefixhub.wsgi import application, django_application
from tests.channels import test_serving
from tests.channels.test_serving import INDEX, bearer
from tests.conftest import as_a_server_calls

hush_pkg = test_serving.hush_pkg
public_files = test_serving.public_files
secret_files = test_serving.secret_files

COMPARED = [
    "ETag", "Cache-Control", "Content-Type", "Content-Length", "Last-Modified",
    "X-Accel-Redirect", "Location", "X-Content-Type-Options", "Referrer-Policy",
    "Cross-Origin-Opener-Policy", "Content-Security-Policy",
    "Strict-Transport-Security",
]  # fmt: skip


def environ(path: str, method: str = "GET", **meta: str) -> dict[str, Any]:
    env: dict[str, Any] = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "",
        "SERVER_NAME": "testserver", "SERVER_PORT": "80", "HTTP_HOST": "testserver",
        "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr,
    }  # fmt: skip
    env.update(meta)
    return env


def serve(app: Any, env: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body as a WSGI server would send them."""
    started: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        started["status"] = int(status.split()[0])
        started["headers"] = {name.lower(): value for name, value in headers}

    with as_a_server_calls():
        result = app(env, start_response)
        try:
            data = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
    return started["status"], started["headers"], data


def django_answer(
    client: Any, path: str, method: str = "GET", **meta: Any
) -> tuple[int, dict[str, str], bytes]:
    call = {"GET": client.get, "HEAD": client.head, "POST": client.post}[method]
    response = call(path, **meta)
    data = test_serving.body(response)
    return response.status_code, {k.lower(): v for k, v in response.items()}, data


def assert_same(
    hot: tuple[int, dict[str, str], bytes], django: tuple[int, dict[str, str], bytes]
) -> None:
    assert hot[0] == django[0]
    assert hot[2] == django[2]
    for name in COMPARED:
        key = name.lower()
        if name == "Content-Length" and key not in django[1]:
            continue  # Django leaves an empty body's length to the server
        assert hot[1].get(key) == django[1].get(key), name


def requests(
    public: dict[str, str], secret: dict[str, str], key: str, etag: str
) -> dict[str, tuple[str, str, dict[str, str]]]:
    return {
        "public index": ("GET", public[INDEX], {}),
        "public repodata.json.zst": ("GET", public["repodata.json.zst"], {}),
        "public shard": ("GET", public["shard"], {}),
        "public shard, HEAD": ("HEAD", public["shard"], {}),
        "index revalidated": ("GET", public[INDEX], {"HTTP_IF_NONE_MATCH": etag}),
        "index not modified since": (
            "GET",
            public[INDEX],
            {"HTTP_IF_MODIFIED_SINCE": "Fri, 01 Jan 2100 00:00:00 GMT"},
        ),
        "shard revalidated": (
            "GET",
            public["shard"],
            {"HTTP_IF_NONE_MATCH": '"' + public["shard"].split("/")[-1][:64] + '"'},
        ),
        "private shard, Bearer": ("GET", "/" + secret["shard"], bearer(key)),
        "private index, Bearer": ("GET", "/" + secret[INDEX], bearer(key)),
        "private shard, /t/ key": ("GET", f"/t/{key}/" + secret["shard"], {}),
    }


@pytest.mark.parametrize("mode", ["stream", "accel"])
def test_the_hot_path_answers_exactly_as_django_does(
    client: Any,
    settings: Any,
    public_files: dict[str, str],
    secret_files: dict[str, str],
    bob_key: str,
    mode: str,
) -> None:
    settings.PREFIXHUB_SERVE_MODE = mode
    etag = client.head(public_files[INDEX])["ETag"]
    cases = requests(public_files, secret_files, bob_key, etag)
    for label, (method, path, meta) in cases.items():
        found = application.answer(environ(path, method, **meta))
        assert found is not None, label
        if found[1] is not None:
            found[1].close()

        hot = serve(application, environ(path, method, **meta))

        assert_same(hot, django_answer(client, path, method, **meta))
        assert hot[0] in (200, 304), label


def test_the_hot_path_sends_the_same_security_headers_over_https(
    settings: Any, public_files: dict[str, str]
) -> None:
    settings.SECURE_HSTS_SECONDS = 3600
    # Both read the settings when they start.
    app, client = HotReads(django_application), Client()
    path = public_files["shard"]

    hot = serve(app, environ(path, **{"wsgi.url_scheme": "https"}))

    assert hot[1]["strict-transport-security"] == "max-age=3600"
    assert_same(hot, django_answer(client, path, secure=True))


def test_a_read_through_the_hot_path_records_the_key_use(
    secret_files: dict[str, str], bob: Any, bob_key: str
) -> None:
    stale = timezone.now() - timedelta(hours=1)
    ApiKey.objects.filter(user=bob).update(last_used_at=stale)

    status, _, _ = serve(
        application, environ("/" + secret_files["shard"], **bearer(bob_key))
    )

    assert status == 200
    used = ApiKey.objects.get(user=bob).last_used_at
    assert used is not None and used > stale


def test_django_answers_what_the_hot_path_leaves(
    public_files: dict[str, str],
    secret_files: dict[str, str],
    charlie_key: str,
    bob_key: str,
) -> None:
    shard = "/" + secret_files["shard"]
    missing = public_files["shard"].rsplit("/", 1)[0] + "/" + "0" * 64 + ".msgpack.zst"
    cases = {
        "private, no key": ("GET", shard, {}),
        "private, unknown key": ("GET", shard, bearer("phub-not-a-key")),
        "private, outsider's key": ("GET", shard, bearer(charlie_key)),
        "malformed Basic": ("GET", shard, {"HTTP_AUTHORIZATION": "Basic %%%"}),
        "trusted-publishing token": ("GET", shard, bearer("phub-tp-nope")),
        "unknown channel": ("GET", "/nowhere/noarch/" + INDEX, {}),
        "unknown platform": ("GET", "/demo/plan9-68k/" + INDEX, {}),
        "missing shard": ("GET", missing, {}),
        "repodata.json": ("GET", public_files["repodata.json"], {}),
        "package file": ("GET", public_files["package"], {}),
        "POST": ("POST", public_files["shard"], {}),
        "session cookie": (
            "GET",
            shard,
            {"HTTP_COOKIE": "sessionid=abc", **bearer(bob_key)},
        ),
    }
    client = Client(enforce_csrf_checks=True)  # as a real client meets them
    for label, (method, path, meta) in cases.items():
        assert application.answer(environ(path, method, **meta)) is None, label

        status, _, _ = serve(application, environ(path, method, **meta))

        assert status == django_answer(client, path, method, **meta)[0], label
