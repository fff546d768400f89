"""FHIR read use cases over records: read, vread, history, search, $document; all audited.

Every answer goes through the caller's `ReadPolicy` (`access.policy`): a record the caller may
not read is answered as if it did not exist (404), so nobody learns of other people's records.
Each request writes one `read-fhir` audit entry per record it gave anything of.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from crvshub.auth import service as auth_service
from crvshub.auth.domain import ClientType, CompatMode, Principal
from crvshub.errors import InvalidParameter, UnknownParameter
from crvshub.fhir import search as fhir_search
from crvshub.fhir.ids import ID_NAMESPACE
from crvshub.fhir_records import access, domain
from crvshub.fhir_records.domain import Served
from crvshub.fhir_records.errors import ResourceGone, ResourceNotFound, VersionNotFound
from crvshub.record import service as records
from crvshub.record.domain import ReadScope, RecordFilter
from crvshub.record.service import Actor, Record

DEFAULT_COUNT = 50
MAX_COUNT = 500
MAX_HISTORY = 100
BATCH_ROUNDS = 20
LAST = "\uffff"  # sorts after every resource id: "past this whole record" in a page token


@dataclass(frozen=True)
class Reader:
    """The caller of one request: what it may read and how it is audited."""

    policy: access.ReadPolicy
    actor: Actor
    # An `opencrvs-strict` client gets the resources as OpenCRVS stored them (STU3 names such
    # as Composition.class kept), not made valid R4 (docs/integrations/compatibility.md).
    stored_shapes: bool = False


def reader(session: Session, principal: Principal, ip: str | None) -> Reader:
    """Return the caller's read policy (ReadNotAllowed when it may read nothing)."""
    client = None
    if principal.kind == "client" and principal.client_type in (ClientType.NATIONAL_ID,
                                                                 ClientType.WEBHOOK):
        client = auth_service.client_summary(session, principal.subject)
    strict = principal.kind == "client" and principal.compat == CompatMode.OPENCRVS_STRICT
    return Reader(access.policy(principal, client), records.actor_for(principal, ip), strict)


def _facts(record: Record) -> access.RecordFacts:
    return access.RecordFacts(record.id, record.status, record.office_id,
                              record.source_client_id)


def _may_read(session: Session, scope: ReadScope, record: Record) -> bool:
    retrieved = (scope.retrieved_by is not None
                 and records.was_retrieved_by(session, record.id, scope.retrieved_by))
    return access.permits(scope, _facts(record), retrieved)


def visible(reader_: Reader, record: Record, bundle: dict[str, Any], version: int,
            updated_at: datetime, kinds: Collection[str] | None = None) -> list[Served]:
    """Return the resources of one version of a record that the reader may see.

    `kinds`: only these types are wanted (others may be left out). A reader limited to some
    sections needs every resource built to tell which it may see.
    """
    sections = reader_.policy.sections(record.event)
    served = domain.served_resources(record.id, record.event, bundle, version=version,
                                     updated_at=updated_at, r4=not reader_.stored_shapes,
                                     kinds=kinds if sections is None else None)
    seen = domain.visible_ids(served, sections)
    out = []
    for item in served:
        if seen is not None and item.id not in seen:
            continue
        if item.type == "Composition":
            out.append(Served(item.type, item.id,
                              domain.limit_sections(item.resource, sections)))
        elif item.type in domain.TYPES:
            out.append(item)
    return out


def current(reader_: Reader, record: Record, kinds: Collection[str] | None = None
            ) -> list[Served]:
    """Return the visible resources of a record's current version (see `visible`)."""
    return visible(reader_, record, record.bundle, record.version, record.updated_at, kinds)


def _audit(session: Session, reader_: Reader, rows: list[Record], interaction: str,
           kind: str) -> None:
    # A read's transaction writes nothing but these entries: its commit need not wait for
    # the disk (docs/architecture.md, "Audit of reads").
    records.audit_reads(session, rows, reader_.actor, access.READ_AUDIT,
                        {"fhir": f"{kind} {interaction}", "reader": reader_.policy.who},
                        wait_for_disk=False)


def _locate(session: Session, reader_: Reader, kind: str, resource_id: str) -> tuple[Record, bool]:
    """Return the record holding a resource and whether the resource was removed from it."""
    holder = records.holder_of_resource(session, resource_id)
    record = records.find(session, holder[0]) if holder else None
    removed = bool(holder and holder[1])
    if record is None and kind == "Composition":
        record = records.find(session, resource_id)  # the Composition id is the record id
    if record is None or not _may_read(session, reader_.policy.scope, record):
        raise ResourceNotFound(f"No {kind} with id {resource_id!r}")
    return record, removed


