"""Callback addresses: wrapped IPv6 forms, DNS rebinding, redirects, no oracle, a short log."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from crvshub.context import AppContext
from crvshub.webhook import delivery, domain
from crvshub.webhook.callbacks import VERIFICATION_FAILED
from crvshub.webhook.delivery import DeliveryEngine
from tests.helpers import free_port
from tests.webhook.conftest import Subscriber, subscribe
from tests.webhook.factories import register_births
from tests.webhook.receiver import Receiver


@pytest.mark.parametrize(("address", "public"), [
    ("8.8.8.8", True),
    ("2606:4700::1111", True),
    ("10.0.0.1", False),
    ("100.64.0.1", False),  # shared address space (carrier-grade NAT)
    ("::ffff:127.0.0.1", False),
    ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
    ("64:ff9b::7f00:1", False),  # NAT64 of 127.0.0.1
    ("64:ff9b::a9fe:a9fe", False),  # NAT64 of 169.254.169.254
    ("64:ff9b::808:808", True),  # NAT64 of 8.8.8.8
    ("64:ff9b:1::a00:1", False),  # local-use NAT64: destination unknown
    ("2002:a00:1::1", False),  # 6to4 of 10.0.0.1
    ("2002:a9fe:a9fe::1", False),  # 6to4 of 169.254.169.254
    ("2002:808:808::1", True),  # 6to4 of 8.8.8.8
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False),  # Teredo
    ("::7f00:1", False),  # IPv4-compatible (deprecated)
    ("::", False),
    ("224.0.0.1", False),
])
def test_wrapped_addresses_are_classified_by_what_they_reach(address: str, public: bool) -> None:
    assert domain.address_is_public(address) is public


def test_loopback_inside_a_wrapper_is_loopback() -> None:
    assert domain.address_is_loopback("::ffff:127.0.0.1")
    assert domain.address_is_loopback("64:ff9b::7f00:1")
    assert not domain.address_is_loopback("64:ff9b::808:808")


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Answers for made-up host names: each lookup takes the next answer (the last repeats)."""
    answers: dict[str, list[str]] = {}
    real = socket.getaddrinfo
    lock = threading.Lock()

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name not in answers:
            return real(host, port, *args, **kwargs)
        with lock:
            queue = answers[name]
            address = queue.pop(0) if len(queue) > 1 else queue[0]
        port = int(port or 0)
        if ":" in address:
            return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0))]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


@pytest.fixture
def inside_and_outside() -> Iterator[tuple[Receiver, Receiver]]:
    """A service at 127.0.0.2 (the inside) and a receiver at 127.0.0.1, on the same port."""
    inside = Receiver(host="127.0.0.2").start()
    outside = Receiver(host="127.0.0.1", port=inside.port).start()
    yield inside, outside
    inside.stop()
    outside.stop()


def _production(ctx: AppContext, allowlist: str = "") -> None:
    ctx.settings.webhook_allow_private = False
    ctx.settings.environment = "production"
    ctx.settings.webhook_allowlist = allowlist


def _hub(sub: Subscriber, callback: str) -> dict[str, object]:
    return {"hub": {"callback": callback, "mode": "subscribe", "topic": "BIRTH_REGISTERED",
                    "secret": sub.creds.sha_secret}}


def test_intent_check_connects_to_the_address_it_checked(
    client: TestClient, ctx: AppContext, subscriber: Subscriber,
    fake_dns: dict[str, list[str]], inside_and_outside: tuple[Receiver, Receiver],
) -> None:
    inside, outside = inside_and_outside
    _production(ctx, allowlist="127.0.0.1")
    # Checked: 127.0.0.1 (allowlisted); a second lookup would answer the inside address.
    fake_dns["rebind.test"] = ["127.0.0.1", "127.0.0.2"]
    url = f"http://rebind.test:{outside.port}/hook"
    response = client.post("/webhooks", json=_hub(subscriber, url), headers=subscriber.headers)
    assert response.status_code == 202, response.text
    assert inside.verifications == []
    assert len(outside.verifications) == 1
    assert outside.verify_headers[0]["host"] == f"rebind.test:{outside.port}"


