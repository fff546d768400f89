"""Pages for the national system admin to manage integration clients.

Every change is a POST that redirects (POST-redirect-GET); secrets are handed to the page they
redirect to through `web.reveal`, so reloading or going Back never rotates anything.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from crvshub.auth import client_admin
from crvshub.auth import service as auth_service
from crvshub.auth.domain import WEBHOOK_SECTIONS, ClientType
from crvshub.auth.errors import ClientNotFound, InvalidClientSettings
from crvshub.auth.user_admin import ACTION_WORDS
from crvshub.deps import ContextDep, SessionDep
from crvshub.errors import AppError
from crvshub.web import i18n, labels, reveal
from crvshub.web.i18n import N_
from crvshub.web.pages import ADMIN_SCOPES, Page, check_csrf, error_page, page_for, render
from crvshub.web.security import WebRoute
from crvshub.webhook import operations as webhook_operations

router = APIRouter(include_in_schema=False, route_class=WebRoute)
AdminPage = Annotated[Page, Depends(page_for(*ADMIN_SCOPES))]
ClientId = Annotated[str, Path(min_length=1, max_length=128)]
Csrf = Annotated[str, Form(max_length=128)]
Done = Annotated[str | None, Query(max_length=32)]
Step = Annotated[str, Path(pattern="^(deactivate|refresh-secret|delete)$")]
DONE = {
    "deactivated": N_("The client was deactivated: its tokens no longer work."),
    "reactivated": N_("The client was reactivated: it must request new tokens."),
    "deleted": N_("The client was deleted."),
    "permissions": N_("The webhook permissions were saved."),
    "quota": N_("The daily quota was saved."),
    "redelivered": N_("The delivery was queued again: it is sent within seconds."),
    "enabled": N_("The subscription was enabled again: its waiting deliveries resume."),
}
NO_PERMISSION = N_(
    "A webhook client must receive at least one section: tick the sections of each event "
    "it may receive."
)
DELIVERIES_SHOWN = 20


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


def webhook_permissions(checked: list[str]) -> list[dict[str, Any]]:
    """Turn 'event:section' checkbox values into the permissions list of the spec."""
    chosen: dict[str, list[str]] = {event: [] for event in WEBHOOK_SECTIONS}
    for value in checked:
        event, _, section = value.partition(":")
        chosen.setdefault(event, []).append(section)
    return [{"event": event, "permissions": sections} for event, sections in chosen.items()]


def _require_some(permissions: list[dict[str, Any]]) -> None:
    if not any(item["permissions"] for item in permissions):
        raise InvalidClientSettings(NO_PERMISSION, expression="webhook_permissions")


def _secrets_path(client_id: str) -> str:
    return f"/integrations/{client_id}/secrets"


def _to_secrets(ctx: Any, page: Page, client_id: str, values: dict[str, Any]) -> Response:
    path = _secrets_path(client_id)
    response = RedirectResponse(path, status_code=303)
    return reveal.stash(response, ctx, page, f"client:{client_id}", path, values)


@router.get("/integrations")
def integrations(request: Request, session: SessionDep, page: AdminPage,
                 done: Done = None) -> Response:
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
    """Register a client, then show its credentials once on the secrets page."""
    check_csrf(request, page, csrf)
    permissions = webhook_permissions(perm or []) if client_type == ClientType.WEBHOOK else None
    changes = client_admin.ClientChanges(name=name, webhook_permissions=permissions)
    try:
        if permissions is not None:
            _require_some(permissions)
        with session.begin_nested():
            creds = client_admin.register(session, ctx, _actor(session, page), client_type,
                                          changes)
    except AppError as exc:
        form = {"name": name, "type": client_type, "perm": perm or []}
        return _list_page(request, session, page, error=exc, form=form)
    return _to_secrets(ctx, page, creds.client.client_id, {
        "title": N_("Client registered"), "client_secret": creds.client_secret,
        "sha_secret": creds.sha_secret})


def _detail_values(session: Session, client_id: str) -> dict[str, Any]:
    client = client_admin.get(session, client_id)
    view = client_admin.client_view(client)
    subscriptions = []
    for sub, _summary in webhook_operations.all_subscriptions(
            session, client_id=client.id, status=None):
        log = webhook_operations.list_deliveries(
            session, sub.id, None, status=None, since=None, limit=DELIVERIES_SHOWN, offset=0)
        subscriptions.append({"sub": sub, "deliveries": log.deliveries})
    granted = {f"{p['event']}:{code}" for p in view["webhook_permissions"]
               for code in p.get("permissions", [])}
    return {"client": view, "subscriptions": subscriptions, "granted": granted,
            "audit": [client_admin.audit_view(r) for r in client_admin.audit_trail(
                session, client_id)]}


def _detail_page(request: Request, session: Session, page: Page, client_id: str, *,
                 error: AppError | None = None, done: str | None = None) -> Response:
    try:
        values = _detail_values(session, client_id)
    except AppError as exc:
        return error_page(request, page, exc)
    return render(request, "integration.html", page, error.status if error else 200,
                  sections=WEBHOOK_SECTIONS, words=ACTION_WORDS, error=error,
                  done=DONE.get(done or ""), **values)


@router.get("/integrations/{client_id}")
def integration(client_id: ClientId, request: Request, session: SessionDep, page: AdminPage,
                done: Done = None) -> Response:
    """Show one client: settings, subscriptions, delivery log and management audit."""
    return _detail_page(request, session, page, client_id, done=done)


@router.get("/integrations/{client_id}/secrets")
def integration_secrets(client_id: ClientId, request: Request, session: SessionDep,
                        ctx: ContextDep, page: AdminPage) -> Response:
    """Show the secrets just issued (for a few minutes, in this session only)."""
    try:
        client = client_admin.client_view(client_admin.get(session, client_id))
    except AppError as exc:
        return error_page(request, page, exc)
    values = reveal.read(request, ctx, page, f"client:{client_id}")
    return render(request, "integration_secrets.html", page, client=client, creds=values,
                  title=(values or {}).get("title", N_("Secrets")))


@router.post("/integrations/{client_id}/secrets/done")
def integration_secrets_done(client_id: ClientId, request: Request, page: AdminPage,
                             csrf: Csrf = "") -> Response:
    """Forget the shown secrets and go to the client's page."""
    check_csrf(request, page, csrf)
    response = RedirectResponse(f"/integrations/{client_id}", status_code=303)
    return reveal.forget(response, _secrets_path(client_id))


