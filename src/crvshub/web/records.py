"""Staff pages for records: workqueues, the record with its history, and workflow actions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from crvshub.certificate import service as certificates
from crvshub.deps import ContextDep, SessionDep
from crvshub.errors import AppError, VersionConflict
from crvshub.location import service as location_service
from crvshub.record import actions, dedup, domain, staff_search, views, workqueues
from crvshub.record.domain import Action, Event
from crvshub.record.errors import DuplicateUnresolved, UnknownAction
from crvshub.record.search_columns import search_columns
from crvshub.record.service import Change
from crvshub.web.pages import RECORD_SCOPES, Page, check_csrf, error_page, page_for, render
from crvshub.web.security import WebRoute

router = APIRouter(include_in_schema=False, route_class=WebRoute)
RecordPage = Annotated[Page, Depends(page_for(*RECORD_SCOPES))]
PAGE_SIZE = 20
# Actions offered as buttons, in this order, with their labels.
WEB_ACTIONS: dict[str, tuple[Action, str]] = {
    a.value: (a, label)
    for a, label in (
        (Action.DECLARE, "Send for review"),
        (Action.VALIDATE, "Validate"),
        (Action.REGISTER, "Register"),
        (Action.ISSUE, "Issue certificate"),
        (Action.REINSTATE, "Reinstate"),
        (Action.ASSIGN, "Assign to me"),
        (Action.UNASSIGN, "Unassign"),
        (Action.REJECT, "Send for updates (reject)"),
        (Action.ARCHIVE, "Archive"),
    )
}
WITH_REASON = frozenset({Action.REJECT, Action.ARCHIVE})
# Offered only in the "potential duplicate" banner, once per candidate.
DUPLICATE_ACTIONS: dict[str, tuple[Action, str]] = {
    Action.MARK_AS_NOT_DUPLICATE.value: (Action.MARK_AS_NOT_DUPLICATE, "Not a duplicate"),
    Action.MARK_AS_DUPLICATE.value: (Action.MARK_AS_DUPLICATE, "Duplicate of this record"),
}
ALL_ACTIONS = {**WEB_ACTIONS, **DUPLICATE_ACTIONS}
DONE = {name: views.VERBS[domain.AUDIT_NAMES[action]] for name, (action, _l) in ALL_ACTIONS.items()}
SEARCH_SIZE = 20


@router.get("/workqueues")
def workqueue_list(request: Request, session: SessionDep, page: RecordPage) -> Response:
    """Show the workqueues of the user's office with their counts."""
    try:
        body = workqueues.counts(session, page.actor, None)
    except AppError as exc:
        return error_page(request, page, exc)
    return render(request, "workqueues.html", page, queues=body["workqueues"])