def _pick(items: list[Served], kind: str, resource_id: str) -> Served | None:
    return next((s for s in items if s.type == kind and s.id == resource_id), None)


def read(session: Session, reader_: Reader, kind: str, resource_id: str) -> tuple[Served, Record]:
    """Return the current version of a resource (404 unknown or not readable, 410 removed)."""
    record, removed = _locate(session, reader_, kind, resource_id)
    found = _pick(current(reader_, record, (kind,)), kind, resource_id)
    if found is None:
        if removed:
            raise ResourceGone(f"{kind}/{resource_id} was removed from its record by a change "
                               f"(version {record.version} does not hold it)")
        raise ResourceNotFound(f"No {kind} with id {resource_id!r}")
    _audit(session, reader_, [record], "read", kind)
    return found, record


def vread(session: Session, reader_: Reader, kind: str, resource_id: str,
          version: int) -> Served:
    """Return one version of a resource."""
    record, _ = _locate(session, reader_, kind, resource_id)
    found = None
    if version == record.version:
        found = _pick(current(reader_, record, (kind,)), kind, resource_id)
    else:
        former = records.former_version(session, record.id, version)
        if former is not None:
            found = _pick(visible(reader_, record, former.bundle, former.version,
                                  former.updated_at, (kind,)), kind, resource_id)
    if found is None:
        raise VersionNotFound(f"{kind}/{resource_id} has no version {version}; see "
                              f"{kind}/{resource_id}/_history")
    _audit(session, reader_, [record], "vread", kind)
    return found


@dataclass
class HistoryPage:
    """Versions of one resource, newest first, and the version to continue below."""

    items: list[Served]
    following: int | None
    total: int


def history(session: Session, reader_: Reader, kind: str, resource_id: str, count: int,
            below: int | None) -> HistoryPage:
    """Return the versions of a resource (each record version that held it), newest first."""
    record, _ = _locate(session, reader_, kind, resource_id)
    items: list[Served] = []
    if below is None or record.version < below:
        now = _pick(current(reader_, record, (kind,)), kind, resource_id)
        if now is not None:
            items.append(now)
    start = below if below is not None and below <= record.version else record.version
    for former in records.former_versions(session, record.id, start, count + 1 - len(items)):
        found = _pick(visible(reader_, record, former.bundle, former.version,
                              former.updated_at, (kind,)), kind, resource_id)
        if found is not None:
            items.append(found)
    if not items and below is None:
        raise ResourceNotFound(f"No {kind} with id {resource_id!r}")
    more = len(items) > count
    items = items[:count]
    following = int(items[-1].resource["meta"]["versionId"]) if more and items else None
    _audit(session, reader_, [record], "history", kind)
    return HistoryPage(items, following, record.version)


def document(session: Session, reader_: Reader, composition_id: str,
             base: str) -> tuple[dict[str, Any], Record]:
    """Return the whole record the reader may see as a FHIR document Bundle."""
    record, _ = _locate(session, reader_, "Composition", composition_id)
    items = current(reader_, record)
    if _pick(items, "Composition", composition_id) is None:
        raise ResourceNotFound(f"No Composition with id {composition_id!r}")
    items.sort(key=lambda s: s.type != "Composition")
    stamp = domain.instant(record.updated_at)
    _audit(session, reader_, [record], "$document", "Composition")
    bundle = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid5(ID_NAMESPACE, f"{record.id}|document|{record.version}")),
        "meta": {"versionId": str(record.version), "lastUpdated": stamp},
        "identifier": {"system": "urn:ietf:rfc:3986",
                       "value": f"urn:uuid:{uuid.uuid5(ID_NAMESPACE, record.id)}"},
        "type": "document",
        "timestamp": stamp,
        "entry": [{"fullUrl": f"{base}/fhir/{s.type}/{s.id}", "resource": s.resource}
                  for s in items],
    }
    return bundle, record


# Search ---------------------------------------------------------------------------------

COMMON = ("_id", "identifier", "_lastUpdated", "_count", "_page", "_include", "_revinclude",
          "_format")
PARAMETERS: dict[str, tuple[str, ...]] = {
    "Composition": ("status", "patient", "subject"),
    "Task": ("status", "business-status", "focus", "patient"),
    "Patient": (),
    "RelatedPerson": ("patient",),
    "Encounter": ("status", "patient"),
    "Observation": ("status", "patient", "subject", "encounter"),
    "Practitioner": (),
}
REFERENCE_TARGETS = {"patient": "Patient", "subject": "Patient", "focus": "Composition",
                     "encounter": "Encounter"}
