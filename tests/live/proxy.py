"""A reverse proxy on loopback that records what clients ask and what they get.

Clients are pointed at the proxy instead of the live server, so a test can see the
exact requests a real client sends (``Range``, ``If-None-Match``...) and the status
it got back (``206``, ``304``...). It can also cut a response short after a number
of body bytes and close the connection, the way a dropped network link would.
"""

from __future__ import annotations

import http.client
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.live.service import free_port

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "upgrade",
               "proxy-connection", "te", "trailer"}  # fmt: skip


def _canonical(headers: dict[str, str]) -> dict[str, str]:
    """Header names spelt one way, whatever the sender did: ``Content-Range``."""
    return {
        "-".join(p.capitalize() for p in k.split("-")): v for k, v in headers.items()
    }


@dataclass
class Exchange:
    method: str
    path: str
    request_headers: dict[str, str]
    status: int = 0
    response_headers: dict[str, str] = field(default_factory=dict)
    body_bytes: int = 0
    cut: bool = False


class RecordingProxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.exchanges: list[Exchange] = []
        # path suffix -> body bytes to pass before cutting (once per entry)
        self.cuts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> RecordingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()

    def matching(self, suffix: str, method: str = "GET") -> list[Exchange]:
        with self._lock:
            return [
                e
                for e in self.exchanges
                if e.method == method and e.path.split("?")[0].endswith(suffix)
            ]

    def _take_cut(self, path: str) -> int | None:
        with self._lock:
            for suffix in list(self.cuts):
                if path.endswith(suffix):
                    return self.cuts.pop(suffix)
        return None

    def _record(self, exchange: Exchange) -> None:
        with self._lock:
            self.exchanges.append(exchange)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._forward()

            def do_HEAD(self) -> None:
                self._forward()

            def _forward(self) -> None:
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in _HOP_BY_HOP}  # fmt: skip
                # Clients spell header names as they like (conda: "if-none-match").
                exchange = Exchange(self.command, self.path, _canonical(headers))
                upstream = http.client.HTTPConnection(
                    "127.0.0.1", proxy.upstream_port, timeout=60
                )
                upstream.request(self.command, self.path, headers=headers)
                response = upstream.getresponse()
                exchange.status = response.status
                # So do servers (granian sends lower case: "content-range").
                exchange.response_headers = _canonical(dict(response.getheaders()))
                cut = proxy._take_cut(self.path.split("?")[0])
                self.send_response_only(response.status, response.reason)
                for key, value in response.getheaders():
                    if key.lower() not in _HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                try:
                    self._relay(response, exchange, cut)
                finally:
                    upstream.close()
                    proxy._record(exchange)

            def _relay(
                self, response: Any, exchange: Exchange, cut: int | None
            ) -> None:
                while chunk := response.read(64 * 1024):
                    if cut is not None and exchange.body_bytes + len(chunk) >= cut:
                        self.wfile.write(chunk[: cut - exchange.body_bytes])
                        self.wfile.flush()
                        exchange.body_bytes = cut
                        exchange.cut = True
                        # An abrupt end: the client has fewer bytes than promised.
                        self.connection.shutdown(socket.SHUT_RDWR)
                        return
                    self.wfile.write(chunk)
                    exchange.body_bytes += len(chunk)

        return Handler
