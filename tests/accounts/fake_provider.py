"""A fake GitHub and Google on loopback: just the OAuth endpoints allauth calls."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import jwt


class FakeProvider:
    """Answers what the current test set: ``github_user``, ``github_emails``,
    ``google_claims``. ``requests`` records (method, path, form) of every call."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.github_user: dict[str, Any] = {}
        self.github_emails: list[dict[str, Any]] = []
        self.google_claims: dict[str, Any] = {}
        self.google_client_id = ""
        self.requests: list[tuple[str, str, dict[str, list[str]]]] = []

    def answer(self, method: str, path: str, form: dict[str, list[str]]) -> Any:
        self.requests.append((method, path, form))
        if path == "/login/oauth/access_token":
            return {"access_token": "gho_fake", "token_type": "bearer", "scope": ""}
        if path == "/api/v3/user":
            return self.github_user
        if path == "/api/v3/user/emails":
            return self.github_emails
        if path == "/google/token":
            now = int(time.time())
            claims = {
                "iss": "https://accounts.google.com",
                "aud": self.google_client_id,
                "iat": now,
                "exp": now + 600,
                **self.google_claims,
            }
            # Fetched straight from Google over TLS, the ID token's signature is not
            # checked (OpenID Connect Core 3.1.3.7), so any key will do here.
            id_token = jwt.encode(
                claims, "fake-google-signing-key-" * 4, algorithm="HS256"
            )
            return {
                "access_token": "ya29.fake",
                "expires_in": 3599,
                "token_type": "Bearer",
                "id_token": id_token,
            }
        return None


def _handler(provider: FakeProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _reply(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode()) if length else {}
            body = provider.answer(method, self.path.split("?")[0], form)
            payload = json.dumps(body).encode()
            self.send_response(404 if body is None else 200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            self._reply("GET")

        def do_POST(self) -> None:
            self._reply("POST")

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def running_fake_provider() -> Iterator[FakeProvider]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(None))  # type: ignore[arg-type]
    provider = FakeProvider(f"http://127.0.0.1:{server.server_address[1]}")
    server.RequestHandlerClass = _handler(provider)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
