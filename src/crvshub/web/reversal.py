"""Reverse a registered death (the person is alive): a confirmation naming the record, with
the reason, then the record service's `reverse-death` action (audited, `DEATH_REVERSED` sent to
subscribed systems), as `POST /api/records/{id}/actions/reverse-death` does."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from crvshub.deps import ContextDep, SessionDep
from crvshub.errors import AppError
from crvshub.record import actions, workqueues
from crvshub.record.domain import Action
from crvshub.record.service import Change
from crvshub.web.pages import Page, check_csrf, error_page, render
from crvshub.web.records import RecordPage, may_reverse
from crvshub.web.security import WebRoute

router = APIRouter(include_in_schema=False, route_class=WebRoute)
REVERSE = Action.REVERSE_DEATH


def _confirmation(request: Request, session: Session, page: Page, record_id: str, *,
                  error: AppError | None = None, reason: str = "") -> Response:
    try:
        body, version = workqueues.view(session, record_id, page.actor)
    except AppError as exc:
        return error_page(request, page, exc)
    return render(request, "reverse_death.html", page, error.status if error else 200,
                  record=body, version=version, error=error, reason=reason,
                  allowed=may_reverse(body, page.principal.scopes))


@router.get("/records/{record_id}/reverse-death")
def confirm_reversal(
    record_id: str, request: Request, session: SessionDep, page: RecordPage,
) -> Response:
    """Ask to confirm the reversal of a registered death, naming it, with the reason."""
    return _confirmation(request, session, page, record_id)


@router.post("/records/{record_id}/reverse-death")
def reverse_death(
    record_id: str, request: Request, session: SessionDep, ctx: ContextDep, page: RecordPage,
    csrf: Annotated[str, Form(max_length=128)] = "",
    version: Annotated[str, Form(max_length=12)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Reverse the death registration (status Archived), with the reason, in the audit."""
    check_csrf(request, page, csrf)
    expected = int(version) if version.isdigit() else None
    change = Change(REVERSE, reason.strip() or None, None, {}, expected)
    try:
        with session.begin_nested():
            actions.perform(session, ctx.settings, record_id, page.actor, change)
    except AppError as exc:
        return _confirmation(request, session, page, record_id, error=exc, reason=reason)
    return RedirectResponse(f"/records/{record_id}?done={REVERSE.value}", status_code=303)
