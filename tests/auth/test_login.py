"""Staff login, tokens, scope checks and immediate cut-off of disabled users."""

from __future__ import annotations

import time

import jwt
from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient

from crvshub.auth import repository
from crvshub.auth.dependencies import Principal, require
from tests.conftest import FIELD_AGENT, NATLSYSADMIN, bearer, new_client, user_token


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
    assert len(client.get("/.well-known/jwks.json").json()["keys"]) == 2
    for token in (old, new):
        assert client.get("/scoped-for-test", headers=bearer(token)).status_code == 200
