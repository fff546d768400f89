"""Every GET route answers HEAD: same status and headers, no body."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient

from crvshub.context import AppContext
from tests.helpers import LiveServer, bearer, user_token

PUBLIC_GETS = ("/healthz", "/readyz", "/", "/location?type=CRVS_OFFICE", "/fhir/metadata",
               "/.well-known/jwks.json", "/static/app.css", "/openapi.json", "/documentation")


def test_head_answers_like_get_without_a_body(client: TestClient) -> None:
    for path in PUBLIC_GETS:
        get, head = client.get(path), client.head(path)
        assert head.status_code == get.status_code == 200, (path, head.status_code)
        assert head.content == b"", path
        assert head.headers["content-type"] == get.headers["content-type"], path


def test_head_keeps_authentication_and_errors(client: TestClient, ctx: AppContext) -> None:
    assert client.head("/api/auth/me").status_code == 401
    me = client.head("/api/auth/me", headers=bearer(user_token(ctx, "r.olusinde")))
    assert me.status_code == 200 and me.content == b""
    assert client.head("/no/such/page").status_code == 404
    # A HEAD on a route with no GET stays "method not allowed".
    assert client.head("/notification").status_code == 405


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_head_over_real_http(live_server: LiveServer) -> None:
    get = httpx.get(f"{live_server.url}/healthz")
    head = httpx.head(f"{live_server.url}/healthz")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]
