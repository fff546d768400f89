"""JSON API for the national system admin to manage integration clients."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from sqlalchemy.orm import Session

from crvshub.auth import client_admin
from crvshub.auth.clients import IssuedCredentials
from crvshub.auth.dependencies import require
from crvshub.auth.domain import Principal, Scope
from crvshub.auth.schemas import ClientCreate, ClientUpdate
from crvshub.deps import ContextDep, SessionDep
from crvshub.fhir.responses import FastJSONResponse
from crvshub.net import client_address

router = APIRouter(prefix="/api/integrations", tags=["integration clients"])

Admin = Annotated[Principal, Depends(require(Scope.NATLSYSADMIN))]
ClientId = Annotated[str, Path(min_length=1, max_length=128, description="The public client_id")]
NO_STORE = {"Cache-Control": "no-store"}


def _changes(body: ClientCreate | ClientUpdate) -> client_admin.ClientChanges:
    permissions = body.webhook_permissions
    return client_admin.ClientChanges(
        name=body.name,
        daily_quota=body.daily_quota,
        webhook_permissions=None if permissions is None else [p.model_dump() for p in permissions],
        integrating_system_type=body.integrating_system_type,
        compat_mode=body.compat_mode,
    )


def _actor(session: Session, principal: Principal, request: Request) -> client_admin.Actor:
    return client_admin.actor_of(session, principal, client_address(request))


def _credentials(creds: IssuedCredentials) -> dict[str, Any]:
    return {
        "client_id": creds.client.client_id,
        "client_secret": creds.client_secret,
        "sha_secret": creds.sha_secret,
        "client": client_admin.client_view(creds.client),
    }


@router.post("", status_code=201, summary="Register an integration client")
def create(body: ClientCreate, admin: Admin, request: Request, session: SessionDep,
           ctx: ContextDep) -> FastJSONResponse:
    """Register a client and return its client_id, client_secret and sha_secret once."""
    creds = client_admin.register(
        session, ctx, _actor(session, admin, request), body.type, _changes(body)
    )
    return FastJSONResponse(_credentials(creds), status_code=201, headers=NO_STORE)


@router.get("", summary="List integration clients")
def list_clients(_admin: Admin, session: SessionDep) -> FastJSONResponse:
    """List every integration client, newest first (no secrets)."""
    clients = client_admin.list_all(session)
    return FastJSONResponse({"clients": [client_admin.client_view(c) for c in clients]})


@router.get("/{client_id}", summary="Show an integration client")
def show(client_id: ClientId, _admin: Admin, session: SessionDep) -> FastJSONResponse:
    """Show one integration client (no secrets)."""
    return FastJSONResponse(client_admin.client_view(client_admin.get(session, client_id)))


@router.patch("/{client_id}", summary="Change a client's name, quota or webhook permissions")
def update(client_id: ClientId, body: ClientUpdate, admin: Admin, request: Request,
           session: SessionDep) -> FastJSONResponse:
    """Change a client's name, daily quota, webhook permissions or integrating system type."""
    client = client_admin.update(
        session, _actor(session, admin, request), client_id, _changes(body)
    )
    return FastJSONResponse(client_admin.client_view(client))


@router.post("/{client_id}/deactivate", summary="Deactivate a client (cuts it off at once)")
def deactivate(client_id: ClientId, admin: Admin, request: Request, session: SessionDep,
               ctx: ContextDep) -> FastJSONResponse:
    """Deactivate a client: its tokens stop working within a second."""
    client = client_admin.deactivate(session, ctx, _actor(session, admin, request), client_id)
    return FastJSONResponse(client_admin.client_view(client))


@router.post("/{client_id}/reactivate", summary="Reactivate a client")
def reactivate(client_id: ClientId, admin: Admin, request: Request, session: SessionDep,
               ctx: ContextDep) -> FastJSONResponse:
    """Reactivate a client; it must request new tokens."""
    client = client_admin.reactivate(session, ctx, _actor(session, admin, request), client_id)
    return FastJSONResponse(client_admin.client_view(client))


@router.post("/{client_id}/refresh-secret", summary="Replace a client's secret")
def refresh_secret(client_id: ClientId, admin: Admin, request: Request, session: SessionDep,
                   ctx: ContextDep) -> FastJSONResponse:
    """Issue a new client secret; the old one and tokens issued with it stop working."""
    creds = client_admin.refresh_secret(
        session, ctx, _actor(session, admin, request), client_id
    )
    return FastJSONResponse(_credentials(creds), headers=NO_STORE)


@router.get("/{client_id}/sha-secret", summary="Reveal a client's webhook signing secret")
def sha_secret(client_id: ClientId, admin: Admin, request: Request, session: SessionDep,
               ctx: ContextDep) -> FastJSONResponse:
    """Return the client's sha_secret (the look is audited)."""
    secret = client_admin.reveal_sha_secret(
        session, ctx, _actor(session, admin, request), client_id
    )
    return FastJSONResponse({"client_id": client_id, "sha_secret": secret}, headers=NO_STORE)


@router.get("/{client_id}/audit", summary="Management audit trail of a client")
def audit(client_id: ClientId, _admin: Admin, session: SessionDep) -> FastJSONResponse:
    """List who registered, changed, deactivated or deleted this client, and when."""
    rows = client_admin.audit_trail(session, client_id)
    return FastJSONResponse({"client_id": client_id,
                             "entries": [client_admin.audit_view(r) for r in rows]})


@router.delete("/{client_id}", summary="Delete a client and its webhook subscriptions")
def delete(client_id: ClientId, admin: Admin, request: Request, session: SessionDep,
           ctx: ContextDep) -> FastJSONResponse:
    """Delete a client for good; its tokens stop working within a second."""
    snapshot = client_admin.delete(session, ctx, _actor(session, admin, request), client_id)
    return FastJSONResponse(snapshot)