@router.get("/workqueues/{queue}")
def workqueue_page(
    queue: str,
    request: Request,
    session: SessionDep,
    page: RecordPage,
    number: Annotated[int, Query(alias="page", ge=1, le=100000)] = 1,
) -> Response:
    """Show one page of a workqueue: the records, newest change first."""
    try:
        body = workqueues.page(
            session, page.actor, queue, office=None, number=number, size=PAGE_SIZE,
            sort="-updated_at",
        )
    except AppError as exc:
        return error_page(request, page, exc)
    last = max(1, -(-body["total"] // PAGE_SIZE))
    return render(request, "workqueue.html", page, queue=body, last_page=last)


def role_label(role: str) -> str:
    """Return a staff role as words: REGISTRATION_AGENT -> Registration agent."""
    return role.replace("_", " ").capitalize()


def readable_line(item: dict[str, Any]) -> str:
    """Return an audit line with the staff role in words."""
    line = str(item["line"])
    actor = item["actor"]
    if actor["type"] == "user" and actor["role"]:
        line = line.replace(f"({actor['role']})", f"({role_label(actor['role'])})")
    return line


def _facts(session: Session, body: dict[str, Any]) -> dict[str, Any]:
    columns = search_columns(body["bundle"], Event(body["event"]))
    find = location_service.lookup(session)
    place = find(columns["event_location_id"]) if columns["event_location_id"] else None
    office = find(body["officeId"]) if body["officeId"] else None
    return {
        "gender": columns["subject_gender"],
        "place": place.name if place else None,
        "office": office.name if office else None,
    }


def _offered(record: dict[str, Any], page: Page) -> list[dict[str, Any]]:
    status, scopes = record["status"], page.principal.scopes
    holder = record["assignedUserId"]
    # Assignment buttons only where they change something.
    pointless = {Action.ASSIGN} if holder == page.principal.subject else set()
    if holder is None:
        pointless.add(Action.UNASSIGN)
    return [
        {"name": name, "label": label, "reason": action in WITH_REASON,
         "reason_required": action in domain.NEEDS_REASON}
        for name, (action, label) in WEB_ACTIONS.items()
        if domain.is_allowed(status, action) and domain.may_perform(scopes, action)
        and action not in pointless
    ]


def record_page(
    request: Request,
    session: Session,
    page: Page,
    record_id: str,
    *,
    error: AppError | None = None,
    done: str | None = None,
) -> Response:
    """Render the record page (the view is audited like in the API), with an error if any."""
    try:
        body, version = workqueues.view(session, record_id, page.actor)
    except AppError as exc:
        return error_page(request, page, exc)
    history = [{**item, "line": readable_line(item)} for item in body["history"]]
    found = dedup.explanations(session, record_id)
    resolvable = domain.is_allowed(body["status"], Action.MARK_AS_DUPLICATE) and \
        domain.may_perform(page.principal.scopes, Action.MARK_AS_DUPLICATE)
    printed = [certificates.summary(c) for c in certificates.of_record(session, record_id,
                                                                      page.actor)]
    can_print = domain.is_allowed(body["status"], Action.CERTIFY) and \
        domain.may_perform(page.principal.scopes, Action.CERTIFY)
    return render(
        request, "record.html", page, error.status if error else 200,
        certificates=printed, can_print=can_print,
        record=body, version=version, facts=_facts(session, body), history=history,
        actions=_offered(body, page), error=error, duplicates=found, resolvable=resolvable,
        stale=isinstance(error, VersionConflict), done=DONE.get(done or ""),
    )


@router.get("/records/{record_id}")
def show_record(
    record_id: str,
    request: Request,
    session: SessionDep,
    page: RecordPage,
    done: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    """Show a record: facts, status, audit history and the actions the user may take."""
    return record_page(request, session, page, record_id, done=done)


@router.post("/records/{record_id}/actions/{action}")
def act_on_record(
    record_id: str,
    action: str,
    request: Request,
    session: SessionDep,
    ctx: ContextDep,
    page: RecordPage,
    csrf: Annotated[str, Form(max_length=128)] = "",
    version: Annotated[str, Form(max_length=12)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    duplicate_of: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Perform a workflow action from the record page, then show the record again."""
    check_csrf(request, page, csrf)
    chosen = ALL_ACTIONS.get(action)
    if chosen is None:
        return error_page(request, page, UnknownAction(f"No action {action!r} on this page"))
    expected = int(version) if version.isdigit() else None
    data = {"duplicate_of": duplicate_of} if duplicate_of else {}
    change = Change(chosen[0], reason.strip() or None, None, data, expected)
    try:
        with session.begin_nested():
            actions.perform(session, ctx.settings, record_id, page.actor, change)
    except AppError as exc:
        if isinstance(exc, DuplicateUnresolved) and exc.extra.get("flaggedNow"):
            # The savepoint dropped the flag found by this attempt: keep it for the registrar.
            dedup.flag_again(session, record_id, page.actor)
        return record_page(request, session, page, record_id, error=exc)
    return RedirectResponse(f"/records/{record_id}?done={action}", status_code=303)


@router.get("/search")
def search_page(
    request: Request,
    session: SessionDep,
    ctx: ContextDep,
    page: RecordPage,
    q: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """Find records by name, tracking ID, registration number, national ID or phone number."""
    text = q.strip()
    results = None
    if text:
        try:
            results = staff_search.search(
                session, ctx.vocabulary, ctx.location_cache.snapshot(), page.actor, text,
                staff_search.StaffFilters(), count=SEARCH_SIZE, skip=0)
        except AppError as exc:
            return error_page(request, page, exc)
    items = [views.summary(r) for r in results.records] if results else []
    return render(request, "search.html", page, q=text, items=items,
                  total=results.total if results else 0)
