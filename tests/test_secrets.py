"""Secret keys: no usable default, a strength check, separable keys, and re-encryption."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from crvshub.app import create_app
from crvshub.auth import crypto
from crvshub.auth.clients import sha_secret_of
from crvshub.composition import build_context
from crvshub.context import AppContext
from crvshub.settings import Settings, SettingsError
from crvshub.web.pages import csrf_token
from crvshub.webhook import domain as webhook_domain
from crvshub.webhook.models import Subscription
from tests.helpers import new_client

PUBLISHED_DEFAULT = "crvshub-development-secret-change-me"


def strong() -> str:
    """Return a key as the documented one-liner makes it."""
    return secrets.token_urlsafe(48)


def _bare(**values: object) -> Settings:
    # Ignore the test session's CRVSHUB_SECRET_KEY: only the values given count.
    values.setdefault("secret_key", "")
    return Settings(environment="production", **values)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["", PUBLISHED_DEFAULT, "short-key", "a" * 64,
                                   "0123456789" * 3])
def test_missing_published_or_weak_master_key_is_refused(value: str) -> None:
    settings = _bare(secret_key=value)
    with pytest.raises(SettingsError) as caught:
        settings.check_secrets()
    message = str(caught.value)
    assert message.startswith("CRVSHUB_SECRET_KEY ")
    assert "secrets.token_urlsafe(48)" in message
    assert "\n" not in message


def test_the_default_settings_have_no_usable_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CRVSHUB_SECRET_KEY", raising=False)
    settings = Settings()
    assert settings.secret_key == ""
    with pytest.raises(SettingsError, match="CRVSHUB_SECRET_KEY is not set"):
        settings.derived_key("encryption")
    with pytest.raises(SettingsError, match="CRVSHUB_SECRET_KEY"):
        create_app(settings, start_worker=False)


@pytest.mark.parametrize("value", [secrets.token_urlsafe(32), secrets.token_hex(32),
                                   "kq3XH9vT2mYpLr8sWc1nZb4dFg7hJ0aE6uRiOx5tNwV"])
def test_a_random_key_is_accepted(value: str) -> None:
    _bare(secret_key=value).check_secrets()


def test_separate_keys_override_the_master_key() -> None:
    master = _bare(secret_key=strong())
    keys = {p: master.derived_key(p) for p in ("encryption", "client-secret", "csrf")}
    assert len(set(keys.values())) == 3
    separate = master.model_copy(update={"encryption_key": strong(),
                                         "client_secret_pepper": strong(),
                                         "csrf_key": strong()})
    for purpose, derived in keys.items():
        assert separate.derived_key(purpose) != derived
    # With all three set, the master key is not needed at all.
    _bare(encryption_key=strong(), client_secret_pepper=strong(), csrf_key=strong()
          ).check_secrets()


def test_a_weak_separate_key_is_refused_by_name() -> None:
    settings = _bare(secret_key=strong(), csrf_key="csrf")
    with pytest.raises(SettingsError, match="CRVSHUB_CSRF_KEY is too weak"):
        settings.check_secrets()
    with pytest.raises(SettingsError, match="CRVSHUB_ENCRYPTION_KEY"):
        _bare(encryption_key=PUBLISHED_DEFAULT).derived_key("encryption")


def test_csrf_key_changes_the_form_tokens_only(client: TestClient, ctx: AppContext) -> None:
    from crvshub.auth.domain import Principal

    principal = Principal(kind="user", subject="u", name="n", scopes=frozenset(), token_id="tid")
    before = csrf_token(ctx, principal)
    pepper = ctx.settings.derived_key("client-secret")
    ctx.settings.csrf_key = strong()
    assert csrf_token(ctx, principal) != before
    assert ctx.settings.derived_key("client-secret") == pepper


def _cli(*args: str, env: dict[str, str], stdin: str | None = None
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "crvshub", *args], capture_output=True,
                          text=True, env={**os.environ, "CRVSHUB_LOG_LEVEL": "WARNING", **env},
                          input=stdin, timeout=120, check=False)


def test_keys_reencrypt_moves_stored_secrets_to_a_new_key(settings: Settings) -> None:
    old_ctx = build_context(settings)
    with old_ctx.db.transaction() as session:
        old_ctx.keys.ensure(session)
    creds, _ = new_client(old_ctx, "WEBHOOK")
    with old_ctx.db.transaction() as session:
        session.add(Subscription(
            id="sub-rekey", client_id=creds.client.id, callback="https://example.org/hook",
            topic="BIRTH_REGISTERED", secret_enc=crypto.encrypt(
                b"subscriber-secret", settings.derived_key("encryption"),
                context=webhook_domain.SECRET_CONTEXT)))
    old_ctx.db.dispose()
    new_key = strong()
    env = {"CRVSHUB_DATABASE_URL": settings.database_url, "CRVSHUB_SECRET_KEY": new_key}
    # The new key alone cannot read what the old one wrote: one clear line, not a traceback.
    refused = _cli("keys", "list", env=env)
    assert refused.returncode == 2, refused.stderr
    assert "crvshub keys reencrypt" in refused.stderr and "Traceback" not in refused.stderr
    wrong = _cli("keys", "reencrypt", env={**env, "CRVSHUB_OLD_KEY": strong()})
    assert wrong.returncode == 2 and "nothing was changed" in wrong.stderr
    done = _cli("keys", "reencrypt", env=env, stdin=settings.secret_key + "\n")
    assert done.returncode == 0, done.stderr
    assert "re-encrypted" in done.stderr
    new_settings = settings.model_copy(update={"secret_key": new_key})
    ctx = build_context(new_settings)
    with ctx.db.transaction() as session:
        ctx.keys.ensure(session)
        from crvshub.auth import repository

        client = repository.client_by_client_id(session, creds.client.client_id)
        assert client is not None
        assert sha_secret_of(new_settings, client) == creds.sha_secret
        subscription = session.get(Subscription, "sub-rekey")
        assert subscription is not None
        assert crypto.decrypt(subscription.secret_enc, new_settings.derived_key("encryption"),
                              context=webhook_domain.SECRET_CONTEXT) == b"subscriber-secret"
    ctx.db.dispose()
    again = _cli("keys", "reencrypt", env={**env, "CRVSHUB_OLD_KEY": settings.secret_key})
    assert again.returncode == 0 and "0 stored secrets" in again.stderr
    # the token signing key, the DCI (Ed25519) signing key, the client's, the subscription's
    assert "4 stored secrets" in done.stderr
