"""Location searches over the cached tree: FHIR parameters and the OpenCRVS `/location` query."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from crvshub.errors import InvalidParameter, UnknownParameter
from crvshub.fhir import search as fhir_search
from crvshub.fhir.search import SortSpec
from crvshub.location.cache import Snapshot
from crvshub.location.domain import (
    LOCATION_TYPE_SYSTEM,
    LocationType,
    LocationView,
    parse_reference,
)
from crvshub.text import normalize

Predicate = Callable[[Snapshot, LocationView], bool]
SORT_FIELDS = ("name", "_id", "_lastUpdated", "status", "type")
DEFAULT_FHIR_COUNT = 50
DEFAULT_OPENCRVS_COUNT = 10
MAX_COUNT = 1000
# Accepted and ignored: the total is always exact and the format always JSON.
IGNORED = ("_format", "_pretty", "_total", "_totalMethod")
OPENCRVS_IDENTIFIER = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass
class LocationQuery:
    """A parsed search: every predicate must hold; results sorted and paged."""

    predicates: list[Predicate] = field(default_factory=list)
    sort: SortSpec = field(default_factory=list)
    count: int | None = DEFAULT_FHIR_COUNT
    cursor: list[str] | None = None


SORT_VALUES: dict[str, Callable[[LocationView], str]] = {
    "name": lambda v: v.name_norm,
    "_id": lambda v: v.id,
    "_lastUpdated": lambda v: fhir_search.key_timestamp(v.updated_at),
    "status": lambda v: v.status,
    "type": lambda v: v.type,
}


def sort_key(view: LocationView, spec: SortSpec) -> list[str]:
    """Return the values a location is sorted by, then its id."""
    return [SORT_VALUES[name](view) for name, _ in spec] + [view.id]


def run(snapshot: Snapshot, query: LocationQuery) -> tuple[list[LocationView], int, str | None]:
    """Return one page of matches, the total number of matches and the next page token."""
    found = [view for view in snapshot.ordered if all(p(snapshot, view) for p in query.predicates)]
    spec = query.sort or [("name", False)]
    ordered = fhir_search.sort_items(found, lambda v: sort_key(v, spec), spec)
    chunk, token = fhir_search.page(
        ordered, lambda v: sort_key(v, spec), spec, query.cursor, query.count
    )
    return chunk, len(found), token


def _any(tests: list[Predicate]) -> Predicate:
    return lambda snap, view: any(test(snap, view) for test in tests)


def _name(value: str, exact: bool) -> Predicate:
    if exact:
        return lambda _s, v: value == v.name or value in v.alias
    key = normalize(value)
    return lambda s, v: any(k.startswith(key) for k in s.name_keys[v.id])


def _identifier(value: str) -> Predicate:
    system, code = fhir_search.parse_token(value)
    if system is None:
        return lambda s, v: any(c == code for _, c in s.identifiers[v.id])
    if code == "":
        return lambda s, v: any(sy == system for sy, _ in s.identifiers[v.id])
    return lambda s, v: (system, code) in s.identifiers[v.id]


def _type(value: str) -> Predicate:
    system, code = fhir_search.parse_token(value)
    if system not in (None, LOCATION_TYPE_SYSTEM):
        return lambda _s, _v: False
    return lambda _s, v: v.type == code


def _part_of(value: str, below: bool) -> Predicate:
    target = parse_reference(value)
    if below:
        marker = f"/{target}/"
        return lambda _s, v: marker in v.path and v.id != target
    return lambda _s, v: (v.part_of_id or "0") == target


def _status(value: str) -> Predicate:
    return lambda _s, v: v.status == fhir_search.parse_token(value)[1]


def _country(value: str) -> Predicate:
    return lambda _s, v: v.country.lower().startswith(value.lower())


def _last_updated(value: str) -> Predicate:
    test = fhir_search.date_predicate(value, "_lastUpdated")
    return lambda _s, v: test(v.updated_at)


def _ids(value: str) -> Predicate:
    return lambda _s, v: v.id == value


FHIR_PARAMS: dict[tuple[str, str | None], Callable[[str], Predicate]] = {
    ("name", None): lambda v: _name(v, exact=False),
    ("name", "exact"): lambda v: _name(v, exact=True),
    ("identifier", None): _identifier,
    ("type", None): _type,
    ("partof", None): lambda v: _part_of(v, below=False),
    ("partof", "below"): lambda v: _part_of(v, below=True),
    ("status", None): _status,
    ("address-country", None): _country,
    ("_lastUpdated", None): _last_updated,
    ("_id", None): _ids,
}


def _control(query: LocationQuery, name: str, value: str, default_count: int) -> bool:
    if name == "_count":
        query.count = fhir_search.parse_count(value, default_count, MAX_COUNT)
    elif name == "_sort":
        query.sort = fhir_search.parse_sort(value, SORT_FIELDS)
    elif name == "_page":
        query.cursor = fhir_search.decode_cursor(value)
    else:
        return name in IGNORED
    return True


def parse_fhir(items: list[tuple[str, str]], *, lenient: bool = False) -> LocationQuery:
    """Parse FHIR Location search parameters (repeats are ANDed, commas are ORed).

    Unknown parameters are a 400, unless the client asked for `Prefer: handling=lenient`.
    """
    query = LocationQuery(count=DEFAULT_FHIR_COUNT)
    for raw_name, value in items:
        if _control(query, raw_name, value, DEFAULT_FHIR_COUNT):
            continue
        builder = FHIR_PARAMS.get(fhir_search.split_modifier(raw_name))
        if builder is None and lenient:
            continue
        if builder is None:
            supported = sorted({f"{n}:{m}" if m else n for n, m in FHIR_PARAMS})
            raise UnknownParameter(
                f"{raw_name} is not a supported Location search parameter; supported: "
                f"{', '.join(supported)}, _count, _sort, _page",
                expression=raw_name,
            )
        values = fhir_search.split_values(value)
        if not values:
            raise InvalidParameter(f"{raw_name} needs a value", expression=raw_name)
        query.predicates.append(_any([builder(v) for v in values]))
    return query


def _opencrvs_value(name: str, value: str) -> Predicate:
    if name == "type":
        if value not in tuple(LocationType):
            raise InvalidParameter(
                "type must be ADMIN_STRUCTURE, CRVS_OFFICE or HEALTH_FACILITY", expression="type"
            )
        return _type(value)
    if name == "status":
        if value not in ("active", "inactive"):
            raise InvalidParameter("status must be active or inactive", expression="status")
        return _status(value)
    if name == "identifier":
        if not OPENCRVS_IDENTIFIER.match(fhir_search.parse_token(value)[1]):
            raise InvalidParameter(
                "identifier must look like CRVS_OFFICE_<statisticalID>", expression="identifier"
            )
        return _identifier(value)
    if name == "name":
        return _name(value, exact=False)
    if name == "partOf":
        return _part_of(value, below=False)
    return _ids(value)


def parse_opencrvs(items: list[tuple[str, str]]) -> LocationQuery:
    """Parse the OpenCRVS `/location` query (`_count=0` means every match)."""
    query = LocationQuery(count=DEFAULT_OPENCRVS_COUNT, sort=[("name", False)])
    allowed = ("type", "identifier", "name", "status", "partOf", "_id")
    for name, value in items:
        if name == "_count":
            count = fhir_search.parse_count(value, DEFAULT_OPENCRVS_COUNT, 10**9)
            query.count = None if count == 0 else min(count, MAX_COUNT)
        elif name == "_page":
            query.cursor = fhir_search.decode_cursor(value)
        elif name in allowed:
            values = fhir_search.split_values(value)
            if not values:
                raise InvalidParameter(f"{name} needs a value", expression=name)
            query.predicates.append(_any([_opencrvs_value(name, v) for v in values]))
        else:
            raise UnknownParameter(
                f"{name} is not a supported parameter; use {', '.join(allowed)}, _count",
                expression=name,
            )
    return query
