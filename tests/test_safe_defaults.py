"""Safe defaults: every insecure convenience is its own opt-in, never implied by the environment."""

from __future__ import annotations

from collections.abc import Iterator

import jwt
import pytest
from fastapi.testclient import TestClient

from crvshub.app import create_app
from crvshub.auth import service as auth_service
from crvshub.settings import Settings
from crvshub.webhook.callbacks import AddressPolicy
from tests.helpers import new_client

OPT_INS = ("demo_scope", "webhook_allow_loopback", "webhook_allow_private", "public_docs",
           "public_metrics", "token_query_credentials")


@pytest.fixture
def strict(settings: Settings) -> Iterator[TestClient]:
    """The application with every opt-in left at its default."""
    defaults = Settings.model_fields
    app = create_app(settings.model_copy(update={n: defaults[n].default for n in OPT_INS}),
                     start_worker=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_every_opt_in_is_off_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*OPT_INS, "environment", "metrics_token"):
        monkeypatch.delenv(f"CRVSHUB_{name.upper()}", raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.environment == "production"
    assert not any(getattr(settings, name) for name in OPT_INS)
    assert settings.metrics_token == ""
    assert settings.insecure_opt_ins() == []


@pytest.mark.parametrize("environment", ["development", "test", "production"])
def test_the_environment_alone_relaxes_nothing(environment: str) -> None:
    settings = Settings(environment=environment)  # type: ignore[arg-type]
    assert "demo" not in auth_service.client_scopes(settings, "HEALTH")
    policy = AddressPolicy(settings)
    assert not policy.address_allowed("127.0.0.1")
    assert not policy.address_allowed("10.1.2.3")


def test_loopback_callbacks_only_with_their_own_setting() -> None:
    policy = AddressPolicy(Settings(webhook_allow_loopback=True))
    assert policy.address_allowed("127.0.0.1") and policy.address_allowed("::1")
    assert not policy.address_allowed("10.1.2.3")


def test_demo_scope_only_with_its_own_setting(strict: TestClient) -> None:
    ctx = strict.app.state.ctx  # type: ignore[attr-defined]
    _creds, token = new_client(ctx, "HEALTH")
    assert "demo" not in jwt.decode(token, options={"verify_signature": False})["scope"]
    ctx.settings.demo_scope = True
    _creds, token = new_client(ctx, "HEALTH", name="demo client")
    assert "demo" in jwt.decode(token, options={"verify_signature": False})["scope"]


def test_api_documentation_only_with_public_docs(strict: TestClient) -> None:
    assert strict.get("/documentation").status_code == 404
    assert strict.get("/openapi.json").status_code == 404


def test_metrics_need_the_token_or_public_metrics(strict: TestClient) -> None:
    settings = strict.app.state.ctx.settings  # type: ignore[attr-defined]
    closed = strict.get("/metrics")
    assert closed.status_code == 404
    assert "CRVSHUB_METRICS_TOKEN" in closed.text
    settings.metrics_token = "scrape-token-0123456789"
    assert strict.get("/metrics").status_code == 401
    wrong = strict.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and "Bearer" in wrong.headers["www-authenticate"]
    ok = strict.get("/metrics", headers={"Authorization": "Bearer scrape-token-0123456789"})
    assert ok.status_code == 200 and "crvshub_http_requests_total" in ok.text
    settings.metrics_token = ""
    settings.public_metrics = True
    assert strict.get("/metrics").status_code == 200


def test_client_secrets_in_the_query_only_with_the_opt_in(strict: TestClient) -> None:
    ctx = strict.app.state.ctx  # type: ignore[attr-defined]
    creds, _ = new_client(ctx, "HEALTH")
    params = {"client_id": creds.client.client_id, "client_secret": creds.client_secret,
              "grant_type": "client_credentials"}
    refused = strict.post("/token", params=params)
    assert refused.status_code == 400 and "URL" in refused.json()["error_description"]
    assert strict.post("/token", data=params).status_code == 200
    ctx.settings.token_query_credentials = True
    assert strict.post("/token", params=params).status_code == 200
