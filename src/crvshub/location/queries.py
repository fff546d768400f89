"""Location reads, served from the in-process cache: both the OpenCRVS and the FHIR face."""

from __future__ import annotations

from typing import Any

import orjson

from crvshub.fhir import bundle
from crvshub.location import search
from crvshub.location.cache import LocationCache, Snapshot
from crvshub.location.domain import LocationView
from crvshub.location.errors import LocationNotFound
from crvshub.location.fhir_mapping import Lookup, to_resource


def find(cache: LocationCache, location_id: str) -> tuple[Snapshot, LocationView]:
    """Return a location from the cache, re-checking once for one written elsewhere just now."""
    snapshot = cache.snapshot()
    view = snapshot.get(location_id)
    if view is None:
        cache.invalidate()
        snapshot = cache.snapshot()
        view = snapshot.get(location_id)
    if view is None:
        raise LocationNotFound(f"{location_id} is not a valid location")
    return snapshot, view


def resource(cache: LocationCache, location_id: str) -> dict[str, Any]:
    """Return the Location resource with this id."""
    snapshot, view = find(cache, location_id)
    return snapshot.resources[view.id]


def render(views: list[LocationView], lookup: Lookup) -> list[dict[str, Any]]:
    """Render locations read or written in a transaction (their parents looked up there)."""
    return [to_resource(view, lookup) for view in views]


def opencrvs_search(
    snapshot: Snapshot, params: list[tuple[str, str]], origin: str, path: str
) -> dict[str, Any]:
    """Run an OpenCRVS `/location` query and return the searchset Bundle."""
    views, total, token = search.run(snapshot, search.parse_opencrvs(params))
    entries = [(f"{origin}/location/{v.id}", snapshot.resources[v.id]) for v in views]
    links = bundle.search_links(f"{origin}{path}", params, token)
    return bundle.searchset(entries, total, links, search_mode=False)


def fhir_search(
    snapshot: Snapshot, params: list[tuple[str, str]], origin: str, *, lenient: bool = False
) -> dict[str, Any]:
    """Run a FHIR Location search and return the searchset Bundle."""
    views, total, token = search.run(snapshot, search.parse_fhir(params, lenient=lenient))
    entries = [(f"{origin}/fhir/Location/{v.id}", snapshot.resources[v.id]) for v in views]
    links = bundle.search_links(f"{origin}/fhir/Location", params, token)
    return bundle.searchset(entries, total, links)


def hierarchy(cache: LocationCache, location_id: str) -> list[dict[str, Any]]:
    """Return the location and its ancestors as resources, from the top of the tree down."""
    snapshot, view = find(cache, location_id)
    return [snapshot.resources[v.id] for v in [*snapshot.ancestors(view.id), view]]


def children(cache: LocationCache, location_id: str) -> list[dict[str, Any]]:
    """Return every location below this one, at every level."""
    snapshot, view = find(cache, location_id)
    return [snapshot.resources[v.id] for v in snapshot.descendants(view.id)]


def search_body(
    cache: LocationCache,
    face: str,
    params: list[tuple[str, str]],
    origin: str,
    path: str,
    *,
    lenient: bool = False,
) -> bytes:
    """Return the serialised searchset of a query, built once per cache version."""

    def build(snapshot: Snapshot) -> bytes:
        if face == "fhir":
            return orjson.dumps(fhir_search(snapshot, params, origin, lenient=lenient))
        return orjson.dumps(opencrvs_search(snapshot, params, origin, path))

    key = (face, origin, path, str(lenient), *(f"{k}={v}" for k, v in params))
    return cache.rendered(key, build)
