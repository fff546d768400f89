"""Pages for the national system admin to manage integration clients."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from crvshub.auth import client_admin
from crvshub.auth import service as auth_service
from crvshub.auth.clients import IssuedCredentials
from crvshub.auth.domain import WEBHOOK_SECTIONS, ClientType
from crvshub.deps import ContextDep, SessionDep
from crvshub.errors import AppError
from crvshub.web.pages import ADMIN_SCOPES, Page, check_csrf, error_page, page_for, render
from crvshub.web.security import WebRoute

router = APIRouter(include_in_schema=False, route_class=WebRoute)
AdminPage = Annotated[Page, Depends(page_for(*ADMIN_SCOPES))]
ClientId = Annotated[str, Path(min_length=1, max_length=128)]
Csrf = Annotated[str, Form(max_length=128)]
DONE = {
    "deactivated": "The client was deactivated: its tokens no longer work.",
    "reactivated": "The client was reactivated: it must request new tokens.",
    "deleted": "The client was deleted.",
}


def _actor(session: Session, page: Page) -> client_admin.Actor:
    user = auth_service.user_by_id(session, page.principal.subject)
    who = f"user:{user.username}" if user else f"user:{page.principal.subject}"
    return client_admin.Actor(who, page.ip)


def _list_page(
    request: Request, session: Session, page: Page, *, error: AppError | None = None,
    done: str | None = None, form: dict[str, Any] | None = None,
) -> Response:
    clients = [client_admin.client_view(c) for c in client_admin.list_all(session)]
    return render(
        request, "integrations.html", page, error.status if error else 200,
        clients=clients, types=[t.value for t in ClientType], sections=WEBHOOK_SECTIONS,
        error=error, done=DONE.get(done or ""), form=form or {},
    )


def _secrets_page(request: Request, page: Page, creds: IssuedCredentials, title: str) -> Response:
    return render(request, "integration_secrets.html", page, title=title,
                  client=client_admin.client_view(creds.client), creds=creds)


def webhook_permissions(checked: list[str]) -> list[dict[str, Any]]:
    """Turn 'event:section' checkbox values into the permissions list of the spec."""
    chosen: dict[str, list[str]] = {event: [] for event in WEBHOOK_SECTIONS}
    for value in checked:
        event, _, section = value.partition(":")
        chosen.setdefault(event, []).append(section)
    return [{"event": event, "permissions": sections} for event, sections in chosen.items()]


@router.get("/integrations")
def integrations(
    request: Request, session: SessionDep, page: AdminPage,
    done: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    """List the integration clients, with the form to register one."""
    return _list_page(request, session, page, done=done)


@router.post("/integrations")
def create_integration(
    request: Request, session: SessionDep, ctx: ContextDep, page: AdminPage,
    csrf: Csrf = "",
    name: Annotated[str, Form(max_length=255)] = "",
    client_type: Annotated[str, Form(alias="type", max_length=32)] = "",
    perm: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Register a client and show its credentials once."""
    check_csrf(request, page, csrf)
    permissions = webhook_permissions(perm or []) if client_type == ClientType.WEBHOOK else None
    changes = client_admin.ClientChanges(name=name, webhook_permissions=permissions)
    try:
        with session.begin_nested():
            creds = client_admin.register(session, ctx, _actor(session, page), client_type,
                                          changes)
    except AppError as exc:
        form = {"name": name, "type": client_type, "perm": perm or []}
        return _list_page(request, session, page, error=exc, form=form)
    return _secrets_page(request, page, creds, "Client registered")


def _change(
    request: Request, session: Session, page: Page, csrf: str, done: str, work: Any
) -> Response:
    check_csrf(request, page, csrf)
    try:
        with session.begin_nested():
            work()
    except AppError as exc:
        return _list_page(request, session, page, error=exc)
    return RedirectResponse(f"/integrations?done={done}", status_code=303)


@router.post("/integrations/{client_id}/deactivate")
def deactivate_integration(
    client_id: ClientId, request: Request, session: SessionDep, ctx: ContextDep,
    page: AdminPage, csrf: Csrf = "",
) -> Response:
    """Deactivate a client: its tokens stop working at once."""
    return _change(request, session, page, csrf, "deactivated", lambda: client_admin.deactivate(
        session, ctx, _actor(session, page), client_id))


@router.post("/integrations/{client_id}/reactivate")
def reactivate_integration(
    client_id: ClientId, request: Request, session: SessionDep, ctx: ContextDep,
    page: AdminPage, csrf: Csrf = "",
) -> Response:
    """Reactivate a client; it must request new tokens."""
    return _change(request, session, page, csrf, "reactivated", lambda: client_admin.reactivate(
        session, ctx, _actor(session, page), client_id))


@router.post("/integrations/{client_id}/refresh-secret")
def refresh_integration_secret(
    client_id: ClientId, request: Request, session: SessionDep, ctx: ContextDep,
    page: AdminPage, csrf: Csrf = "",
) -> Response:
    """Issue a new client secret and show it once."""
    check_csrf(request, page, csrf)
    try:
        with session.begin_nested():
            creds = client_admin.refresh_secret(session, ctx, _actor(session, page), client_id)
    except AppError as exc:
        return _list_page(request, session, page, error=exc)
    return _secrets_page(request, page, creds, "New client secret")


@router.get("/integrations/{client_id}/delete")
def confirm_delete_integration(
    client_id: ClientId, request: Request, session: SessionDep, page: AdminPage
) -> Response:
    """Ask for confirmation before deleting a client."""
    try:
        client = client_admin.client_view(client_admin.get(session, client_id))
    except AppError as exc:
        return error_page(request, page, exc)
    return render(request, "integration_delete.html", page, client=client)


@router.post("/integrations/{client_id}/delete")
def delete_integration(
    client_id: ClientId, request: Request, session: SessionDep, ctx: ContextDep,
    page: AdminPage, csrf: Csrf = "",
) -> Response:
    """Delete a client for good, after the confirmation page."""
    return _change(request, session, page, csrf, "deleted", lambda: client_admin.delete(
        session, ctx, _actor(session, page), client_id))