def test_delivery_connects_to_the_address_it_checked(
    client: TestClient, ctx: AppContext, subscriber: Subscriber,
    fake_dns: dict[str, list[str]], inside_and_outside: tuple[Receiver, Receiver],
) -> None:
    inside, outside = inside_and_outside
    fake_dns["rebind.test"] = ["127.0.0.1"]
    subscribe(client, subscriber, f"http://rebind.test:{outside.port}/hook")
    _production(ctx, allowlist="127.0.0.1")
    fake_dns["rebind.test"] = ["127.0.0.1", "127.0.0.2"]
    register_births(ctx, 1)
    engine = DeliveryEngine(ctx)
    try:
        assert engine.run_once() == 1
    finally:
        engine.close()
    assert inside.received == []
    assert len(outside.received) == 1
    assert outside.received[0].headers["host"] == f"rebind.test:{outside.port}"


@pytest.mark.parametrize("address", ["64:ff9b::7f00:1", "2002:7f00:1::1", "::ffff:10.0.0.1"])
def test_wrapped_private_addresses_are_refused(
    client: TestClient, ctx: AppContext, subscriber: Subscriber,
    fake_dns: dict[str, list[str]], address: str,
) -> None:
    _production(ctx)
    fake_dns["wrapped.test"] = [address]
    response = client.post("/webhooks", json=_hub(subscriber, "http://wrapped.test/hook"),
                           headers=subscriber.headers)
    assert response.status_code == 400
    assert response.json()["issue"][0]["details"]["coding"][0]["code"] == "WH-400-005"
    assert address not in response.text


def _garbage_server() -> tuple[socket.socket, int]:
    """A TCP server that answers anything with bytes that are not HTTP."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                conn.recv(4096)
                conn.sendall(b"\x00\x01 not http at all\r\n\r\n")

    threading.Thread(target=serve, daemon=True).start()
    return server, int(server.getsockname()[1])


def test_failed_checks_say_nothing_about_what_answered(
    client: TestClient, subscriber: Subscriber, receiver: Receiver
) -> None:
    # The operator allowed private addresses: the check must still not map ports and services.
    garbage, garbage_port = _garbage_server()
    receiver.verify_status = 401
    targets = [f"http://127.0.0.1:{free_port()}/closed", receiver.url,
               f"http://127.0.0.1:{garbage_port}/db"]
    try:
        answers = [client.post("/webhooks", json=_hub(subscriber, url),
                               headers=subscriber.headers) for url in targets]
    finally:
        garbage.close()
    for response in answers:
        assert response.status_code == 400
        assert response.json()["hub"]["reason"] == VERIFICATION_FAILED
        # Only the words meant for the subscriber: ids in the body are random hex.
        said = response.json()["hub"]["reason"] + response.json()["issue"][0]["diagnostics"]
        for word in ("ConnectError", "401", "RemoteProtocolError", "Errno", "refused"):
            assert word not in said
    assert len({r.json()["issue"][0]["diagnostics"] for r in answers}) == 1


def test_redirects_are_not_followed(
    client: TestClient, subscriber: Subscriber, receiver: Receiver
) -> None:
    target = Receiver().start()
    try:
        receiver.verify_status = 302
        receiver.verify_location = target.url
        response = client.post("/webhooks", json=_hub(subscriber, receiver.url),
                               headers=subscriber.headers)
        assert response.status_code == 400
        assert target.verifications == []
    finally:
        target.stop()


def test_delivery_errors_are_categories_without_internal_detail(
    client: TestClient, ctx: AppContext, subscriber: Subscriber, receiver: Receiver,
    engine: DeliveryEngine,
) -> None:
    sub_id = subscribe(client, subscriber, receiver.url)
    receiver.stop()
    register_births(ctx, 1)
    assert engine.run_once() == 1
    page = client.get(f"/webhooks/{sub_id}/deliveries", headers=subscriber.headers).json()
    attempt = page["entries"][0]["attempts"][0]
    assert attempt["error"] == "network error: could not connect"
    assert attempt["response"] is None


class _Stream:
    """What httpcore tells about a connection: here, only the peer address."""

    def __init__(self, peer: str) -> None:
        self.peer = peer

    def get_extra_info(self, info: str) -> Any:
        return (self.peer, 443) if info == "server_addr" else None


def test_the_log_keeps_256_bytes_of_public_answers_and_nothing_of_private_ones() -> None:
    body = b"\x1b[2Jsecret" + b"x" * 5000
    public = httpx.Response(200, content=body, extensions={"network_stream": _Stream("8.8.8.8")})
    excerpt = delivery._excerpt(public)
    assert excerpt is not None
    assert len(excerpt.encode()) == domain.RESPONSE_EXCERPT_BYTES == 256
    assert excerpt.startswith(" [2Jsecret")
    private = httpx.Response(200, content=body, extensions={"network_stream": _Stream("10.0.0.1")})
    assert delivery._excerpt(private) is None
