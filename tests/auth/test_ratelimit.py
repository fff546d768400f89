"""Rate limits: the buckets themselves, API limits for clients, and login throttling."""

from __future__ import annotations

from fastapi.testclient import TestClient

from crvshub.auth.ratelimit import AuthLimits, FailureWindow, TokenBucket, retry_after_header
from tests.conftest import FIELD_AGENT, NATLSYSADMIN, bearer, new_client, user_token


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


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


def test_failure_window_blocks_until_the_oldest_failure_ages_out() -> None:
    clock = FakeClock()
    window = FailureWindow(limit=2, window=60, clock=clock)
    window.fail("u")
    clock.now += 10
    assert window.blocked_for("u") == 0
    window.fail("u")
    assert window.blocked_for("u") == 50
    clock.now += 50
    assert window.blocked_for("u") == 0
    window.fail("u")
    window.clear("u")
    assert window.blocked_for("u") == 0


def test_retry_after_is_whole_seconds_at_least_one() -> None:
    assert retry_after_header(0.01) == {"Retry-After": "1"}
    assert retry_after_header(2.2) == {"Retry-After": "3"}


def _limits(**overrides) -> AuthLimits:
    values = {
        "token_requests": TokenBucket(100, 100), "token_failures": FailureWindow(100, 60),
        "api_requests": TokenBucket(100, 100), "login_user": FailureWindow(5, 60),
        "login_address": FailureWindow(20, 60),
    }
    return AuthLimits(**{**values, **overrides})


def test_api_calls_are_limited_per_client_with_retry_after(client: TestClient, ctx) -> None:
    ctx.auth_limits = _limits(api_requests=TokenBucket(0.5, 2))
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


def test_failed_logins_are_throttled_per_user(client: TestClient, ctx) -> None:
    ctx.auth_limits = _limits(login_user=FailureWindow(3, 900))
    wrong = {"username": NATLSYSADMIN, "password": "guess"}
    assert [client.post("/api/auth/login", json=wrong).status_code for _ in range(3)] == [401] * 3
    blocked = client.post("/api/auth/login", json={"username": NATLSYSADMIN, "password": "test"})
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 800
    assert blocked.json()["issue"][0]["details"]["coding"][0]["code"] == "AUTH-429-001"
    other = client.post("/api/auth/login", json={"username": FIELD_AGENT, "password": "test"})
    assert other.status_code == 200


def test_success_resets_the_user_count(client: TestClient, ctx) -> None:
    ctx.auth_limits = _limits(login_user=FailureWindow(3, 900))
    wrong = {"username": NATLSYSADMIN, "password": "guess"}
    right = {"username": NATLSYSADMIN, "password": "test"}
    for _ in range(3):
        client.post("/api/auth/login", json=wrong)
        client.post("/api/auth/login", json=wrong)
        assert client.post("/api/auth/login", json=right).status_code == 200


def test_failed_logins_are_throttled_per_address(client: TestClient, ctx) -> None:
    ctx.auth_limits = _limits(login_address=FailureWindow(4, 900))
    for index in range(4):
        response = client.post("/api/auth/login",
                               json={"username": f"nobody{index}", "password": "x"})
        assert response.status_code == 401
    blocked = client.post("/api/auth/login", json={"username": FIELD_AGENT, "password": "test"})
    assert blocked.status_code == 429


def test_web_login_form_is_throttled_too(client: TestClient, ctx) -> None:
    ctx.auth_limits = _limits(login_user=FailureWindow(2, 900))
    for _ in range(2):
        assert client.post("/login", data={"username": NATLSYSADMIN, "password": "no"},
                           follow_redirects=False).status_code == 401
    blocked = client.post("/login", data={"username": NATLSYSADMIN, "password": "test"},
                          follow_redirects=False)
    assert blocked.status_code == 429 and "Retry-After" in blocked.headers