def _change(request: Request, session: Session, page: Page, csrf: str, client_id: str,
            done: str, work: Callable[[], Any], *, to_list: bool = False) -> Response:
    check_csrf(request, page, csrf)
    try:
        with session.begin_nested():
            work()
    except AppError as exc:
        if to_list:
            return _list_page(request, session, page, error=exc)
        return _detail_page(request, session, page, client_id, error=exc)
    target = "/integrations" if to_list else f"/integrations/{client_id}"
    return RedirectResponse(f"{target}?done={done}", status_code=303)


CONFIRM = {
    "deactivate": (N_("Deactivate %(name)s?"),
                   N_("Deactivating the %(type)s client %(name)s cuts it off at once: its "
                      "current tokens stop working and it cannot get new ones until it is "
                      "reactivated."),
                   N_("Deactivate %(name)s")),
    "refresh-secret": (N_("Refresh the secret of %(name)s?"),
                       N_("A new client secret is issued and shown once. The current secret and "
                          "every token issued with it stop working at once: %(name)s cannot "
                          "connect until its operator installs the new secret."),
                       N_("Refresh the secret of %(name)s")),
}


@router.get("/integrations/{client_id}/{step}")
def confirm_integration_step(client_id: ClientId, step: Step, request: Request,
                             session: SessionDep, page: AdminPage) -> Response:
    """Ask for confirmation before a change that cuts a client off (deactivate, refresh, delete)."""
    try:
        client = client_admin.client_view(client_admin.get(session, client_id))
    except AppError as exc:
        return error_page(request, page, exc)
    if step == "delete":
        return render(request, "integration_delete.html", page, client=client)
    gettext = i18n.gettext_for(i18n.language_of(request))
    kind = labels.CLIENT_TYPES.get(client["type"])
    words = {**client, "type": gettext(kind) if kind else client["type"]}
    title, text, button = (gettext(part) % words for part in CONFIRM[step])
    return render(request, "admin_confirm.html", page, title=title, text=text, button=button,
                  action=f"/integrations/{client_id}/{step}",
                  cancel=f"/integrations/{client_id}", danger=True)


@router.post("/integrations/{client_id}/deactivate")
def deactivate_integration(
    client_id: ClientId, request: Request, session: SessionDep, ctx: ContextDep,
    page: AdminPage, csrf: Csrf = "",
) -> Response:
    """Deactivate a client (after the confirmation page): its tokens stop working at once."""
    return _change(request, session, page, csrf, client_id, "deactivated",
                   lambda: client_admin.deactivate(session, ctx, _actor(session, page),
                                                   client_id))


@router.post("/integrations/{client_id}/reactivate")
def reactivate_integration(
    client_id: ClientId, request: Request, session: SessionDep, ctx: ContextDep,
    page: AdminPage, csrf: Csrf = "",
) -> Response:
    """Reactivate a client; it must request new tokens."""
    return _change(request, session, page, csrf, client_id, "reactivated",
                   lambda: client_admin.reactivate(session, ctx, _actor(session, page),
                                                   client_id))