INCLUDES: dict[str, tuple[str, ...]] = {
    "Task": ("Task:focus",),
    "Composition": ("Composition:subject", "Composition:patient"),
}
REVINCLUDES: dict[str, tuple[str, ...]] = {
    "Composition": ("Task:focus",),
    "Patient": ("Composition:subject", "Composition:patient"),
}


@dataclass
class Criteria:
    """A parsed FHIR search over one resource type."""

    kind: str
    ids: list[set[str]] = field(default_factory=list)  # every set must contain the id
    identifiers: list[list[tuple[str | None, str]]] = field(default_factory=list)
    tokens: list[tuple[str, list[tuple[str | None, str]]]] = field(default_factory=list)
    refs: list[tuple[str, set[str]]] = field(default_factory=list)  # parameter, target ids
    updated: list[tuple[str, datetime]] = field(default_factory=list)
    statuses: frozenset[str] | None = None
    include: tuple[str, ...] = ()
    revinclude: tuple[str, ...] = ()
    count: int = DEFAULT_COUNT
    cursor: list[str] | None = None


def parse(kind: str, params: list[tuple[str, str]]) -> Criteria:  # noqa: PLR0912
    """Parse and check the search parameters of one resource type (400 on anything else)."""
    allowed = COMMON + PARAMETERS[kind]
    criteria = Criteria(kind)
    for name, value in params:
        base, modifier = fhir_search.split_modifier(name)
        if base not in allowed or modifier:
            raise UnknownParameter(
                f"{name!r} is not a search parameter of {kind} here; supported: "
                f"{', '.join(allowed)} (see /fhir/metadata)", expression=name)
        values = fhir_search.split_values(value)
        if not values and base not in ("_include", "_revinclude"):
            raise InvalidParameter(f"{name} needs a value", expression=name)
        if base == "_id":
            criteria.ids.append(set(values))
        elif base == "identifier":
            criteria.identifiers.append([fhir_search.parse_token(v) for v in values])
        elif base == "_lastUpdated":
            criteria.updated.extend(fhir_search.date_bounds(value, name))
        elif base in ("status", "business-status"):
            criteria.tokens.append((base, [fhir_search.parse_token(v) for v in values]))
            if kind == "Task" and base == "business-status":
                criteria.statuses = frozenset(code for _, code in map(
                    fhir_search.parse_token, values))
        elif base in REFERENCE_TARGETS:
            target = REFERENCE_TARGETS[base]
            criteria.refs.append((base, {domain.reference_id(v, target) for v in values}))
        elif base == "_count":
            criteria.count = fhir_search.parse_count(value, DEFAULT_COUNT, MAX_COUNT)
        elif base == "_page":
            criteria.cursor = fhir_search.decode_cursor(value)
            if len(criteria.cursor) != 3:
                raise InvalidParameter("_page: follow the Bundle's next link", expression=name)
        elif base == "_include":
            criteria.include += tuple(_checked(value, INCLUDES.get(kind, ()), name))
        elif base == "_revinclude":
            criteria.revinclude += tuple(_checked(value, REVINCLUDES.get(kind, ()), name))
    return criteria


def _checked(value: str, supported: tuple[str, ...], name: str) -> list[str]:
    values = fhir_search.split_values(value)
    for item in values:
        if item not in supported:
            raise InvalidParameter(
                f"{name}={item} is not supported here; supported: "
                f"{', '.join(supported) or 'none'}", expression=name)
    return values


def _matches(item: Served, criteria: Criteria) -> bool:
    if item.type != criteria.kind:
        return False
    if any(item.id not in ids for ids in criteria.ids):
        return False
    for alternatives in criteria.identifiers:
        if not any(domain.has_identifier(item.resource, system, code)
                   for system, code in alternatives):
            return False
    for parameter, alternatives in criteria.tokens:
        have = domain.token_value(item.resource, parameter)
        if not any(code == c and (system is None or system == s)
                   for system, code in alternatives for s, c in have):
            return False
    for parameter, targets in criteria.refs:
        kind = REFERENCE_TARGETS[parameter]
        got = {domain.reference_id(r, kind) for r in domain.references(item.resource, parameter)}
        if not got & targets:
            return False
    return True


