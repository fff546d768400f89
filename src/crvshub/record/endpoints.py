"""Staff JSON API under /api/records: declarations, workqueues, record view and actions."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Query, Request
from starlette.responses import Response

from crvshub.auth.dependencies import require
from crvshub.auth.domain import Principal
from crvshub.deps import ContextDep, ReadSessionDep, SessionDep
from crvshub.fhir.responses import FastJSONResponse, FHIRResponse, error_response
from crvshub.net import client_address as _ip
from crvshub.record import actions, declarations, dedup, staff_search, workqueues
from crvshub.record.domain import STAFF_SCOPES, Action
from crvshub.record.errors import BadIfMatch, DuplicateUnresolved, UnknownAction
from crvshub.record.models import Record
from crvshub.record.schemas import ActionBody
from crvshub.record.service import Change, actor_for, etag
from crvshub.record.views import summary

router = APIRouter(prefix="/api/records", tags=["records"])
Staff = Annotated[Principal, Depends(require(*STAFF_SCOPES, kinds=("user",)))]
Declarer = Annotated[
    Principal, Depends(require("declare", "validate", "register", kinds=("user",)))
]
ETAG_PATTERN = re.compile(r'^\s*(?:W/)?"?(\d{1,9})"?\s*$')
SORTS = "^-?(updated_at|created_at|event_date|tracking_id|name)$"
# Creation, hook answers, view, download and edit have their own routes.
OWN_ROUTES = frozenset(
    {
        Action.NOTIFY,
        Action.CONFIRM_REGISTRATION,
        Action.REJECT_REGISTRATION,
        Action.VIEW,
        Action.DOWNLOAD,
        Action.UPDATE,
    }
)
ROUTE_ACTIONS = {a.value: a for a in Action if a not in OWN_ROUTES}


def parse_if_match(value: str | None) -> int | None:
    """Return the version named by an If-Match header, or None when there is none."""
    if value is None or value.strip() == "*":
        return None
    match = ETAG_PATTERN.match(value)
    if not match:
        raise BadIfMatch(f"Bad If-Match {value!r}", expression="If-Match")
    return int(match.group(1))


def _record_response(record: Record, status_code: int = 200) -> Response:
    return FastJSONResponse(
        summary(record), status_code=status_code, headers={"ETag": etag(record)}
    )


@router.post("", status_code=201)
def create_declaration(
    request: Request,
    session: SessionDep,
    principal: Declarer,
    bundle: Annotated[Any, Body()],
    incomplete: Annotated[bool, Query(description="Send as incomplete (in progress).")] = False,
) -> Response:
    """Create a record from a declaration bundle: DECLARED, or IN_PROGRESS when incomplete."""
    record = declarations.create(
        session, bundle, actor_for(principal, _ip(request)), incomplete=incomplete
    )
    response = _record_response(record, 201)
    response.headers["Location"] = f"/api/records/{record.id}"
    return response


@router.get("/workqueues")
def workqueue_counts(
    session: SessionDep, principal: Staff, request: Request, office: str | None = None
) -> Response:
    """Return the number of records in each workqueue of an office."""
    return FastJSONResponse(workqueues.counts(session, actor_for(principal, _ip(request)), office))


@router.get("/workqueues/{queue}")
def workqueue(
    queue: str,
    session: SessionDep,
    principal: Staff,
    request: Request,
    office: str | None = None,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
    count: Annotated[int, Query(ge=1, le=workqueues.MAX_PAGE_SIZE)] = 10,
    sort: Annotated[str, Query(pattern=SORTS)] = "-updated_at",
) -> Response:
    """Return one page of a workqueue, sorted (prefix `-` for descending)."""
    actor = actor_for(principal, _ip(request))
    body = workqueues.page(session, actor, queue, office=office, number=page, size=count, sort=sort)
    return FastJSONResponse(body)


@router.get("/search")
def search_records(
    session: ReadSessionDep,
    ctx: ContextDep,
    principal: Staff,
    request: Request,
    q: Annotated[str, Query(max_length=200, description="Name, tracking ID, registration "
                            "number, national ID or phone number")] = "",
    event: Annotated[str | None, Query(pattern="^(birth|death)$")] = None,
    status: Annotated[list[str] | None, Query(max_length=20)] = None,
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
    place: Annotated[str | None, Query(max_length=64)] = None,
    office: Annotated[str | None, Query(max_length=64)] = None,
    count: Annotated[int, Query(ge=1, le=staff_search.MAX_COUNT)] = 10,
    skip: Annotated[int, Query(ge=0, le=100000)] = 0,
) -> Response:
    """Search the records of your jurisdiction by name, number or date, best matches first."""
    filters = staff_search.StaffFilters(event, tuple(status or ()), date_from, date_to, place,
                                        office)
    page = staff_search.search(
        session, ctx.vocabulary, ctx.location_cache.snapshot(),
        actor_for(principal, _ip(request)), q, filters, count=count, skip=skip)
    return FastJSONResponse(staff_search.page_json(page, count=count, skip=skip))


@router.get("/{record_id}")
def view_record(
    record_id: str, session: SessionDep, principal: Staff, request: Request
) -> Response:
    """Return a record: status, FHIR bundle and full audit history (the view is audited)."""
    body, version = workqueues.view(session, record_id, actor_for(principal, _ip(request)))
    return FastJSONResponse(body, headers={"ETag": f'W/"{version}"'})


@router.get("/{record_id}/download")
def download_record(
    record_id: str, session: SessionDep, principal: Staff, request: Request
) -> Response:
    """Return the record's FHIR document bundle (the download is audited)."""
    record = actions.read(session, record_id, actor_for(principal, _ip(request)), Action.DOWNLOAD)
    return FHIRResponse(record.bundle, headers={"ETag": etag(record)})


