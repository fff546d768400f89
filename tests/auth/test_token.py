"""The token endpoint: every accepted request form, the JWT it issues, and RFC 6749 errors."""

from __future__ import annotations

import base64
from urllib.parse import quote

import jwt
import pytest
from fastapi.testclient import TestClient

from crvshub.auth.ratelimit import AuthLimits, TokenBucket
from crvshub.auth.throttle import throttle_of
from tests.helpers import FakeTime, bearer, new_client

OPENCRVS_MISSING = (
    "Invalid request. Check that all required parameters "
    "(client_id, client_secret and grant_type) have been provided."
)
ERROR_URI = "Refer to https://documentation.opencrvs.org/technology/interoperability/authenticate-a-client"


def _basic(client_id: str, secret: str) -> dict[str, str]:
    raw = f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def _verify(client: TestClient, token: str) -> dict:
    jwks = client.get("/.well-known/jwks.json").json()
    kid = jwt.get_unverified_header(token)["kid"]
    key = jwt.PyJWK(next(k for k in jwks["keys"] if k["kid"] == kid)).key
    return jwt.decode(token, key, algorithms=["RS256"], audience="opencrvs:gateway-user",
                      issuer="opencrvs:auth-service")


def test_query_string_form_as_opencrvs_clients_send_it(client: TestClient, ctx) -> None:
    creds, _ = new_client(ctx, "HEALTH")
    response = client.post(
        "/token",
        params={"client_id": creds.client.client_id, "client_secret": creds.client_secret,
                "grant_type": "client_credentials"},
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 600
    claims = _verify(client, body["access_token"])
    assert claims["sub"] == creds.client.id
    assert claims["client_id"] == creds.client.client_id
    assert claims["scope"] == ["declare", "notification-api"]
    assert "opencrvs:notification-api-user" in claims["aud"]
    assert claims["exp"] - claims["iat"] == 600
    assert len(claims["jti"]) >= 16
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "RS256"


@pytest.mark.parametrize("path", ["/token", "/oauth2/token", "/auth/token"])
def test_form_body_on_every_path(client: TestClient, ctx, path: str) -> None:
    creds, _ = new_client(ctx, "RECORD_SEARCH")
    response = client.post(path, data={
        "client_id": creds.client.client_id, "client_secret": creds.client_secret,
        "grant_type": "client_credentials"})
    assert response.status_code == 200, response.text
    assert _verify(client, response.json()["access_token"])["scope"] == ["recordsearch"]


def test_json_body_and_http_basic(client: TestClient, ctx) -> None:
    creds, _ = new_client(ctx, "WEBHOOK")
    as_json = client.post("/token", json={
        "client_id": creds.client.client_id, "client_secret": creds.client_secret,
        "grant_type": "client_credentials"})
    assert as_json.status_code == 200, as_json.text
    basic = client.post("/token", data={"grant_type": "client_credentials"},
                        headers=_basic(creds.client.client_id, creds.client_secret))
    assert basic.status_code == 200, basic.text
    assert _verify(client, basic.json()["access_token"])["scope"] == ["webhook"]


def test_issued_token_authenticates_api_calls(client: TestClient, ctx) -> None:
    creds, _ = new_client(ctx, "NATIONAL_ID", name="National ID system")
    token = client.post("/token", data={
        "client_id": creds.client.client_id, "client_secret": creds.client_secret,
        "grant_type": "client_credentials"}).json()["access_token"]
    me = client.get("/api/auth/me", headers=bearer(token))
    assert me.status_code == 200
    assert me.json() == {
        "kind": "client", "id": creds.client.id, "name": "National ID system",
        "scope": ["nationalId"], "client_id": creds.client.client_id, "client_type": "NATIONAL_ID",
    }


def _error(response, status: int, error: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["error"] == error
    assert body["error_uri"] == ERROR_URI
    assert set(body) == {"error", "error_description", "error_uri"}
    return body


@pytest.mark.parametrize("missing", ["client_id", "client_secret", "grant_type"])
def test_missing_parameter_is_invalid_request(client: TestClient, ctx, missing: str) -> None:
    creds, _ = new_client(ctx, "HEALTH")
    params = {"client_id": creds.client.client_id, "client_secret": creds.client_secret,
              "grant_type": "client_credentials"}
    del params[missing]
    body = _error(client.post("/token", params=params), 400, "invalid_request")
    assert body["error_description"] == OPENCRVS_MISSING


def test_wrong_grant_type(client: TestClient, ctx) -> None:
    creds, _ = new_client(ctx, "HEALTH")
    response = client.post("/token", params={
        "client_id": creds.client.client_id, "client_secret": creds.client_secret,
        "grant_type": "password"})
    body = _error(response, 400, "unsupported_grant_type")
    assert body["error_description"] == "Invalid grant type. Only client_credentials is supported."
    assert response.headers["x-error-code"] == "AUTH-400-011"


def test_wrong_secret_unknown_client_and_deactivated_are_all_invalid_client(
    client: TestClient, ctx
) -> None:
    creds, _ = new_client(ctx, "HEALTH")
    other, _ = new_client(ctx, "HEALTH", name="Deactivated hospital")
    with ctx.db.transaction() as session:
        from crvshub.auth import repository

        row = repository.client_by_client_id(session, other.client.client_id)
        assert row is not None
        row.status = "deactivated"
    cases = [
        (creds.client.client_id, creds.client_secret + "x"),
        ("00000000-0000-4000-8000-000000000000", creds.client_secret),
        (other.client.client_id, other.client_secret),
        ("x" * 5000, "y" * 5000),
    ]
    for client_id, secret in cases:
        response = client.post("/token", params={
            "client_id": client_id, "client_secret": secret, "grant_type": "client_credentials"})
        body = _error(response, 401, "invalid_client")
        assert body["error_description"] == "Invalid client id or secret"
        assert response.headers["www-authenticate"].startswith("Basic")


def test_conflicting_and_unreadable_requests_are_invalid_request(client: TestClient, ctx) -> None:
    creds, _ = new_client(ctx, "HEALTH")
    conflicting = client.post(
        "/token", params={"client_id": creds.client.client_id},
        data={"client_id": "someone-else", "client_secret": creds.client_secret,
              "grant_type": "client_credentials"})
    assert "client_id" in _error(conflicting, 400, "invalid_request")["error_description"]
    for content, content_type in (
        (b"{not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'{"client_id": 5}', "application/json"),
        (b"client_id=a&&&==", "application/x-www-form-urlencoded"),
        (b"client_id=a", "text/plain"),
    ):
        response = client.post("/token", content=content, headers={"content-type": content_type})
        _error(response, 400, "invalid_request")
    bad_basic = client.post("/token", data={"grant_type": "client_credentials"},
                            headers={"Authorization": "Basic !!!not-base64"})
    _error(bad_basic, 400, "invalid_request")


def test_same_value_in_query_and_body_is_accepted(client: TestClient, ctx) -> None:
    creds, _ = new_client(ctx, "HEALTH")
    params = {"client_id": creds.client.client_id, "client_secret": creds.client_secret,
              "grant_type": "client_credentials"}
    assert client.post("/token", params=params, json=params).status_code == 200


def test_scope_parameter_narrows_or_is_refused(client: TestClient, ctx) -> None:
    creds, _ = new_client(ctx, "HEALTH")
    params = {"client_id": creds.client.client_id, "client_secret": creds.client_secret,
              "grant_type": "client_credentials"}
    narrowed = client.post("/token", data={**params, "scope": "notification-api"})
    assert narrowed.status_code == 200
    assert _verify(client, narrowed.json()["access_token"])["scope"] == ["notification-api"]
    refused = client.post("/token", data={**params, "scope": "notification-api natlsysadmin"})
    assert "natlsysadmin" in _error(refused, 400, "invalid_scope")["error_description"]


def test_get_is_not_allowed(client: TestClient) -> None:
    assert client.get("/token").status_code == 405


def test_query_secrets_can_be_switched_off(settings) -> None:
    from crvshub.app import create_app
    from tests.helpers import new_client as make

    app = create_app(settings.model_copy(update={"token_query_credentials": False}),
                     start_worker=False)
    with TestClient(app) as strict:
        creds, _ = make(app.state.ctx, "HEALTH")
        params = {"client_id": creds.client.client_id, "client_secret": creds.client_secret,
                  "grant_type": "client_credentials"}
        body = _error(strict.post("/token", params=params), 400, "invalid_request")
        assert "URL" in body["error_description"]
        assert strict.post("/token", data=params).status_code == 200


def test_token_requests_are_rate_limited_per_client(client: TestClient, ctx) -> None:
    ctx.auth_limits = AuthLimits(TokenBucket(0.01, 3), TokenBucket(100, 100))
    creds, _ = new_client(ctx, "HEALTH")
    other, _ = new_client(ctx, "HEALTH", name="Other hospital")
    params = {"client_id": creds.client.client_id, "client_secret": creds.client_secret,
              "grant_type": "client_credentials"}
    assert [client.post("/token", data=params).status_code for _ in range(3)] == [200] * 3
    limited = client.post("/token", data=params)
    _error(limited, 429, "slow_down")
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.headers["x-error-code"] == "AUTH-429-002"
    assert client.post("/token", data={**params, "client_id": other.client.client_id,
                                       "client_secret": other.client_secret}).status_code == 200


def _from(app, address: str) -> TestClient:
    return TestClient(app, raise_server_exceptions=False, client=(address, 40000))


def test_repeated_failures_slow_down_the_pair_only(app, client: TestClient, ctx) -> None:
    clock = FakeTime()
    throttle_of(ctx).clock = clock
    creds, _ = new_client(ctx, "HEALTH")
    wrong = {"client_id": creds.client.client_id, "client_secret": "guess",
             "grant_type": "client_credentials"}
    right = {**wrong, "client_secret": creds.client_secret}
    attacker = _from(app, "198.51.100.9")
    assert [attacker.post("/token", data=wrong).status_code for _ in range(6)] == [401] * 6
    blocked = attacker.post("/token", data=right)
    _error(blocked, 429, "slow_down")
    assert blocked.headers["retry-after"] == "1"
    assert blocked.headers["x-error-code"] == "AUTH-429-002"
    assert _from(app, "203.0.113.5").post("/token", data=right).status_code == 200
    clock.advance(1)
    assert attacker.post("/token", data=wrong).status_code == 401
    assert attacker.post("/token", data=wrong).headers["retry-after"] == "2"
    clock.advance(2)
    assert attacker.post("/token", data=right).status_code == 200
    assert attacker.post("/token", data=wrong).status_code == 401  # the success reset the pair


def test_bad_token_calls_behind_one_address_do_not_block_other_clients(
    app, client: TestClient, ctx
) -> None:
    creds, _ = new_client(ctx, "HEALTH")
    shared = _from(app, "10.1.2.3")  # a proxy that every client goes through
    for index in range(50):
        shared.post("/token", data={"client_id": f"made-up-{index}", "client_secret": "x",
                                    "grant_type": "client_credentials"})
    right = {"client_id": creds.client.client_id, "client_secret": creds.client_secret,
             "grant_type": "client_credentials"}
    assert shared.post("/token", data=right).status_code == 200


def test_two_api_processes_share_the_failures(app, client: TestClient, ctx, settings) -> None:
    from crvshub.app import create_app

    other_app = create_app(settings, start_worker=False)
    clock = FakeTime()
    creds, _ = new_client(ctx, "HEALTH")
    wrong = {"client_id": creds.client.client_id, "client_secret": "guess",
             "grant_type": "client_credentials"}
    with TestClient(other_app, raise_server_exceptions=False) as other:
        for each in (ctx, other_app.state.ctx):
            throttle_of(each).clock = clock
        statuses = [(client if i % 2 else other).post("/token", data=wrong).status_code
                    for i in range(6)]
        assert statuses == [401] * 6
        _error(other.post("/token", data=wrong), 429, "slow_down")
        _error(client.post("/token", data=wrong), 429, "slow_down")


def test_oversized_token_request_is_413(client: TestClient) -> None:
    response = client.post("/token", content=b"a" * (3 * 1024 * 1024),
                           headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413


def test_new_tokens_use_a_key_rotated_by_another_process(client: TestClient, ctx) -> None:
    from crvshub.auth import keys
    from crvshub.composition import build_context

    creds, _ = new_client(ctx, "HEALTH")
    params = {"client_id": creds.client.client_id, "client_secret": creds.client_secret,
              "grant_type": "client_credentials"}
    before = client.post("/token", data=params).json()["access_token"]
    other = build_context(ctx.settings)  # stands for `crvshub keys rotate` elsewhere
    with other.db.transaction() as session:
        new_kid = keys.rotate(session, ctx.settings.derived_key("encryption")).kid
    other.db.dispose()
    ctx.keys._loaded_at = 0.0  # the reload interval has passed
    after = client.post("/token", data=params).json()["access_token"]
    assert jwt.get_unverified_header(after)["kid"] == new_kid
    assert jwt.get_unverified_header(before)["kid"] != new_kid
    for token in (before, after):
        assert client.get("/api/auth/me", headers=bearer(token)).status_code == 200


def test_wrong_secrets_do_not_use_up_the_clients_rate(client: TestClient, ctx) -> None:
    ctx.auth_limits = AuthLimits(TokenBucket(0.01, 2), TokenBucket(100, 100))
    creds, _ = new_client(ctx, "HEALTH")
    params = {"client_id": creds.client.client_id, "client_secret": "guess",
              "grant_type": "client_credentials"}
    assert all(client.post("/token", data=params).status_code == 401 for _ in range(5))
    params["client_secret"] = creds.client_secret
    assert [client.post("/token", data=params).status_code for _ in range(3)] == [200, 200, 429]
