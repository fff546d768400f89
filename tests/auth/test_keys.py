"""The key ring remembers verified tokens, and never past their expiry or their key."""

from __future__ import annotations

import time

import jwt
import pytest

from crvshub.auth import keys as keys_module
from crvshub.context import AppContext
from crvshub.errors import TokenInvalid

ISSUER = "opencrvs:auth-service"
AUDIENCE = "opencrvs:gateway-user"


def _token(ctx: AppContext, lifetime: float = 600, **extra: object) -> str:
    now = int(time.time())
    claims = {"sub": "c1", "iss": ISSUER, "aud": AUDIENCE, "iat": now,
              "exp": now + lifetime, "scope": ["notification-api"], **extra}
    return ctx.keys.sign(claims)


def test_a_verified_token_is_not_checked_again(ctx: AppContext,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    token = _token(ctx)
    first = ctx.keys.verify(token, issuer=ISSUER, audience=AUDIENCE)
    calls = []
    real = jwt.decode
    monkeypatch.setattr(keys_module.jwt, "decode", lambda *a, **k: calls.append(1) or real(*a, **k))
    again = ctx.keys.verify(token, issuer=ISSUER, audience=AUDIENCE)
    assert again == first and calls == []
    again["scope"].append("changed-by-caller")  # type: ignore[attr-defined]
    assert ctx.keys.verify(token, issuer=ISSUER, audience=AUDIENCE)["sub"] == "c1"
    with pytest.raises(TokenInvalid):  # another audience is a full check, and fails
        ctx.keys.verify(token, issuer=ISSUER, audience="someone-else")


def test_a_remembered_token_still_expires(ctx: AppContext,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    token = _token(ctx, lifetime=60)
    ctx.keys.verify(token, issuer=ISSUER, audience=AUDIENCE)
    later = time.time() + 61
    monkeypatch.setattr(keys_module.time, "time", lambda: later)
    monkeypatch.setattr(jwt.api_jwt, "datetime", _FrozenDatetime(later))
    with pytest.raises(TokenInvalid, match="expired"):
        ctx.keys.verify(token, issuer=ISSUER, audience=AUDIENCE)


def test_a_remembered_token_dies_with_its_key(ctx: AppContext) -> None:
    token = _token(ctx)
    ctx.keys.verify(token, issuer=ISSUER, audience=AUDIENCE)
    ctx.keys._keys = {}  # the key was withdrawn and the ring reloaded
    with pytest.raises(TokenInvalid, match="unknown key"):
        ctx.keys.verify(token, issuer=ISSUER, audience=AUDIENCE)


def test_the_memory_is_bounded(ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keys_module, "VERIFIED_CACHE_SIZE", 5)
    tokens = [_token(ctx, jti=str(i)) for i in range(12)]
    for token in tokens:
        ctx.keys.verify(token, issuer=ISSUER, audience=AUDIENCE)
    assert len(ctx.keys._verified) == 5
    assert set(ctx.keys._verified) == set(tokens[-5:])


class _FrozenDatetime:
    """Stands in for `datetime` inside PyJWT so that its expiry check sees a later clock."""

    def __init__(self, at: float) -> None:
        from datetime import UTC, datetime

        self._now = datetime.fromtimestamp(at, tz=UTC)
        self._real = datetime

    def now(self, tz: object = None) -> object:
        return self._now

    def __getattr__(self, name: str) -> object:
        return getattr(self._real, name)