@router.put("/{record_id}")
def edit_declaration(
    record_id: str,
    session: SessionDep,
    principal: Declarer,
    request: Request,
    bundle: Annotated[Any, Body()],
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Replace the declaration data of a record not yet registered (If-Match or assignment)."""
    actor = actor_for(principal, _ip(request))
    record = declarations.edit(session, record_id, bundle, actor, parse_if_match(if_match))
    return _record_response(record)


@router.post("/{record_id}/actions/{action}")
def act(
    record_id: str,
    action: str,
    session: SessionDep,
    principal: Staff,
    request: Request,
    ctx: ContextDep,
    body: Annotated[ActionBody | None, Body()] = None,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Perform a workflow action (validate, register, reject, certify, assign, ...)."""
    chosen = ROUTE_ACTIONS.get(action)
    if chosen is None:
        raise UnknownAction(f"No action {action!r}: use one of {', '.join(ROUTE_ACTIONS)}")
    given = body or ActionBody()
    data: dict[str, Any] = {}
    if given.duplicate_of:
        data["duplicate_of"] = given.duplicate_of
    if given.bundle is not None:
        data["bundle"] = given.bundle
    change = Change(chosen, given.reason, given.comment, data, parse_if_match(if_match))
    try:
        record = actions.perform(
            session, ctx.settings, record_id, actor_for(principal, _ip(request)), change
        )
    except DuplicateUnresolved as exc:
        if not exc.extra.get("flaggedNow"):
            raise
        return error_response(request, exc)  # answered, not raised: the new flag is kept
    return _record_response(record)


@router.get("/{record_id}/correction")
def pending_correction(
    record_id: str, session: SessionDep, principal: Staff, request: Request
) -> Response:
    """Return the pending correction request (who, when, why, the corrected bundle) or null.

    Reading it is audited as a view of the record.
    """
    actor = actor_for(principal, _ip(request))
    actions.read(session, record_id, actor, Action.VIEW)
    return FastJSONResponse({"correction": actions.correction_request(session, record_id, actor)})


@router.get("/{record_id}/duplicates")
def record_duplicates(
    record_id: str, session: SessionDep, principal: Staff, request: Request
) -> Response:
    """Return whether a record is flagged as a potential duplicate, and why, field by field."""
    return FastJSONResponse(
        dedup.for_viewer(session, record_id, actor_for(principal, _ip(request))))
