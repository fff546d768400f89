"""Authentication and scope checks: the one place every endpoint gets its caller from."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from crvshub.auth.cutoff import ACTIVE_CACHE_SECONDS, ActiveCache, active_cache
from crvshub.auth.domain import Principal, PrincipalKind
from crvshub.auth.errors import PasswordChangeRequired
from crvshub.auth.ratelimit import limits_of, retry_after_header
from crvshub.context import AppContext, get_context
from crvshub.errors import AuthenticationRequired, ClientInactive, Forbidden, RateLimited

SESSION_COOKIE = "crvshub_session"
GATEWAY_AUDIENCE = "opencrvs:gateway-user"
KIND_LABELS = {"user": "staff users", "client": "integration clients", "record": "record tokens"}

__all__ = [
    "ACTIVE_CACHE_SECONDS",
    "SESSION_COOKIE",
    "ActiveCache",
    "PrincipalDep",
    "authenticate",
    "bearer_token",
    "current_principal",
    "principal_from_token",
    "require",
]


def bearer_token(request: Request) -> str | None:
    """Return the Bearer token of a request, or the web session cookie."""
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return request.cookies.get(SESSION_COOKIE)


def principal_from_token(ctx: AppContext, session: Session, token: str) -> Principal:
    """Verify a token and check that its subject is still active."""
    ctx.keys.refresh_for(session, token)
    claims = _claims(ctx, token)
    kind, subject = _subject(claims)
    active, facts = active_cache(ctx).lookup(session, kind, subject)
    return _principal(claims, active, facts)


def _claims(ctx: AppContext, token: str) -> dict[str, Any]:
    return ctx.keys.verify(token, issuer=ctx.settings.token_issuer, audience=GATEWAY_AUDIENCE)


def _subject(claims: dict[str, Any]) -> tuple[str, str]:
    """Return the kind of record that must be active ("client" or "user") and its id."""
    kind = "client" if claims.get("crvshub:kind", "client") == "client" else "user"
    return kind, str(claims["sub"])


def _kind(claims: dict[str, Any]) -> PrincipalKind:
    try:
        return PrincipalKind(str(claims.get("crvshub:kind", "client")))
    except ValueError:
        raise AuthenticationRequired("The token names no known kind of caller") from None


def _principal(claims: dict[str, Any], active: bool, facts: dict[str, Any]) -> Principal:
    if not active:
        raise ClientInactive()
    if facts.get("must_change_password"):
        raise PasswordChangeRequired()
    if int(claims.get("iat", 0)) < int(facts.get("not_before", 0)):
        raise ClientInactive("The client secret was refreshed after this token was issued")
    scope = claims.get("scope", [])
    return Principal(
        kind=_kind(claims),
        subject=str(claims["sub"]),
        name=str(facts.get("name", "")),
        scopes=frozenset(scope.split() if isinstance(scope, str) else scope),
        token_id=str(claims.get("jti", "")),
        role=facts.get("role"),
        office_id=facts.get("office_id"),
        client_type=facts.get("client_type"),
        client_id=facts.get("client_id"),
        record_id=claims.get("recordId"),
        username=str(facts.get("username", "")),
        compat=str(facts.get("compat", "crvshub")),
    )


def _principal_without_database(ctx: AppContext, token: str) -> Principal | None:
    """Authenticate from memory alone, or return None when the database must be read."""
    if ctx.keys.needs_reload(token):
        return None
    claims = _claims(ctx, token)
    kind, subject = _subject(claims)
    hit = active_cache(ctx).peek(kind, subject)
    return None if hit is None else _principal(claims, *hit)


def _principal_with_database(ctx: AppContext, token: str) -> Principal:
    with ctx.db.reader() as session:
        return principal_from_token(ctx, session, token)


def _throttle(ctx: AppContext, principal: Principal) -> None:
    if principal.kind != "client":
        return
    wait = limits_of(ctx).api_requests.take(principal.subject)
    if wait:
        raise RateLimited(
            f"This client is over {ctx.settings.api_rate_per_second:g} requests per second",
            headers=retry_after_header(wait),
        )


def _already_or_token(request: Request) -> tuple[Principal | None, str]:
    """Return the request's principal if it is already known, else its token (401 if none)."""
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached, ""
    token = bearer_token(request)
    if not token:
        raise AuthenticationRequired()
    return None, token


def _accept(request: Request, ctx: AppContext, principal: Principal) -> Principal:
    """Apply the caller's rate limit and remember the principal for the rest of the request."""
    _throttle(ctx, principal)
    request.state.principal = principal
    return principal


def current_principal(request: Request) -> Principal:
    """Authenticate the request; 401 if there is no valid token."""
    cached, token = _already_or_token(request)
    if cached is not None:
        return cached
    ctx = get_context(request)
    with ctx.db.reader() as session:
        principal = principal_from_token(ctx, session, token)
    return _accept(request, ctx, principal)


def require(
    *scopes: str, kinds: tuple[str, ...] | None = None
) -> Callable[..., Awaitable[Principal]]:
    """Return a dependency that authenticates and demands any one of the scopes.

    `kinds` limits the caller to staff users ("user"), integration clients ("client") or
    record tokens ("record"): OpenCRVS gives hospital systems the staff `declare` scope, so
    staff-only endpoints must also say that only staff may call them.
    """

    async def dependency(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if kinds is not None and principal.kind not in kinds:
            raise Forbidden(f"Only {' or '.join(KIND_LABELS[k] for k in kinds)} may call this")
        if not principal.has_any(scopes):
            raise Forbidden(f"This action needs one of the scopes: {', '.join(scopes)}")
        return principal

    dependency.required_scopes = scopes  # type: ignore[attr-defined]
    return dependency


async def authenticate(request: Request) -> Principal:
    """Authenticate like `current_principal`, off the event loop only when the database is read.

    Most requests are answered from the key ring and the one-second active cache, so they skip
    the thread pool entirely; that is most of the per-request cost of authentication.
    """
    cached, token = _already_or_token(request)
    if cached is not None:
        return cached
    ctx = get_context(request)
    principal = _principal_without_database(ctx, token)
    if principal is None:
        principal = await run_in_threadpool(_principal_with_database, ctx, token)
    return _accept(request, ctx, principal)


PrincipalDep = Annotated[Principal, Depends(authenticate)]
