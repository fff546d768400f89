"""A real HTTP webhook receiver on a free loopback port, for tests and the benchmark."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Received:
    """One POST the receiver got."""

    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers intent checks, records deliveries, and answers with scripted statuses."""

    port: int = 0
    received: list[Received] = field(default_factory=list)
    verifications: list[dict[str, list[str]]] = field(default_factory=list)
    # Statuses to answer, in order; 200 once exhausted. Each item may be (status, headers).
    script: list[Any] = field(default_factory=list)
    delay: float = 0.0
    echo: bool = True
    host: str = "127.0.0.1"
    verify_delay: float = 0.0  # seconds before answering an intent check
    verify_status: int | None = None  # answer intent checks with this status, no echo
    verify_location: str | None = None  # with verify_status, a Location header (redirects)
    verify_headers: list[dict[str, str]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/hook"

    def start(self) -> Receiver:
        handler = _handler_for(self)
        self.server = _Server((self.host, self.port), handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def next_response(self) -> tuple[int, dict[str, str]]:
        with self.lock:
            if not self.script:
                return 200, {}
            item = self.script.pop(0)
        return item if isinstance(item, tuple) else (item, {})

    def wait_for(self, predicate: Callable[[list[Received]], bool], timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                snapshot = list(self.received)
            if predicate(snapshot):
                return
            time.sleep(0.05)
        raise AssertionError(f"receiver condition not met; got {len(self.received)} posts")

    def ids(self) -> set[str]:
        with self.lock:
            return {r.headers["webhook-id"] for r in self.received}


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # many intent checks may arrive at once

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up waiting (a time limit under test) is not a failure


def _handler_for(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_args: Any) -> None:
            pass

        def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None,
                    content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            query = parse_qs(urlsplit(self.path).query)
            receiver.verifications.append(query)
            receiver.verify_headers.append({k.lower(): v for k, v in self.headers.items()})
            if receiver.verify_delay:
                time.sleep(receiver.verify_delay)
            if receiver.verify_status is not None:
                location = receiver.verify_location
                self._answer(receiver.verify_status, b"{}",
                             {"Location": location} if location else None)
            elif not receiver.echo:
                self._answer(404, b"{}")
            elif "hub.challenge" in query:
                self._answer(200, query["hub.challenge"][0].encode(), content_type="text/plain")
            else:
                challenge = query.get("challenge", [""])[0]
                self._answer(200, json.dumps({"challenge": challenge}).encode())

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            if receiver.delay:
                time.sleep(receiver.delay)
            status, headers = receiver.next_response()
            with receiver.lock:
                receiver.received.append(
                    Received({k.lower(): v for k, v in self.headers.items()}, body,
                             time.time()))
            self._answer(status, json.dumps({"status": status}).encode(), headers)

    return Handler
