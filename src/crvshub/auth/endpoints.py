"""Staff login, the token endpoint, client management and the public keys of our tokens."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import PlainTextResponse

from crvshub.auth import client_endpoints, service, token_endpoints, user_admin, user_endpoints
from crvshub.auth.dependencies import PrincipalDep
from crvshub.auth.errors import PasswordChangeRequired
from crvshub.auth.schemas import LoginRequest, PasswordChange
from crvshub.deps import ContextDep, SessionDep
from crvshub.fhir.responses import FastJSONResponse
from crvshub.net import ClientAddressDep

router = APIRouter(tags=["authentication"])
router.include_router(token_endpoints.router)
router.include_router(client_endpoints.router)
router.include_router(user_endpoints.router)


@router.post("/api/auth/login", summary="Log a staff user in and return an access token")
def login(body: LoginRequest, address: ClientAddressDep, ctx: ContextDep) -> FastJSONResponse:
    """Exchange a staff username and password for a Bearer token."""
    user = service.login(ctx, body.username, body.password, address)
    if user.must_change_password:
        raise PasswordChangeRequired()
    token, ttl = service.issue_user_token(ctx.settings, ctx.keys, user)
    return FastJSONResponse(
        {"access_token": token, "token_type": "Bearer", "expires_in": ttl},
        headers={"Cache-Control": "no-store"},
    )


@router.post("/api/auth/password", summary="Set a new password (also after a reset)")
def change_password(body: PasswordChange, address: ClientAddressDep, ctx: ContextDep,
                    session: SessionDep) -> FastJSONResponse:
    """Replace your password with username, current password and new password; get a token."""
    proven = service.login(ctx, body.username, body.password, address)
    user = user_admin.set_own_password(session, ctx, proven.id, body.new_password,
                                       old_password=body.password, ip=address)
    token, ttl = service.issue_user_token(ctx.settings, ctx.keys, user)
    return FastJSONResponse(
        {"access_token": token, "token_type": "Bearer", "expires_in": ttl},
        headers={"Cache-Control": "no-store"},
    )


@router.get("/api/auth/me", summary="Describe the caller of this token")
async def me(principal: PrincipalDep) -> FastJSONResponse:
    """Return who the token belongs to and what it may do (any valid token)."""
    return FastJSONResponse(service.principal_view(principal))


@router.get("/.well-known", summary="Public key (PEM) that verifies access tokens")
def public_key_pem(session: SessionDep, ctx: ContextDep) -> PlainTextResponse:
    """Return the active signing key's public key as PEM (OpenCRVS-compatible)."""
    key = service.published_keys(session, ctx.keys).active()
    return PlainTextResponse(key.public_pem if key else "", media_type="application/x-pem-file")


@router.get("/.well-known/jwks.json", summary="JSON Web Key Set of every published key")
def jwks(session: SessionDep, ctx: ContextDep) -> FastJSONResponse:
    """Return the JWKS: token keys (active and retired) and the certificate keys (ES256)."""
    document = service.published_keys(session, ctx.keys).jwks()
    document["keys"] = [*document["keys"], *ctx.certificate_keys.jwks(session)]
    return FastJSONResponse(document, headers={"Cache-Control": "max-age=60"})
