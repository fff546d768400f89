"""Authentication and scope checks: the one place every endpoint gets its caller from."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from crvshub.auth import repository
from crvshub.context import AppContext, get_context
from crvshub.errors import AuthenticationRequired, ClientInactive, Forbidden

SESSION_COOKIE = "crvshub_session"
GATEWAY_AUDIENCE = "opencrvs:gateway-user"
ACTIVE_CACHE_SECONDS = 1.0


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: a staff user, an integration client, or a record token."""

    kind: str
    subject: str
    name: str
    scopes: frozenset[str]
    token_id: str
    role: str | None = None
    office_id: str | None = None
    client_type: str | None = None
    client_id: str | None = None
    record_id: str | None = None

    def has_any(self, scopes: tuple[str, ...]) -> bool:
        """Tell whether the caller holds at least one of the scopes."""
        return not scopes or any(s in self.scopes for s in scopes)

    @property
    def label(self) -> str:
        """Return a human label for audits: name and kind."""
        if self.kind == "client":
            return f"{self.name} ({self.client_type})"
        return f"{self.name} ({self.role or self.kind})"


class ActiveCache:
    """Remembers for one second whether a user or client is active (immediate cut-off)."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], tuple[bool, float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def lookup(self, session: Session, kind: str, subject: str) -> tuple[bool, dict[str, Any]]:
        """Return (active, facts) for a subject, from the database at most once a second."""
        now = time.monotonic()
        with self._lock:
            hit = self._seen.get((kind, subject))
        if hit and now - hit[1] < ACTIVE_CACHE_SECONDS:
            return hit[0], hit[2]
        active, facts = _load_subject(session, kind, subject)
        with self._lock:
            self._seen[(kind, subject)] = (active, now, facts)
        return active, facts

    def forget(self, kind: str, subject: str) -> None:
        """Drop a subject so the next request re-reads it (used after a status change)."""
        with self._lock:
            self._seen.pop((kind, subject), None)


def _load_subject(session: Session, kind: str, subject: str) -> tuple[bool, dict[str, Any]]:
    if kind == "client":
        client = repository.client_by_id(session, subject)
        if client is None:
            return False, {}
        return client.status == "active", {
            "name": client.name,
            "client_type": client.type,
            "client_id": client.client_id,
        }
    user = repository.user_by_id(session, subject)
    if user is None:
        return False, {}
    return user.status == "active", {
        "name": f"{user.given_names} {user.family_name}",
        "role": user.role,
        "office_id": user.office_id,
    }


def bearer_token(request: Request) -> str | None:
    """Return the Bearer token of a request, or the web session cookie."""
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return request.cookies.get(SESSION_COOKIE)


def principal_from_token(ctx: AppContext, session: Session, token: str) -> Principal:
    """Verify a token and check that its subject is still active."""
    if ctx.keys.stale():
        ctx.keys.load(session)
    claims = ctx.keys.verify(token, issuer=ctx.settings.token_issuer, audience=GATEWAY_AUDIENCE)
    kind = str(claims.get("crvshub:kind", "client"))
    subject = str(claims["sub"])
    scope = claims.get("scope", [])
    scopes = frozenset(scope.split() if isinstance(scope, str) else scope)
    lookup_kind = "client" if kind == "client" else "user"
    cache: ActiveCache = ctx.extras.setdefault("active_cache", ActiveCache())
    active, facts = cache.lookup(session, lookup_kind, subject)
    if not active:
        raise ClientInactive()
    return Principal(
        kind=kind,
        subject=subject,
        name=str(facts.get("name", "")),
        scopes=scopes,
        token_id=str(claims.get("jti", "")),
        role=facts.get("role"),
        office_id=facts.get("office_id"),
        client_type=facts.get("client_type"),
        client_id=facts.get("client_id"),
        record_id=claims.get("recordId"),
    )


def current_principal(request: Request) -> Principal:
    """Authenticate the request; 401 if there is no valid token."""
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    token = bearer_token(request)
    if not token:
        raise AuthenticationRequired()
    ctx = get_context(request)
    with ctx.db.sessionmaker() as session:
        principal = principal_from_token(ctx, session, token)
    request.state.principal = principal
    return principal


def require(*scopes: str) -> Callable[..., Principal]:
    """Return a dependency that authenticates and demands any one of the scopes."""

    def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not principal.has_any(scopes):
            raise Forbidden(f"This action needs one of the scopes: {', '.join(scopes)}")
        return principal

    dependency.required_scopes = scopes  # type: ignore[attr-defined]
    return dependency


PrincipalDep = Annotated[Principal, Depends(current_principal)]
