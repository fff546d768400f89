"""FHIR R4 Location: read, vread, history, search, create (conditional), update (If-Match)."""

from __future__ import annotations

import re
from email.utils import format_datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Body, Depends, Header, Request
from starlette.responses import Response

from crvshub import __version__
from crvshub.auth.dependencies import require
from crvshub.auth.domain import Principal, Scope
from crvshub.deps import ContextDep, SessionDep
from crvshub.errors import InvalidParameter
from crvshub.fhir import bundle
from crvshub.fhir.capability import capability_statement
from crvshub.fhir.responses import FHIR_JSON, FHIRResponse
from crvshub.location import fhir_mapping, queries, service
from crvshub.location.cache import LocationCache
from crvshub.location.domain import LocationView
from crvshub.location.errors import IdMismatch, InvalidLocationPayload

router = APIRouter(prefix="/fhir", tags=["FHIR"])

AdminDep = Annotated[Principal, Depends(require(Scope.NATLSYSADMIN))]
JSONBody = Annotated[Any, Body()]
_ETAG = re.compile(r'^(?:W/)?"?(\d+)"?$')
MAX_HISTORY = 1000
HISTORY_PAGE = 100


def location_cache(ctx: ContextDep) -> LocationCache:
    """Return the process's location cache."""
    return ctx.location_cache


def origin(request: Request, ctx: ContextDep) -> str:
    """Return the public origin used in links."""
    return (ctx.settings.public_url or str(request.base_url)).rstrip("/")


CacheDep = Annotated[LocationCache, Depends(location_cache)]
OriginDep = Annotated[str, Depends(origin)]


def _version_headers(view: LocationView) -> dict[str, str]:
    return {
        "ETag": f'W/"{view.version}"',
        "Last-Modified": format_datetime(view.updated_at, usegmt=True),
    }


def _if_match(value: str | None) -> int | None:
    if value is None:
        return None
    match = _ETAG.match(value.strip())
    if match is None:
        raise InvalidParameter('If-Match must be a version tag like W/"3"', expression="If-Match")
    return int(match.group(1))


@router.get("/metadata", summary="CapabilityStatement")
def metadata(base: OriginDep, ctx: ContextDep) -> FHIRResponse:
    """Return the CapabilityStatement listing exactly what this server supports."""
    return FHIRResponse(capability_statement(base, __version__, ctx.wiring.capabilities,
                                             ctx.wiring.operations))


@router.get("/Location", summary="Search FHIR Locations")
def search(
    request: Request,
    cache: CacheDep,
    base: OriginDep,
    prefer: Annotated[str | None, Header()] = None,
) -> Response:
    """Search Locations by name, identifier, type, partof(:below), status, _lastUpdated..."""
    params = list(request.query_params.multi_items())
    lenient = "handling=lenient" in (prefer or "").replace(" ", "")
    body = queries.search_body(cache, "fhir", params, base, "/fhir/Location", lenient=lenient)
    return Response(body, media_type=FHIR_JSON)


@router.get("/Location/{location_id}", summary="Read a FHIR Location")
def read(
    location_id: str,
    cache: CacheDep,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Return the current version of a Location, with its ETag."""
    snapshot, view = queries.find(cache, location_id)
    headers = _version_headers(view)
    if if_none_match and if_none_match.strip() == headers["ETag"]:
        return Response(status_code=304, headers=headers)
    return FHIRResponse(snapshot.resources[view.id], headers=headers)


@router.get("/Location/{location_id}/_history", summary="Every version of a Location")
def history(
    location_id: str,
    request: Request,
    session: SessionDep,
    base: OriginDep,
) -> FHIRResponse:
    """Return the versions of a Location, newest first, a page of `_count` at a time."""
    params = list(request.query_params.multi_items())
    given = dict(params)
    count_text = given.get("_count", str(HISTORY_PAGE))
    if not count_text.isdigit() or int(count_text) == 0:
        raise InvalidParameter("_count must be a whole number above 0", expression="_count")
    page_text = given.get("_page")
    if page_text is not None and not page_text.isdigit():
        raise InvalidParameter("_page must be a link from the previous page", expression="_page")
    views, total, following = service.history(
        session, location_id, min(int(count_text), MAX_HISTORY),
        before=int(page_text) if page_text is not None else None,
    )
    resources = queries.render(views, service.lookup(session))
    entries = [
        (
            f"{base}/fhir/Location/{v.id}/_history/{v.version}",
            r,
            "POST" if v.version == 1 else "PUT",
        )
        for v, r in zip(views, resources, strict=True)
    ]
    links = bundle.search_links(f"{base}/fhir/Location/{location_id}/_history", params,
                                str(following) if following is not None else None)
    return FHIRResponse(bundle.history(entries, total, links))


@router.get("/Location/{location_id}/_history/{version_id}", summary="Read one version")
def vread(
    location_id: str,
    version_id: int,
    session: SessionDep,
) -> FHIRResponse:
    """Return one version of a Location."""
    view = service.read_version(session, location_id, version_id)
    resource = queries.render([view], service.lookup(session))[0]
    return FHIRResponse(resource, headers=_version_headers(view))


@router.post("/Location", status_code=201, summary="Create a FHIR Location")
def create(
    payload: JSONBody,
    _admin: AdminDep,
    session: SessionDep,
    ctx: ContextDep,
    base: OriginDep,
    if_none_exist: Annotated[str | None, Header()] = None,
) -> FHIRResponse:
    """Create a Location; with If-None-Exist: identifier=..., return the match instead."""
    item = fhir_mapping.from_resource(payload)
    condition = _condition(if_none_exist)
    view, created = service.create_if_absent(session, ctx.settings.country_code, item, condition)
    resource = queries.render([view], service.lookup(session))[0]
    headers = _version_headers(view)
    headers["Location"] = f"{base}/fhir/Location/{view.id}/_history/{view.version}"
    return FHIRResponse(resource, status_code=201 if created else 200, headers=headers)


def _condition(header: str | None) -> tuple[str | None, str] | None:
    if header is None:
        return None
    pairs = parse_qsl(header.split("?", 1)[-1], keep_blank_values=True)
    if len(pairs) != 1 or pairs[0][0] != "identifier" or not pairs[0][1]:
        raise InvalidParameter(
            "If-None-Exist supports exactly one parameter: identifier=<system>|<value>",
            expression="If-None-Exist",
        )
    system, _, value = pairs[0][1].rpartition("|")
    return (system if "|" in pairs[0][1] else None), value


@router.put("/Location/{location_id}", summary="Update a FHIR Location")
def update(
    location_id: str,
    payload: JSONBody,
    _admin: AdminDep,
    session: SessionDep,
    if_match: Annotated[str | None, Header()] = None,
) -> FHIRResponse:
    """Replace a Location; with If-Match, 412 when the version is no longer current."""
    item = fhir_mapping.from_resource(payload)
    if isinstance(payload, dict) and payload.get("id") not in (None, location_id):
        raise IdMismatch(
            f"body id {payload.get('id')!r} is not {location_id!r}", expression="Location.id"
        )
    if not isinstance(payload, dict):
        raise InvalidLocationPayload("the body must be a FHIR Location resource")
    view = service.replace_location(session, location_id, item, _if_match(if_match))
    resource = queries.render([view], service.lookup(session))[0]
    return FHIRResponse(resource, headers=_version_headers(view))
