"""Staff login, tokens, scope checks and immediate cut-off of disabled users."""

from __future__ import annotations

import time

import jwt
import pytest
from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient

from crvshub.app import create_app
from crvshub.auth import repository
from crvshub.auth.dependencies import require
from crvshub.auth.domain import Principal
from tests.helpers import FIELD_AGENT, NATLSYSADMIN, bearer, new_client, user_token
from tests.web.helpers import signin_form


def test_login_returns_rs256_token_with_role_scopes(client: TestClient, ctx) -> None:
    response = client.post("/api/auth/login", json={"username": NATLSYSADMIN, "password": "test"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    token = response.json()["access_token"]
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    claims = jwt.decode(token, options={"verify_signature": False})
    assert set(claims["scope"]) == {"sysadmin", "natlsysadmin"}
    assert claims["iss"] == "opencrvs:auth-service"


def test_wrong_password_and_unknown_user_both_401(client: TestClient) -> None:
    for username, password in ((NATLSYSADMIN, "nope"), ("nobody", "test")):
        response = client.post("/api/auth/login", json={"username": username, "password": password})
        assert response.status_code == 401
        assert response.json()["issue"][0]["details"]["coding"][0]["code"] == "AUTH-401-004"


def _scoped_route(app) -> None:
    router = APIRouter()

    @router.get("/scoped-for-test")
    def scoped(principal: Principal = Depends(require("natlsysadmin"))) -> dict[str, str]:
        return {"name": principal.name}

    app.include_router(router)


def test_scope_dependency_allows_and_forbids(app, client: TestClient, ctx) -> None:
    _scoped_route(app)
    assert client.get("/scoped-for-test").status_code == 401
    assert client.get("/scoped-for-test", headers=bearer("garbage")).status_code == 401
    assert client.get("/scoped-for-test", headers=bearer(user_token(ctx, NATLSYSADMIN))).status_code == 200
    forbidden = client.get("/scoped-for-test", headers=bearer(user_token(ctx, FIELD_AGENT)))
    assert forbidden.status_code == 403
    assert forbidden.json()["issue"][0]["details"]["coding"][0]["code"] == "AUTH-403-001"
    _creds, client_token = new_client(ctx, "HEALTH")
    assert client.get("/scoped-for-test", headers=bearer(client_token)).status_code == 403


def test_disabled_user_is_cut_off_within_a_second(app, client: TestClient, ctx) -> None:
    _scoped_route(app)
    token = user_token(ctx, NATLSYSADMIN)
    assert client.get("/scoped-for-test", headers=bearer(token)).status_code == 200
    with ctx.db.transaction() as session:
        user = repository.user_by_username(session, NATLSYSADMIN)
        assert user is not None
        user.status = "deactivated"
    time.sleep(1.1)
    response = client.get("/scoped-for-test", headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["issue"][0]["details"]["coding"][0]["code"] == "AUTH-401-003"


def test_jwks_and_pem_publish_the_signing_key(client: TestClient, ctx) -> None:
    token = user_token(ctx, NATLSYSADMIN)
    jwks = client.get("/.well-known/jwks.json").json()
    kid = jwt.get_unverified_header(token)["kid"]
    key = next(k for k in jwks["keys"] if k["kid"] == kid)
    public = jwt.PyJWK(key).key
    claims = jwt.decode(token, public, algorithms=["RS256"], audience="opencrvs:gateway-user")
    assert claims["crvshub:kind"] == "user"
    pem = client.get("/.well-known").text
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    jwt.decode(token, pem, algorithms=["RS256"], audience="opencrvs:gateway-user")


def test_key_rotation_keeps_old_tokens_valid(app, client: TestClient, ctx) -> None:
    from crvshub.auth import keys

    _scoped_route(app)
    old = user_token(ctx, NATLSYSADMIN)
    with ctx.db.transaction() as session:
        keys.rotate(session, ctx.settings.derived_key("encryption"))
        ctx.keys.load(session)
    new = user_token(ctx, NATLSYSADMIN)
    assert jwt.get_unverified_header(old)["kid"] != jwt.get_unverified_header(new)["kid"]
    published = client.get("/.well-known/jwks.json").json()["keys"]
    assert len([k for k in published if k["alg"] == "RS256"]) == 2
    for token in (old, new):
        assert client.get("/scoped-for-test", headers=bearer(token)).status_code == 200


def _behind(settings, peer: str) -> TestClient:
    """Return a client whose requests come from `peer`, to an app that trusts 10.0.0.0/8."""
    app = create_app(settings.model_copy(update={"trusted_proxies": "10.0.0.0/8, ::1"}),
                     start_worker=False)
    return TestClient(app, raise_server_exceptions=False, client=(peer, 40000))


def test_behind_a_trusted_proxy_each_forwarded_address_is_its_own_pair(settings) -> None:
    proxy = _behind(settings, "10.0.0.2")
    wrong = {"username": NATLSYSADMIN, "password": "guess"}
    attacker = {"X-Forwarded-For": "1.2.3.4, 198.51.100.9"}  # the left part is made up
    with proxy:
        for _ in range(6):
            assert proxy.post("/api/auth/login", json=wrong, headers=attacker).status_code == 401
        assert proxy.post("/api/auth/login", json=wrong, headers=attacker).status_code == 429
        spoofed = {"X-Forwarded-For": "9.9.9.9, 198.51.100.9"}
        assert proxy.post("/api/auth/login", json=wrong, headers=spoofed).status_code == 429
        victim = {"X-Forwarded-For": "203.0.113.5, 10.0.0.7"}  # through two of our proxies
        right = {"username": NATLSYSADMIN, "password": "test"}
        assert proxy.post("/api/auth/login", json=right, headers=victim).status_code == 200


def test_an_untrusted_peer_cannot_pick_its_address(settings) -> None:
    direct = _behind(settings, "198.51.100.9")
    wrong = {"username": NATLSYSADMIN, "password": "guess"}
    with direct:
        statuses = [direct.post("/api/auth/login", json=wrong,
                                headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code
                    for i in range(7)]
    assert statuses == [401] * 6 + [429]


@pytest.mark.parametrize(("peer", "secure"), [("10.0.0.2", True), ("198.51.100.9", False)])
def test_forwarded_proto_is_believed_from_trusted_proxies_only(
    settings, peer: str, secure: bool
) -> None:
    browser = _behind(settings, peer)
    right = {"username": NATLSYSADMIN, "password": "test"}
    with browser:
        form = signin_form(browser)
        response = browser.post("/login", data={**right, **form}, follow_redirects=False,
                                headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 303
    assert ("secure" in response.headers["set-cookie"].lower()) is secure
