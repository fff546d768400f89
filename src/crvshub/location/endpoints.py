"""OpenCRVS-compatible location routes: `/location` and `/locations` (reads are public)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from starlette.responses import Response

from crvshub.auth.dependencies import require
from crvshub.auth.domain import Principal, Scope
from crvshub.compat import opencrvs_strict, with_status
from crvshub.deps import ContextDep, SessionDep
from crvshub.errors import AppError
from crvshub.fhir.responses import FHIR_JSON, FHIRResponse
from crvshub.location import payloads, queries, service
from crvshub.location.cache import LocationCache, cache_for
from crvshub.location.fhir_endpoints import router as fhir_router

router = APIRouter(tags=["locations"])
router.include_router(fhir_router)

AdminDep = Annotated[Principal, Depends(require(Scope.NATLSYSADMIN))]
JSONBody = Annotated[Any, Body()]
NOT_FOUND = 404


def location_cache(ctx: ContextDep) -> LocationCache:
    """Return the process's location cache."""
    return cache_for(ctx)


CacheDep = Annotated[LocationCache, Depends(location_cache)]


def origin(request: Request, ctx: ContextDep) -> str:
    """Return the public origin used in links (CRVSHUB_PUBLIC_URL, else the request's)."""
    return (ctx.settings.public_url or str(request.base_url)).rstrip("/")


OriginDep = Annotated[str, Depends(origin)]


@router.get("/location", summary="Search locations (OpenCRVS query parameters)")
@router.get("/locations", summary="Search locations (OpenCRVS query parameters)")
def search_locations(request: Request, cache: CacheDep, base: OriginDep) -> Response:
    """Return a searchset Bundle of the locations matching type, identifier, name, status..."""
    params = list(request.query_params.multi_items())
    body = queries.search_body(cache, "opencrvs", params, base, request.url.path)
    return Response(body, media_type=FHIR_JSON)


@router.get("/location/{location_id}", summary="Read one location")
@router.get("/locations/{location_id}", summary="Read one location")
def read_location(location_id: str, cache: CacheDep) -> FHIRResponse:
    """Return the Location resource with this id."""
    return FHIRResponse(queries.resource(cache, location_id))


@router.get("/location/{location_id}/hierarchy", summary="A location and its ancestors")
@router.get("/locations/{location_id}/hierarchy", summary="A location and its ancestors")
def location_hierarchy(location_id: str, cache: CacheDep) -> FHIRResponse:
    """Return the location's ancestors from the top of the tree, then the location itself."""
    return FHIRResponse(queries.hierarchy(cache, location_id))


@router.get("/location/{location_id}/children", summary="Every location below a location")
@router.get("/locations/{location_id}/children", summary="Every location below a location")
def location_children(location_id: str, cache: CacheDep) -> FHIRResponse:
    """Return every location below this one, at every level."""
    return FHIRResponse(queries.children(cache, location_id))


@router.post("/location", status_code=201, summary="Create one location or an array of them")
@router.post("/locations", status_code=201, summary="Create one location or an array of them")
def create_locations(
    payload: JSONBody,
    admin: AdminDep,
    session: SessionDep,
    ctx: ContextDep,
    base: OriginDep,
) -> FHIRResponse:
    """Create locations (national system admin); return them with their new ids."""
    inputs = payloads.parse_create(payload)
    views = service.create_locations(
        session, ctx.settings.country_code, inputs, batch=isinstance(payload, list)
    )
    resources = queries.render(views, service.lookup(session))
    # OpenCRVS answers a create with 200 (Hapi's default); CRVS Hub with 201 unless asked.
    status = 200 if opencrvs_strict(admin, ctx.settings) else 201
    if not isinstance(payload, list):
        return FHIRResponse(
            resources[0],
            status_code=status,
            headers={"Location": f"{base}/location/{views[0].id}", "ETag": 'W/"1"'},
        )
    return FHIRResponse(
        {
            "resourceType": "Bundle",
            "type": "transaction-response",
            "entry": [
                {
                    "response": {
                        "status": "201 Created",
                        "location": f"Location/{r['id']}/_history/1",
                    },
                    "resource": r,
                }
                for r in resources
            ],
        },
        status_code=status,
    )


@router.put(
    "/location/{location_id}", summary="Update a location's name, alias, status, statistics"
)
@router.put(
    "/locations/{location_id}", summary="Update a location's name, alias, status, statistics"
)
def update_location(
    location_id: str,
    payload: JSONBody,
    admin: AdminDep,
    session: SessionDep,
    ctx: ContextDep,
) -> FHIRResponse:
    """Update a location (national system admin); statistics are merged by year."""
    changes = payloads.parse_update(payload)
    try:
        view = service.update_location(session, location_id, changes)
    except AppError as exc:
        # OpenCRVS answers an unknown id with 400 ("<id> is not a valid location").
        if exc.status == NOT_FOUND and opencrvs_strict(admin, ctx.settings):
            raise with_status(exc, 400) from None
        raise
    resource = queries.render([view], service.lookup(session))[0]
    return FHIRResponse(resource, headers={"ETag": f'W/"{view.version}"'})
