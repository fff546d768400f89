"""Staff pages for records: workqueues, the record with its history, and workflow actions."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from crvshub.auth import service as auth_service
from crvshub.auth.domain import Role
from crvshub.certificate import service as certificates
from crvshub.context import AppContext
from crvshub.deps import ContextDep, SessionDep
from crvshub.errors import AppError, VersionConflict
from crvshub.location import service as location_service
from crvshub.location.cache import Snapshot
from crvshub.location.domain import LocationType
from crvshub.notification.completeness import missing_fields
from crvshub.record import actions, dedup, domain, staff_search, views, workqueues
from crvshub.record.domain import Action, Event
from crvshub.record.errors import DuplicateUnresolved, UnknownAction
from crvshub.record.search_columns import search_columns
from crvshub.record.service import Change
from crvshub.web import declaration, i18n, labels
from crvshub.web.errors import (
    BadQueueFilter,
    DocumentNotViewable,
    IncompleteNotConfirmed,
    NoCorrection,
)
from crvshub.web.i18n import N_
from crvshub.web.pages import RECORD_SCOPES, Page, check_csrf, error_page, page_for, render
from crvshub.web.security import WebRoute

router = APIRouter(include_in_schema=False, route_class=WebRoute)
RecordPage = Annotated[Page, Depends(page_for(*RECORD_SCOPES))]
PAGE_SIZE = 20
# Actions offered as buttons, in this order, with their labels.
WEB_ACTIONS: dict[str, tuple[Action, str]] = {
    a.value: (a, label)
    for a, label in (
        (Action.DECLARE, N_("Send for review")),
        (Action.VALIDATE, N_("Validate")),
        (Action.REGISTER, N_("Register")),
        (Action.ISSUE, N_("Issue certificate")),
        (Action.REINSTATE, N_("Reinstate")),
        (Action.ASSIGN, N_("Assign to me")),
        (Action.UNASSIGN, N_("Unassign")),
        (Action.REJECT, N_("Send for updates (reject)")),
        (Action.ARCHIVE, N_("Archive")),
    )
}
WITH_REASON = frozenset({Action.REJECT, Action.ARCHIVE})
# Actions that open a review-and-confirm page before they are performed.
CONFIRMED = frozenset({Action.VALIDATE, Action.REGISTER})
REGISTRARS = frozenset({Role.LOCAL_REGISTRAR.value, Role.NATIONAL_REGISTRAR.value})
# Answered on the pending correction, not as plain buttons.
CORRECTION_ACTIONS: dict[str, tuple[Action, str]] = {
    Action.APPROVE_CORRECTION.value: (Action.APPROVE_CORRECTION, N_("Approve correction")),
    Action.REJECT_CORRECTION.value: (Action.REJECT_CORRECTION, N_("Reject correction")),
}
# Offered only in the "potential duplicate" banner, once per candidate.
DUPLICATE_ACTIONS: dict[str, tuple[Action, str]] = {
    Action.MARK_AS_NOT_DUPLICATE.value: (Action.MARK_AS_NOT_DUPLICATE, N_("Not a duplicate")),
    Action.MARK_AS_DUPLICATE.value: (Action.MARK_AS_DUPLICATE, N_("Duplicate of this record")),
}
ALL_ACTIONS = {**WEB_ACTIONS, **DUPLICATE_ACTIONS, **CORRECTION_ACTIONS}
DONE = {name: labels.VERBS[domain.AUDIT_NAMES[action]]
        for name, (action, _l) in ALL_ACTIONS.items()}
DONE[Action.REQUEST_CORRECTION.value] = labels.VERBS["correction-requested"]
DONE[Action.REVERSE_DEATH.value] = labels.VERBS["death-reversed"]  # web/reversal.py
# Declaration forms (web/forms.py): an edit saved, a new declaration saved as in progress.
DONE[Action.UPDATE.value] = labels.VERBS["updated"]
DONE["save"] = N_("Saved as in progress")
# What each confirmed action does, told on its review page.
OUTCOMES = {
    Action.VALIDATE: N_("The declaration is marked as checked (status Validated) and goes to a "
                        "registrar's Ready for review queue. A potential-duplicate check runs "
                        "again."),
    Action.REGISTER: N_("The record is registered (status Registered) and gets its registration "
                        "number; subscribed systems are told at once. It cannot be undone: "
                        "later changes need a correction."),
}
HOOK_OUTCOME = N_("The record is sent to the national ID system for external validation "
                  "(status In external validation); it is registered, with its number, when "
                  "that system confirms. It cannot be undone: later changes need a correction.")
CORRECTABLE = {"birth": ("child", "mother", "father"), "death": ("deceased", "spouse")}
CORRECTION_FIELDS = ("given", "family", "gender", "birthDate", "deathDate")
SEARCH_SIZE = 20


OfficeQuery = Annotated[str | None, Query(max_length=64)]


def _offices(ctx: AppContext, page: Page, chosen: str | None, language: str,
             ) -> dict[str, Any] | None:
    """Return the office picker of national roles (every CRVS office, or all), else None."""
    if not page.actor.national:
        return None
    offices = [v for v in ctx.location_cache.snapshot().ordered
               if v.type == LocationType.CRVS_OFFICE.value]
    return {"chosen": chosen or page.actor.office_id, "all": workqueues.ALL_OFFICES,
            "offices": [{"id": v.id, "name": labels.place_name(v, language)} for v in offices]}


def _lookup(session: Session, language: str) -> declaration.Find:
    """Return the location lookup of a page: places named in its language where they can be."""
    return labels.localized(location_service.lookup(session), language)


def _office_name(session: Session, office_id: str | None, language: str) -> str:
    if office_id is None:
        return N_("All offices")
    found = _lookup(session, language)(office_id)
    return found.name if found else office_id


def user_names(session: Session, ids: set[str], language: str = i18n.DEFAULT_LANGUAGE,
               ) -> dict[str, str]:
    """Return the display name and role of staff users by id, the role in a language."""
    gettext = i18n.gettext_for(language)
    names = {}
    for user_id in ids:
        user = auth_service.user_by_id(session, user_id)
        if user is not None:
            names[user_id] = (f"{user.given_names} {user.family_name} "
                              f"({labels.role_in(user.role, gettext)})")
    return names


@router.get("/workqueues")
def workqueue_list(
    request: Request, session: SessionDep, ctx: ContextDep, page: RecordPage,
    office: OfficeQuery = None,
) -> Response:
    """Show the workqueues of an office with their counts (national roles pick the office)."""
    try:
        body = workqueues.counts(session, page.actor, office or None)
    except AppError as exc:
        return error_page(request, page, exc)
    return render(request, "workqueues.html", page, queues=body["workqueues"],
                  picker=_offices(ctx, page, office, i18n.language_of(request)),
                  office=office or "",
                  office_name=_office_name(session, body["officeId"], i18n.language_of(request)))


# Sortable columns of a workqueue page (the record repository's sort keys), newest change first.
QUEUE_SORTS: dict[str, str] = {
    "-updated_at": N_("Last update, newest first"), "updated_at": N_("Last update, oldest first"),
    "-created_at": N_("Received, newest first"), "created_at": N_("Received, oldest first"),
    "-event_date": N_("Date of event, newest first"),
    "event_date": N_("Date of event, oldest first"),
    "tracking_id": N_("Tracking ID"), "name": N_("Name, A to Z"), "-name": N_("Name, Z to A"),
    "-tracking_id": N_("Tracking ID, from the end"),
}
PAGE_SIZES = (10, 20, 50, 100)


@router.get("/workqueues/{queue}")
def workqueue_page(
    queue: str,
    request: Request,
    session: SessionDep,
    ctx: ContextDep,
    page: RecordPage,
    number: Annotated[int, Query(alias="page", ge=1, le=100000)] = 1,
    office: OfficeQuery = None,
    sort: Annotated[str, Query(pattern=r"^-?(updated_at|created_at|event_date|tracking_id|name)$")
                    ] = "-updated_at",
    size: Annotated[int, Query(ge=1, le=workqueues.MAX_PAGE_SIZE)] = PAGE_SIZE,
    event: Annotated[str | None, Query(pattern=r"^(birth|death)$")] = None,
    event_from: Annotated[date | None, Query(alias="from")] = None,
    event_to: Annotated[date | None, Query(alias="to")] = None,
    place: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """Show one page of a workqueue, sorted by a column (newest change first), with how long
    each record has waited and who holds it; filtered by event, dates of the event and place."""
    snapshot = ctx.location_cache.snapshot()
    try:
        filters = _queue_filters(snapshot, event, event_from, event_to, place or None)
        body = workqueues.page(
            session, page.actor, queue, office=office or None, number=number, size=size,
            sort=sort, filters=filters,
        )
    except AppError as exc:
        return error_page(request, page, exc)
    last = max(1, -(-body["total"] // size))
    holders = user_names(session, {i["assignedUserId"] for i in body["items"]
                                   if i["assignedUserId"]}, i18n.language_of(request))
    chosen = {"event": event or "", "from": event_from.isoformat() if event_from else "",
              "to": event_to.isoformat() if event_to else "", "place": place or ""}
    return render(request, "workqueue.html", page, queue=body, last_page=last,
                  holders=holders, office=office or "", sort=sort, size=size,
                  sizes=PAGE_SIZES, sorts=QUEUE_SORTS, filters=chosen,
                  places=_filter_places(snapshot, i18n.language_of(request)),
                  office_name=_office_name(session, body["officeId"],
                                           i18n.language_of(request)))


def _queue_filters(snapshot: Snapshot, event: str | None, event_from: date | None,
                   event_to: date | None, place: str | None) -> workqueues.QueueFilters:
    """Return the filters of a workqueue page, a place widened to every place under it."""
    if event_from and event_to and event_from > event_to:
        raise BadQueueFilter(f"The start date {event_from} is after the end date {event_to}.")
    place_ids = None
    if place is not None:
        if snapshot.get(place) is None:
            raise BadQueueFilter(f"No place with id {place!r} in the country's locations.")
        place_ids = (place, *(v.id for v in snapshot.descendants(place)))
    return workqueues.QueueFilters(event, event_from, event_to, place_ids)


def _filter_places(snapshot: Snapshot, language: str) -> list[dict[str, str]]:
    """Return the areas a workqueue can be narrowed to (each with the facilities under it)."""
    return [{"id": v.id, "name": labels.place_name(v, language)} for v in snapshot.ordered
            if v.type == LocationType.ADMIN_STRUCTURE.value]


def readable_history(items: list[dict[str, Any]], language: str, zone: str,
                     ) -> list[dict[str, Any]]:
    """Return the audit history for people, in a language: each action on its line, except the
    views, folded into one summary line per day (in the office's time zone) where they were."""
    gettext, ngettext = i18n.gettext_for(language), i18n.ngettext_for(language)
    lines: list[dict[str, Any]] = []
    views_of_day: dict[str, dict[str, Any]] = {}
    for item in items:
        if item["action"] != "viewed":
            lines.append({**item, "line": labels.history_line(item, gettext), "views": 0})
            continue
        day = labels.day_in(item["at"], zone)
        folded = views_of_day.get(day)
        if folded is None:
            folded = {**item, "views": 0, "who": [], "last": item["at"], "day": day}
            views_of_day[day] = folded
            lines.append(folded)
        folded["views"] += 1
        folded["last"] = item["at"]
        who = labels.actor_in(item["actor"], gettext)
        if who not in folded["who"]:
            folded["who"].append(who)
    for folded in views_of_day.values():
        people = ", ".join(folded["who"])
        count = folded["views"]
        folded["line"] = ngettext("Viewed once by %(people)s",
                                  "Viewed %(num)d times by %(people)s", count) % {
            "num": count, "people": people}
    return lines


def _facts(session: Session, body: dict[str, Any], language: str) -> dict[str, Any]:
    columns = search_columns(body["bundle"], Event(body["event"]))
    find = _lookup(session, language)
    place = find(columns["event_location_id"]) if columns["event_location_id"] else None
    office = find(body["officeId"]) if body["officeId"] else None
    return {
        "gender": declaration.SEX.get(str(columns["subject_gender"]), columns["subject_gender"]),
        "place": place.name if place else None,
        "office": office.name if office else None,
    }


def may_reverse(record: dict[str, Any], scopes: frozenset[str]) -> bool:
    """Tell whether a user may reverse a record's death registration now (web/reversal.py)."""
    return domain.applies_to(Action.REVERSE_DEATH, record["event"]) \
        and domain.is_allowed(record["status"], Action.REVERSE_DEATH) \
        and domain.may_perform(scopes, Action.REVERSE_DEATH)


def _offered(record: dict[str, Any], page: Page) -> list[dict[str, Any]]:
    status, scopes = record["status"], page.principal.scopes
    holder = record["assignedUserId"]
    # Assignment buttons only where they change something; only registrars take it from others.
    pointless = {Action.ASSIGN} if holder == page.principal.subject else set()
    if holder is None or (holder != page.principal.subject
                          and page.principal.role not in REGISTRARS):
        pointless.add(Action.UNASSIGN)
    return [
        {"name": name, "label": label, "reason": action in WITH_REASON,
         "reason_required": action in domain.NEEDS_REASON, "confirm": action in CONFIRMED}
        for name, (action, label) in WEB_ACTIONS.items()
        if domain.is_allowed(status, action) and domain.may_perform(scopes, action)
        and action not in pointless
    ]


def _review(
    session: Session, ctx: AppContext, body: dict[str, Any], language: str,
) -> tuple[list[declaration.Section], list[str]]:
    """Return the declaration's sections and the required fields it lacks."""
    missing = missing_fields(ctx.settings.country_dir, body["bundle"], body["event"])
    find = _lookup(session, language)
    return declaration.sections(body["bundle"], body["event"], missing, find), missing


def _correction_view(
    session: Session, body: dict[str, Any], pending: dict[str, Any] | None,
    gettext: Callable[[str], str], language: str,
) -> dict[str, Any] | None:
    """Return a pending correction with its changes, field by field (current -> requested)."""
    if pending is None:
        return None
    changes = []
    if pending["bundle"] is not None:
        find = _lookup(session, language)
        now = declaration.translated(
            declaration.sections(body["bundle"], body["event"], [], find), gettext)
        then = declaration.translated(
            declaration.sections(pending["bundle"], body["event"], [], find), gettext)
        before = {(s.title, r.label): r.value for s in now for r in s.rows}
        for section in then:
            for row in section.rows:
                old = before.get((section.title, row.label))
                if old != row.value:
                    changes.append({"field": f"{section.title}: {row.label}",
                                    "before": old, "after": row.value})
    return {**pending, "changes": changes}


def record_page(
    request: Request,
    session: Session,
    ctx: AppContext,
    page: Page,
    record_id: str,
    *,
    error: AppError | None = None,
    done: str | None = None,
) -> Response:
    """Render the record page (the view is audited like in the API), with an error if any."""
    try:
        body, version = workqueues.view(session, record_id, page.actor)
        pending = actions.correction_request(session, record_id, page.actor)
    except AppError as exc:
        return error_page(request, page, exc)
    language = i18n.language_of(request)
    gettext = i18n.gettext_for(language)
    history = readable_history(body["history"], language, ctx.settings.time_zone)
    found = dedup.explanations(session, record_id)
    scopes = page.principal.scopes
    resolvable = domain.is_allowed(body["status"], Action.MARK_AS_DUPLICATE) and \
        domain.may_perform(scopes, Action.MARK_AS_DUPLICATE)
    printed = [certificates.summary(c) for c in certificates.of_record(session, record_id,
                                                                      page.actor)]
    can_print = domain.is_allowed(body["status"], Action.CERTIFY) and \
        domain.may_perform(scopes, Action.CERTIFY)
    sections, missing = _review(session, ctx, body, language)
    holder = body["assignedUserId"]
    return render(
        request, "record.html", page, error.status if error else 200,
        certificates=printed, can_print=can_print,
        record=body, version=version, facts=_facts(session, body, language), history=history,
        actions=_offered(body, page), error=error, duplicates=found, resolvable=resolvable,
        stale=isinstance(error, VersionConflict), done=DONE.get(done or ""),
        sections=declaration.translated(sections, gettext),
        missing=[declaration.field_label(m, gettext) for m in missing],
        documents=declaration.documents(body["bundle"]),
        holder=user_names(session, {holder}, language).get(holder, holder) if holder else None,
        mine=holder == page.principal.subject,
        correction=_correction_view(session, body, pending, gettext, language),
        may_correct=domain.is_allowed(body["status"], Action.REQUEST_CORRECTION)
        and domain.may_perform(scopes, Action.REQUEST_CORRECTION),
        may_decide=domain.may_perform(scopes, Action.APPROVE_CORRECTION),
        may_edit=domain.is_allowed(body["status"], Action.UPDATE)
        and domain.may_perform(scopes, Action.UPDATE),
        may_reverse=may_reverse(body, scopes),
        external=body.get("externalValidation"),
    )


@router.get("/records/{record_id}")
def show_record(
    record_id: str,
    request: Request,
    session: SessionDep,
    ctx: ContextDep,
    page: RecordPage,
    done: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    """Show a record: the whole declaration, flags, audit history and the user's actions."""
    return record_page(request, session, ctx, page, record_id, done=done)


def review_page(
    request: Request, session: Session, ctx: AppContext, page: Page, record_id: str,
    action: Action, *, error: AppError | None = None,
) -> Response:
    """Render the review-and-confirm step of validate or register."""
    try:
        body, version = workqueues.view(session, record_id, page.actor)
    except AppError as exc:
        return error_page(request, page, exc)
    language = i18n.language_of(request)
    sections, missing = _review(session, ctx, body, language)
    outcome = HOOK_OUTCOME if action is Action.REGISTER and ctx.settings.registration_hook_url \
        else OUTCOMES[action]
    allowed = domain.is_allowed(body["status"], action) and \
        domain.may_perform(page.principal.scopes, action)
    gettext = i18n.gettext_for(language)
    return render(
        request, "review.html", page, error.status if error else 200,
        record=body, version=version, action=action.value, label=WEB_ACTIONS[action.value][1],
        outcome=outcome, sections=declaration.translated(sections, gettext),
        missing=[declaration.field_label(m, gettext) for m in missing],
        documents=declaration.documents(body["bundle"]), allowed=allowed, error=error,
        flagged=dedup.explanations(session, record_id).get("flagged"),
    )


@router.get("/records/{record_id}/review/{action}")
def review_action(
    record_id: str, action: str, request: Request, session: SessionDep, ctx: ContextDep,
    page: RecordPage,
) -> Response:
    """Show the whole declaration, what the action will do and what is missing, to confirm."""
    chosen = WEB_ACTIONS.get(action)
    if chosen is None or chosen[0] not in CONFIRMED:
        return error_page(request, page, UnknownAction(f"No review step for {action!r}"))
    return review_page(request, session, ctx, page, record_id, chosen[0])


@router.get("/records/{record_id}/documents/{number}")
def show_document(
    record_id: str, number: int, request: Request, session: SessionDep, page: RecordPage,
) -> Response:
    """Open a supporting document carried in the record (image or PDF); audited as a download."""
    try:
        record = actions.read(session, record_id, page.actor, Action.DOWNLOAD)
    except AppError as exc:
        return error_page(request, page, exc)
    found = declaration.documents(record.bundle)
    document = found[number] if 0 <= number < len(found) else None
    data = declaration.document_bytes(document) if document and document.viewable else None
    if document is None or data is None:
        return error_page(request, page, DocumentNotViewable())
    return Response(data, media_type=document.content_type, headers={
        "Content-Disposition": "inline",
        "Cache-Control": "no-store",
        # Chromium's PDF viewer needs plugins; the file runs no script of its own.
        "Content-Security-Policy": "default-src 'none'; img-src 'self' data:; "
                                   "style-src 'unsafe-inline'; frame-ancestors 'self'",
    })


def _patient_of(bundle: dict[str, Any], event: str, role: str) -> dict[str, Any] | None:
    return declaration.person(bundle, event, role)


def _correction_form(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the correctable people with their current values."""
    people = []
    for role in CORRECTABLE[body["event"]]:
        patient = _patient_of(body["bundle"], body["event"], role)
        if patient is None:
            continue
        name = (patient.get("name") or [{}])[0]
        people.append({
            "role": role, "title": declaration.ROLE_TITLES[role],  # translated on the page
            "given": " ".join(name.get("given") or []), "family": name.get("family") or "",
            "gender": patient.get("gender") or "", "birthDate": patient.get("birthDate") or "",
            "deathDate": str(patient.get("deceasedDateTime") or "")[:10],
        })
    return people


@router.get("/records/{record_id}/correction")
def show_correction_form(
    record_id: str, request: Request, session: SessionDep, page: RecordPage,
) -> Response:
    """Show the correction request form of a registered record."""
    return correction_form(record_id, request, session, page)


def correction_form(
    record_id: str, request: Request, session: Session, page: Page,
    error: AppError | None = None,
) -> Response:
    """Render the correction request form, with an error if any."""
    try:
        body, version = workqueues.view(session, record_id, page.actor)
    except AppError as exc:
        return error_page(request, page, exc)
    return render(request, "correction.html", page, error.status if error else 200,
                  record=body, version=version, people=_correction_form(body), error=error)


def _corrected(bundle: dict[str, Any], event: str, form: dict[str, str]) -> dict[str, Any]:
    """Return a copy of the bundle with the form's values written to the people."""
    result = copy.deepcopy(bundle)
    for role in CORRECTABLE[event]:
        patient = _patient_of(result, event, role)
        if patient is None:
            continue
        names = patient.setdefault("name", [{}]) or [{}]
        patient["name"] = names
        given = form.get(f"{role}.given", "").split()
        family = form.get(f"{role}.family", "").strip()
        if given:
            names[0]["given"] = given
        if family:
            names[0]["family"] = family
        if form.get(f"{role}.gender") in declaration.SEX:
            patient["gender"] = form[f"{role}.gender"]
        if form.get(f"{role}.birthDate"):
            patient["birthDate"] = form[f"{role}.birthDate"]
        death = form.get(f"{role}.deathDate")
        if death and str(patient.get("deceasedDateTime") or "")[:10] != death:
            patient["deceasedDateTime"] = death
    return result


@router.post("/records/{record_id}/correction")
async def request_correction(
    record_id: str, request: Request, session: SessionDep, ctx: ContextDep, page: RecordPage,
) -> Response:
    """Ask for a correction of a registered record: the corrected data and the reason."""
    raw = await request.form()
    form = {k: str(v)[:200] for k, v in raw.items() if isinstance(v, str)}
    check_csrf(request, page, form.get("csrf", ""))
    try:
        body, _version = workqueues.view(session, record_id, page.actor)
        corrected = _corrected(body["bundle"], body["event"], form)
        if corrected == body["bundle"]:
            raise NoCorrection()
        version = form.get("version", "")
        change = Change(Action.REQUEST_CORRECTION, form.get("reason", "").strip() or None, None,
                        {"bundle": corrected}, int(version) if version.isdigit() else None)
        with session.begin_nested():
            actions.perform(session, ctx.settings, record_id, page.actor, change)
    except AppError as exc:
        return correction_form(record_id, request, session, page, error=exc)
    return RedirectResponse(f"/records/{record_id}?done=request-correction", status_code=303)


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
    confirmed: Annotated[str, Form(max_length=8)] = "",
    incomplete: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """Perform a workflow action from the record page, then show the record again.

    Validate and register happen only from their review step (`confirmed`), and on a
    declaration lacking required fields only when that is acknowledged too (`incomplete`).
    """
    check_csrf(request, page, csrf)
    chosen = ALL_ACTIONS.get(action)
    if chosen is None:
        return error_page(request, page, UnknownAction(f"No action {action!r} on this page"))
    if chosen[0] in CONFIRMED:
        if confirmed != "yes":
            return RedirectResponse(f"/records/{record_id}/review/{action}", status_code=303)
        try:
            body, _v = workqueues.view(session, record_id, page.actor)
        except AppError as exc:
            return error_page(request, page, exc)
        if missing_fields(ctx.settings.country_dir, body["bundle"], body["event"]) \
                and incomplete != "yes":
            return review_page(request, session, ctx, page, record_id, chosen[0],
                               error=IncompleteNotConfirmed())
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
        return record_page(request, session, ctx, page, record_id, error=exc)
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
