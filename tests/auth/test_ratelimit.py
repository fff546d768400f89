"""Rate limits: the buckets, API limits for clients, and the failure throttle of sign-ins."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from crvshub.app import create_app
from crvshub.auth.models import AuthFailure
from crvshub.auth.ratelimit import AuthLimits, TokenBucket, retry_after_header
from crvshub.auth.throttle import Policy, address_key, delay_after, key_for, throttle_of
from crvshub.context import AppContext
from crvshub.settings import SettingsError, load_settings
from tests.helpers import (
    FIELD_AGENT,
    NATLSYSADMIN,
    FakeTime,
    bearer,
    new_client,
    statements,
    user_token,
)
from tests.web.helpers import signin_form

WRONG = {"username": NATLSYSADMIN, "password": "guess"}
RIGHT = {"username": NATLSYSADMIN, "password": "test"}
ATTACKER = "198.51.100.9"
VICTIM = "203.0.113.5"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now




def frozen(*contexts: AppContext) -> FakeTime:
    clock = FakeTime()
    for ctx in contexts:
        throttle_of(ctx).clock = clock
    return clock


def from_address(app: Any, address: str) -> TestClient:
    return TestClient(app, raise_server_exceptions=False, client=(address, 40000))


def test_token_bucket_allows_a_burst_then_refills() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=2.0, burst=3, clock=clock)
    assert [bucket.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take("a") == 0.5
    assert bucket.take("b") == 0.0
    clock.now += 0.5
    assert bucket.take("a") == 0.0
    clock.now += 100
    assert [bucket.take("a") for _ in range(4)][-1] > 0  # never more than the burst


def test_retry_after_is_whole_seconds_at_least_one() -> None:
    assert retry_after_header(0.01) == {"Retry-After": "1"}
    assert retry_after_header(2.2) == {"Retry-After": "3"}


def test_delays_double_after_the_free_failures_up_to_the_cap() -> None:
    assert [delay_after(n, 3, 10) for n in range(1, 9)] == [0, 0, 0, 1, 2, 4, 8, 10]
    assert delay_after(10_000, 3, 60) == 60


def test_pairs_are_per_username_and_ipv6_network() -> None:
    assert key_for("user", "H.Sewanti", "10.0.0.1") == key_for("user", "h.sewanti", "10.0.0.1")
    assert key_for("client", "AbC", "x").subject != key_for("client", "abc", "x").subject
    assert address_key("2001:db8:1:2:3:4:5:6") == address_key("2001:db8:1:2::9")
    assert address_key(None) == "unknown"


def test_trusted_proxies_must_be_addresses_or_networks() -> None:
    assert load_settings(trusted_proxies="10.0.0.0/8, 192.0.2.1,::1").trusted_proxies
    with pytest.raises(SettingsError, match="CRVSHUB_TRUSTED_PROXIES"):
        load_settings(trusted_proxies="10.0.0.0/8,proxy.example")


def test_api_calls_are_limited_per_client_with_retry_after(client: TestClient, ctx) -> None:
    ctx.auth_limits = AuthLimits(TokenBucket(100, 100), TokenBucket(0.5, 2))
    _creds, token = new_client(ctx, "HEALTH")
    _other, other_token = new_client(ctx, "WEBHOOK")
    statuses = [client.get("/api/auth/me", headers=bearer(token)).status_code for _ in range(2)]
    assert statuses == [200, 200]
    limited = client.get("/api/auth/me", headers=bearer(token))
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "2"
    assert limited.json()["issue"][0]["details"]["coding"][0]["code"] == "GEN-429-001"
    assert client.get("/api/auth/me", headers=bearer(other_token)).status_code == 200
    staff = bearer(user_token(ctx, FIELD_AGENT))
    assert all(client.get("/api/auth/me", headers=staff).status_code == 200 for _ in range(5))


def test_the_victim_signs_in_while_an_attacker_fails_50_times(app, client, ctx) -> None:
    frozen(ctx)
    attacker = from_address(app, ATTACKER)
    statuses = [attacker.post("/api/auth/login", json=WRONG).status_code for _ in range(50)]
    assert statuses[:6] == [401] * 6 and set(statuses[6:]) == {429}
    victim = from_address(app, VICTIM)
    assert victim.post("/api/auth/login", json=RIGHT).status_code == 200
    web = victim.post("/login", data={**RIGHT, **signin_form(victim)}, follow_redirects=False)
    assert web.status_code == 303
    # Failures that came during a delay were not even checked, so they were not counted.
    with ctx.db.transaction() as session:
        counted = session.scalar(select(func.max(AuthFailure.failures)))
    assert counted == 6


def test_the_attacker_waits_longer_after_each_failure(app, client, ctx) -> None:
    clock = frozen(ctx)
    attacker = from_address(app, ATTACKER)
    assert [attacker.post("/api/auth/login", json=WRONG).status_code
            for _ in range(6)] == [401] * 6
    waits = []
    for _ in range(4):
        held = attacker.post("/api/auth/login", json=WRONG)
        assert held.status_code == 429
        assert held.json()["issue"][0]["details"]["coding"][0]["code"] == "AUTH-429-001"
        waits.append(int(held.headers["retry-after"]))
        # Even the right password is not checked during the delay.
        assert attacker.post("/api/auth/login", json=RIGHT).status_code == 429
        clock.advance(waits[-1])
        assert attacker.post("/api/auth/login", json=WRONG).status_code == 401
    assert waits == [1, 2, 4, 8]
    clock.advance(16)
    assert attacker.post("/api/auth/login", json=RIGHT).status_code == 200
    assert attacker.post("/api/auth/login", json=WRONG).status_code == 401  # the pair was reset


def test_two_api_processes_share_the_count(app, client, ctx, settings) -> None:
    other_app = create_app(settings, start_worker=False)
    with TestClient(other_app, raise_server_exceptions=False, client=(ATTACKER, 1)) as other:
        frozen(ctx, other_app.state.ctx)
        here = from_address(app, ATTACKER)
        statuses = [(here if i % 2 else other).post("/api/auth/login", json=WRONG).status_code
                    for i in range(6)]
        assert statuses == [401] * 6
        assert here.post("/api/auth/login", json=WRONG).status_code == 429
        assert other.post("/api/auth/login", json=WRONG).status_code == 429
        assert from_address(app, VICTIM).post("/api/auth/login", json=RIGHT).status_code == 200


def test_many_addresses_meet_the_per_user_cap_which_only_delays(app, client, ctx) -> None:
    clock = frozen(ctx)
    throttle_of(ctx).policy = Policy(free=5, free_per_principal=8, max_delay=4, memory=900)

    def bot(index: int) -> int:
        response = from_address(app, f"192.0.2.{index}").post("/api/auth/login", json=WRONG)
        if response.status_code == 429:
            assert int(response.headers["retry-after"]) <= 4
        return response.status_code

    assert [bot(index) for index in range(1, 10)] == [401] * 9
    victim = from_address(app, VICTIM)
    held = victim.post("/api/auth/login", json=RIGHT)
    assert held.status_code == 429 and held.headers["retry-after"] == "1"
    for index in range(10, 20):
        clock.advance(4)
        assert bot(index) == 401
        assert bot(index + 100) == 429
    clock.advance(4)
    assert victim.post("/api/auth/login", json=RIGHT).status_code == 200


def test_web_login_form_is_throttled_per_pair(app, client, ctx) -> None:
    frozen(ctx)
    attacker = from_address(app, ATTACKER)
    wrong = {"username": NATLSYSADMIN, "password": "no"}
    for _ in range(6):
        assert attacker.post("/login", data=wrong, follow_redirects=False).status_code == 401
    blocked = attacker.post("/login", data=RIGHT, follow_redirects=False)
    assert blocked.status_code == 429 and blocked.headers["retry-after"] == "1"
    victim = from_address(app, VICTIM)
    assert victim.post("/login", data={**RIGHT, **signin_form(victim)},
                       follow_redirects=False).status_code == 303




def test_a_login_without_failures_reads_the_table_once(client: TestClient, ctx) -> None:
    def send() -> None:
        assert client.post("/api/auth/login", json=RIGHT).status_code == 200

    touching = [s for s in statements(ctx, send) if "auth_failures" in s]
    assert len(touching) == 1 and touching[0].startswith("SELECT"), touching


def test_a_token_without_failures_needs_no_database(client: TestClient, ctx) -> None:
    creds, _ = new_client(ctx, "HEALTH")
    params = {"client_id": creds.client.client_id, "client_secret": creds.client_secret,
              "grant_type": "client_credentials"}
    first = statements(ctx, lambda: client.post("/token", data=params))
    assert len([s for s in first if "auth_failures" in s]) == 1
    # Within the second the memories last nothing is read; a slow machine may need a retry.
    assert any(statements(ctx, lambda: client.post("/token", data=params)) == []
               for _ in range(3))