def _record_filter(session: Session, criteria: Criteria) -> RecordFilter | None:
    """Return the record-level part of a search; None when no record can match."""
    wanted: set[str] | None = None

    def narrow(found: set[str]) -> None:
        nonlocal wanted
        wanted = found if wanted is None else wanted & found

    for ids in criteria.ids:
        narrow(_holders(session, ids, criteria.kind))
    for _, targets in criteria.refs:
        narrow(_holders(session, targets, None))
    for alternatives in criteria.identifiers:
        narrow(records.ids_with_identifier(session, [code for _, code in alternatives]))
    if wanted is not None and not wanted:
        return None
    return RecordFilter(record_ids=frozenset(wanted) if wanted is not None else None,
                        statuses=criteria.statuses, updated=tuple(criteria.updated))


def _holders(session: Session, resource_ids: set[str], kind: str | None) -> set[str]:
    found = set()
    for rid in resource_ids:
        holder = records.holder_of_resource(session, rid)
        if holder is not None and not holder[1]:
            found.add(holder[0])
        elif kind in (None, "Composition") and records.find(session, rid) is not None:
            found.add(rid)
    return found


@dataclass
class SearchPage:
    """One page of matches, their included resources and the next page's token."""

    matches: list[Served]
    included: list[Served]
    next_token: str | None


def _key(record: Record, item: Served) -> list[str]:
    return [fhir_search.key_timestamp(record.updated_at), record.id, item.id]


def search(session: Session, reader_: Reader, criteria: Criteria) -> SearchPage:
    """Return one page of the resources matching a search, oldest change first."""
    wanted = _record_filter(session, criteria)
    if wanted is None:
        return SearchPage([], [], None)
    cursor = criteria.cursor
    try:
        after = (datetime.fromisoformat(cursor[0] + "+00:00"), cursor[1]) if cursor else None
    except ValueError:
        raise InvalidParameter("_page: follow the Bundle's next link", expression="_page") \
            from None
    batch = max(criteria.count + 1, 20)
    # Without _include/_revinclude only resources of the searched type are looked at.
    kinds = None if criteria.include or criteria.revinclude else (criteria.kind,)
    found: list[tuple[Record, Served]] = []
    given: dict[str, Record] = {}
    included: list[Served] = []
    done: set[str] = set()
    scanned: Record | None = None  # the last record looked at, when more may follow
    for _ in range(BATCH_ROUNDS):
        rows = records.readable_page(session, reader_.policy.scope, wanted, after, batch)
        scanned = rows[-1] if len(rows) == batch else None
        for record in rows:
            if record.id in done:
                continue  # the batch starts at the last record of the previous one
            done.add(record.id)
            items = current(reader_, record, kinds)
            for item in sorted((i for i in items if _matches(i, criteria)), key=lambda i: i.id):
                if cursor is not None and _key(record, item) <= cursor:
                    continue
                found.append((record, item))
                if len(found) <= criteria.count:
                    given[record.id] = record
                    included.extend(_included(items, item, criteria))
            if len(found) > criteria.count:
                break
        if len(found) > criteria.count or len(rows) < batch:
            break
        after = (rows[-1].updated_at, rows[-1].id)
    page = found[:criteria.count]
    more = len(found) > criteria.count and criteria.count > 0
    token = fhir_search.encode_cursor(_key(*page[-1])) if more and page else None
    if not more and scanned is not None and criteria.count > 0:
        # Few matches among many records: stop after BATCH_ROUNDS batches and let the client
        # go on from the last record looked at (a short page with a next link).
        token = fhir_search.encode_cursor(
            [fhir_search.key_timestamp(scanned.updated_at), scanned.id, LAST])
    _audit(session, reader_, list(given.values()), "search", criteria.kind)
    unique = {(i.type, i.id): i for i in included if (i.type, i.id) not in
              {(m.type, m.id) for _, m in page}}
    return SearchPage([item for _, item in page], list(unique.values()), token)


def _included(items: list[Served], match: Served, criteria: Criteria) -> list[Served]:
    out: list[Served] = []
    by_ref = {f"{s.type}/{s.id}": s for s in items}
    for name in criteria.include:
        parameter = name.split(":", 1)[1]
        parameter = "patient" if parameter == "subject" else parameter
        for ref in domain.references(match.resource, parameter):
            if ref in by_ref:
                out.append(by_ref[ref])
    for name in criteria.revinclude:
        source, parameter = name.split(":", 1)
        parameter = "patient" if parameter == "subject" else parameter
        me = f"{match.type}/{match.id}"
        out.extend(s for s in items
                   if s.type == source and me in domain.references(s.resource, parameter))
    return out