@router.post("/integrations/{client_id}/refresh-secret")
def refresh_integration_secret(
    client_id: ClientId, request: Request, session: SessionDep, ctx: ContextDep,
    page: AdminPage, csrf: Csrf = "",
) -> Response:
    """Issue a new client secret (after the confirmation page) and show it once."""
    check_csrf(request, page, csrf)
    try:
        with session.begin_nested():
            creds = client_admin.refresh_secret(session, ctx, _actor(session, page), client_id)
    except AppError as exc:
        return _detail_page(request, session, page, client_id, error=exc)
    return _to_secrets(ctx, page, client_id, {"title": N_("New client secret"),
                                              "client_secret": creds.client_secret})


@router.post("/integrations/{client_id}/sha-secret")
def reveal_integration_sha_secret(
    client_id: ClientId, request: Request, session: SessionDep, ctx: ContextDep,
    page: AdminPage, csrf: Csrf = "",
) -> Response:
    """Reveal the webhook signing secret (the look is written to the management audit)."""
    check_csrf(request, page, csrf)
    try:
        with session.begin_nested():
            secret = client_admin.reveal_sha_secret(session, ctx, _actor(session, page),
                                                    client_id)
    except AppError as exc:
        return _detail_page(request, session, page, client_id, error=exc)
    return _to_secrets(ctx, page, client_id, {"title": N_("Signing secret"), "sha_secret": secret})


@router.post("/integrations/{client_id}/permissions")
def save_integration_permissions(
    client_id: ClientId, request: Request, session: SessionDep, page: AdminPage,
    csrf: Csrf = "", perm: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Change the sections a webhook client receives (at least one)."""
    permissions = webhook_permissions(perm or [])

    def work() -> None:
        _require_some(permissions)
        client_admin.update(session, _actor(session, page), client_id,
                            client_admin.ClientChanges(webhook_permissions=permissions))

    return _change(request, session, page, csrf, client_id, "permissions", work)


@router.post("/integrations/{client_id}/quota")
def save_integration_quota(
    client_id: ClientId, request: Request, session: SessionDep, page: AdminPage,
    csrf: Csrf = "", daily_quota: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """Change the number of record searches a search client may make per day."""

    def work() -> None:
        try:
            quota = int(daily_quota)
        except ValueError:
            raise InvalidClientSettings(N_("The daily quota must be a whole number"),
                                        expression="daily_quota") from None
        client_admin.update(session, _actor(session, page), client_id,
                            client_admin.ClientChanges(daily_quota=quota))

    return _change(request, session, page, csrf, client_id, "quota", work)


@router.post("/integrations/{client_id}/deliveries/{subscription_id}/{delivery_id}/redeliver")
def redeliver_integration_delivery(
    client_id: ClientId, subscription_id: Annotated[str, Path(max_length=64)],
    delivery_id: Annotated[str, Path(max_length=64)], request: Request, session: SessionDep,
    page: AdminPage, csrf: Csrf = "",
) -> Response:
    """Queue one webhook delivery of this client again now."""

    def work() -> None:
        _own_subscription(session, client_id, subscription_id)
        webhook_operations.redeliver(session, subscription_id, delivery_id, None)

    return _change(request, session, page, csrf, client_id, "redelivered", work)


def _own_subscription(session: Session, client_id: str, subscription_id: str) -> None:
    client = client_admin.get(session, client_id)
    subs = webhook_operations.all_subscriptions(session, client_id=client.id, status=None)
    if subscription_id not in {sub.id for sub, _ in subs}:
        raise ClientNotFound("This subscription is not one of the client's")


@router.post("/integrations/{client_id}/subscriptions/{subscription_id}/enable")
def enable_integration_subscription(
    client_id: ClientId, subscription_id: Annotated[str, Path(max_length=64)],
    request: Request, session: SessionDep, page: AdminPage, csrf: Csrf = "",
) -> Response:
    """Enable again a subscription that was disabled after failing deliveries."""

    def work() -> None:
        _own_subscription(session, client_id, subscription_id)
        webhook_operations.enable(session, subscription_id, None)

    return _change(request, session, page, csrf, client_id, "enabled", work)


@router.post("/integrations/{client_id}/delete")
def delete_integration(
    client_id: ClientId, request: Request, session: SessionDep, ctx: ContextDep,
    page: AdminPage, csrf: Csrf = "",
) -> Response:
    """Delete a client for good, after the confirmation page."""
    return _change(request, session, page, csrf, client_id, "deleted",
                   lambda: client_admin.delete(session, ctx, _actor(session, page), client_id),
                   to_list=True)
