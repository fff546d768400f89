"""Authentication and scope checks: the one place every endpoint gets its caller from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from crvshub.auth.cutoff import ACTIVE_CACHE_SECONDS, ActiveCache, active_cache
from crvshub.auth.ratelimit import limits_of, retry_after_header
from crvshub.context import AppContext, get_context
from crvshub.errors import AuthenticationRequired, ClientInactive, Forbidden, RateLimited

SESSION_COOKIE = "crvshub_session"
GATEWAY_AUDIENCE = "opencrvs:gateway-user"

__all__ = [
    "ACTIVE_CACHE_SECONDS",
    "SESSION_COOKIE",
    "ActiveCache",
    "Principal",
    "PrincipalDep",
    "bearer_token",
    "current_principal",
    "principal_from_token",
    "require",
]


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


def bearer_token(request: Request) -> str | None:
    """Return the Bearer token of a request, or the web session cookie."""
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return request.cookies.get(SESSION_COOKIE)


def principal_from_token(ctx: AppContext, session: Session, token: str) -> Principal:
    """Verify a token and check that its subject is still active."""
    ctx.keys.refresh_for(session, token)
    claims = ctx.keys.verify(token, issuer=ctx.settings.token_issuer, audience=GATEWAY_AUDIENCE)
    kind = str(claims.get("crvshub:kind", "client"))
    subject = str(claims["sub"])
    scope = claims.get("scope", [])
    scopes = frozenset(scope.split() if isinstance(scope, str) else scope)
    lookup_kind = "client" if kind == "client" else "user"
    active, facts = active_cache(ctx).lookup(session, lookup_kind, subject)
    if not active:
        raise ClientInactive()
    if int(claims.get("iat", 0)) < int(facts.get("not_before", 0)):
        raise ClientInactive("The client secret was refreshed after this token was issued")
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


def _throttle(ctx: AppContext, principal: Principal) -> None:
    if principal.kind != "client":
        return
    wait = limits_of(ctx).api_requests.take(principal.subject)
    if wait:
        raise RateLimited(
            f"This client is over {ctx.settings.api_rate_per_second:g} requests per second",
            headers=retry_after_header(wait),
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
    _throttle(ctx, principal)
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
