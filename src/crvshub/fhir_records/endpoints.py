"""FHIR R4 reads of registration records: read, vread, _history, search, Composition/$document."""

from __future__ import annotations

from collections.abc import Callable
from email.utils import format_datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Header, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from crvshub.auth.dependencies import require
from crvshub.auth.domain import Principal
from crvshub.db import new_id, utcnow
from crvshub.deps import ContextDep, Transaction, TransactionDep
from crvshub.errors import InvalidParameter
from crvshub.fhir import bundle
from crvshub.fhir.responses import FHIRResponse
from crvshub.fhir_records import domain, service
from crvshub.net import client_address
from crvshub.record.service import Record

router = APIRouter(prefix="/fhir", tags=["FHIR records"])
CallerDep = Annotated[Principal, Depends(require())]


async def origin(request: Request, ctx: ContextDep) -> str:
    """Return the public origin used in links."""
    return (ctx.settings.public_url or str(request.base_url)).rstrip("/")


OriginDep = Annotated[str, Depends(origin)]


def _headers(resource: dict[str, Any], record: Record | None = None) -> dict[str, str]:
    meta = resource.get("meta", {})
    headers = {"ETag": f'W/"{meta.get("versionId")}"'}
    if record is not None:
        headers["Last-Modified"] = format_datetime(record.updated_at, usegmt=True)
    return headers


T = TypeVar("T")


async def _as_reader(tx: Transaction, request: Request, caller: Principal,
                     work: Callable[[Session, service.Reader], T]) -> T:
    """Run a read use case as the caller, and its audit's commit, in one thread-pool trip."""
    ip = client_address(request)
    return await tx.run(lambda session: work(session, service.reader(session, caller, ip)))


def _make_routes(kind: str) -> None:
    async def search(request: Request, tx: TransactionDep, caller: CallerDep,
                     base: OriginDep) -> FHIRResponse:
        params = list(request.query_params.multi_items())
        found = await _as_reader(  # parameters are checked once the caller may read
            tx, request, caller,
            lambda session, who: service.search(session, who, service.parse(kind, params)))
        url = f"{base}/fhir/{kind}"
        entries = [{"fullUrl": f"{base}/fhir/{s.type}/{s.id}", "resource": s.resource,
                    "search": {"mode": "match"}} for s in found.matches]
        entries += [{"fullUrl": f"{base}/fhir/{s.type}/{s.id}", "resource": s.resource,
                     "search": {"mode": "include"}} for s in found.included]
        return FHIRResponse({
            "resourceType": "Bundle", "id": new_id(),
            "meta": {"lastUpdated": domain.instant(utcnow())}, "type": "searchset",
            "link": bundle.search_links(url, params, found.next_token), "entry": entries})

    async def read(resource_id: str, request: Request, tx: TransactionDep, caller: CallerDep,
                   if_none_match: Annotated[str | None, Header()] = None) -> Response:
        item, record = await _as_reader(
            tx, request, caller,
            lambda session, who: service.read(session, who, kind, resource_id))
        headers = _headers(item.resource, record)
        if if_none_match and if_none_match.strip() == headers["ETag"]:
            return Response(status_code=304, headers=headers)
        return FHIRResponse(item.resource, headers=headers)

    async def vread(resource_id: str, version_id: str, request: Request, tx: TransactionDep,
                    caller: CallerDep) -> FHIRResponse:
        def work(session: Session, who: service.Reader) -> domain.Served:
            if not version_id.isdigit():
                raise InvalidParameter("The version id is a whole number", expression="vid")
            return service.vread(session, who, kind, resource_id, int(version_id))

        item = await _as_reader(tx, request, caller, work)
        return FHIRResponse(item.resource, headers=_headers(item.resource))

    async def history(resource_id: str, request: Request, tx: TransactionDep, caller: CallerDep,
                      base: OriginDep) -> FHIRResponse:
        params = list(request.query_params.multi_items())

        def work(session: Session, who: service.Reader) -> service.HistoryPage:
            given = dict(params)
            count = given.get("_count", str(service.MAX_HISTORY))
            if not count.isdigit() or int(count) == 0:
                raise InvalidParameter("_count must be a whole number above 0",
                                       expression="_count")
            below = given.get("_page")
            if below is not None and not below.isdigit():
                raise InvalidParameter("_page must be a link from the previous page",
                                       expression="_page")
            return service.history(session, who, kind, resource_id,
                                   min(int(count), service.MAX_HISTORY),
                                   int(below) if below is not None else None)

        found = await _as_reader(tx, request, caller, work)
        entries = [(f"{base}/fhir/{kind}/{s.id}/_history/{s.resource['meta']['versionId']}",
                    s.resource, "POST" if s.resource["meta"]["versionId"] == "1" else "PUT")
                   for s in found.items]
        links = bundle.search_links(f"{base}/fhir/{kind}/{resource_id}/_history", params,
                                    str(found.following) if found.following else None)
        return FHIRResponse(bundle.history(entries, len(entries), links))

    routes: list[tuple[str, Callable[..., Any], str]] = [
        (f"/{kind}", search, f"Search {kind} resources of registration records"),
        (f"/{kind}/{{resource_id}}", read, f"Read a {kind} of a registration record"),
        (f"/{kind}/{{resource_id}}/_history", history, f"Every version of a {kind}"),
        (f"/{kind}/{{resource_id}}/_history/{{version_id}}", vread, f"Read a {kind} version"),
    ]
    for path, handler, summary in routes:
        router.add_api_route(path, handler, methods=["GET"], summary=summary,
                             name=f"fhir_{kind.lower()}_{handler.__name__}")


@router.get("/Composition/{composition_id}/$document",
            summary="A registration record as a FHIR document Bundle")
async def document(composition_id: str, request: Request, tx: TransactionDep, caller: CallerDep,
                   base: OriginDep) -> FHIRResponse:
    """Return the Composition and every resource of its record the caller may see."""
    body, record = await _as_reader(
        tx, request, caller,
        lambda session, who: service.document(session, who, composition_id, base))
    return FHIRResponse(body, headers={"ETag": f'W/"{record.version}"'})


for _kind in domain.TYPES:
    _make_routes(_kind)
