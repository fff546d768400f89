"""The record workflow core: load with access checks, apply a transition, audit, emit."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from crvshub.auth import service as auth_service
from crvshub.auth.domain import NATIONAL_ROLES, Principal
from crvshub.db import new_id, utcnow
from crvshub.errors import Forbidden, OutOfJurisdiction, VersionConflict
from crvshub.outbox.service import emit
from crvshub.record import domain, fhir_mapping, repository
from crvshub.record import search as record_search
from crvshub.record.domain import Action, Event, IllegalTransition, ReadScope, RecordFilter, Status
from crvshub.record.errors import (
    AssignedToSomeoneElse,
    IllegalTransitionError,
    ReasonRequired,
    RecordNotFound,
)
from crvshub.record.models import Record as Record  # noqa: PLC0414  (the row type handed out)
from crvshub.record.models import RecordAction as RecordAction  # noqa: PLC0414
from crvshub.record.models import RecordVersion as RecordVersion  # noqa: PLC0414
from crvshub.record.search_columns import search_columns
from crvshub.search import service as search

# Changes the record row and its (copied) bundle before the status is written.
BundleChange = Callable[[Record, dict[str, Any]], None]


@dataclass(frozen=True)
class Actor:
    """Who performs an action, as written to the audit trail."""

    type: str
    id: str
    name: str
    role: str | None = None
    office_id: str | None = None
    ip: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    national: bool = False
    scopes: frozenset[str] = frozenset()


def actor_for(principal: Principal, ip: str | None) -> Actor:
    """Return the audit actor of an authenticated caller."""
    if principal.kind == "client":
        return Actor(
            "client",
            principal.subject,
            principal.name,
            principal.client_type,
            None,
            ip,
            {"client_id": principal.client_id, "client_type": principal.client_type},
            scopes=principal.scopes,
        )
    if principal.kind == "record":
        return Actor(
            "system",
            "registration-hook",
            "Registration hook",
            "REGISTRATION_HOOK",
            None,
            ip,
            {"on_behalf_of": principal.subject, "token_id": principal.token_id},
            scopes=principal.scopes,
        )
    return Actor(
        "user",
        principal.subject,
        principal.name,
        principal.role,
        principal.office_id,
        ip,
        national=principal.role in NATIONAL_ROLES,
        scopes=principal.scopes,
    )


@dataclass(frozen=True)
class Change:
    """One requested action with its reason, comment and extra audit data."""

    action: Action
    reason: str | None = None
    comment: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    expected_version: int | None = None


def load(session: Session, record_id: str, *, lock: bool = False) -> Record:
    """Return a record or raise RecordNotFound."""
    record = (
        repository.get_for_update(session, record_id)
        if lock
        else repository.get(session, record_id)
    )
    if record is None:
        raise RecordNotFound(f"No record with id {record_id!r}")
    return record


def find(session: Session, record_id: str) -> Record | None:
    """Return a record by id, or None."""
    return repository.get(session, record_id)


def find_by_tracking_id(session: Session, tracking_id: str) -> Record | None:
    """Return a record by tracking ID, or None."""
    return repository.by_tracking_id(session, tracking_id)


def last_action(session: Session, record_id: str, names: list[str]) -> RecordAction | None:
    """Return the newest audit entry of one of these names (e.g. who registered the record)."""
    return repository.last_action(session, record_id, names)


def former_versions(session: Session, record_id: str, below: int | None,
                    limit: int) -> list[RecordVersion]:
    """Return former versions of a record (bundle as it was), newest first."""
    return repository.former_versions(session, record_id, below, limit)


def former_version(session: Session, record_id: str, version: int) -> RecordVersion | None:
    """Return one former version of a record, or None."""
    return repository.former_version(session, record_id, version)


def was_retrieved_by(session: Session, record_id: str, actor_id: str) -> bool:
    """Tell whether a record search gave this record to this actor."""
    return repository.was_retrieved_by(session, record_id, actor_id)


def readable_page(session: Session, scope: ReadScope, wanted: RecordFilter,
                  after: tuple[datetime, str] | None, limit: int) -> list[Record]:
    """Return records a reader may see that meet a filter, ordered by (updated_at, id)."""
    return repository.readable_page(session, scope, wanted, after, limit)


def ids_with_identifier(session: Session, values: Sequence[str]) -> set[str]:
    """Return ids of records with one of these values as tracking ID, registration number or
    any identifier of a person or resource in their bundle."""
    holders = [search.identifier_holders_any(value) for value in values]
    return repository.ids_with_identifier(session, values, holders)


def holder_of_resource(session: Session, resource_id: str) -> tuple[str, bool] | None:
    """Return (record id, removed) of the record holding (or that held) a FHIR resource."""
    return search.resource_holder(session, resource_id)


def audit_reads(session: Session, records: Sequence[Record], actor: Actor, name: str,
                data: dict[str, Any], *, wait_for_disk: bool = True) -> None:
    """Audit that an actor was given these records (status and version kept).

    `wait_for_disk=False`: the caller's transaction writes nothing but these entries, and its
    commit may return before they reach the disk (PostgreSQL; a crash of the database server
    can lose the last fraction of a second of them, never a part of a transaction).
    """
    if not records:
        return
    if not wait_for_disk:
        repository.commit_without_waiting_for_disk(session)
    at = utcnow()
    repository.add_actions_now(session, [{
        "id": new_id(), "record_id": r.id, "action": name, "at": at,
        "actor_type": actor.type, "actor_id": actor.id, "actor_name": actor.name,
        "actor_role": actor.role, "office_id": actor.office_id, "ip": actor.ip,
        "reason": None, "comment": None, "status_before": r.status, "status_after": r.status,
        "version_before": r.version, "version_after": r.version,
        "data": {**actor.data, **data}} for r in records])


def count(session: Session) -> int:
    """Return the number of records."""
    return repository.count(session)


def detach_client(session: Session, client_row_id: str) -> int:
    """Forget which client sent its records (the client is being deleted); return how many."""
    return repository.detach_source_client(session, client_row_id)


def check_access(record: Record, actor: Actor) -> None:
    """Raise unless the actor may act on this record (own office, or a national role)."""
    if actor.type == "client":
        raise Forbidden("Staff record actions are for staff users, not integration clients")
    check_office(record.office_id, actor)


def check_office(office_id: str, actor: Actor) -> None:
    """Raise unless a staff actor's jurisdiction covers an office (own office, or national)."""
    if actor.type == "user" and not actor.national and office_id != actor.office_id:
        raise OutOfJurisdiction("This record belongs to another office")


def check_version(record: Record, expected: int | None) -> None:
    """Raise 412 when If-Match named a version that is no longer current."""
    if expected is not None and expected != record.version:
        raise VersionConflict(
            f"The record is at version {record.version}, not {expected}: reload and retry",
            headers={"ETag": etag(record)},
        )


def check_assignment(record: Record, actor: Actor, action: Action) -> None:
    """Raise 409 when another user holds the record (registrars may always unassign)."""
    holder = record.assigned_user_id
    if holder is None or holder == actor.id or actor.type != "user":
        return
    if action in (Action.VIEW, Action.DOWNLOAD):
        return
    if action is Action.UNASSIGN and actor.role in ("LOCAL_REGISTRAR", "NATIONAL_REGISTRAR"):
        return
    raise AssignedToSomeoneElse()


def etag(record: Record) -> str:
    """Return the weak ETag of a record's version."""
    return f'W/"{record.version}"'


def audit(
    session: Session,
    record: Record,
    actor: Actor,
    name: str,
    change: Change,
    before: tuple[str | None, int | None],
) -> RecordAction:
    """Append one action row to the record's audit trail."""
    row = RecordAction(
        record_id=record.id,
        action=name,
        at=utcnow(),
        actor_type=actor.type,
        actor_id=actor.id,
        actor_name=actor.name,
        actor_role=actor.role,
        office_id=actor.office_id,
        ip=actor.ip,
        reason=change.reason,
        comment=change.comment,
        status_before=before[0],
        status_after=record.status,
        version_before=before[1],
        version_after=record.version,
        data={**actor.data, **change.data},
    )
    repository.add(session, row)
    return row


def _previous_status(session: Session, record: Record, action: Action) -> str | None:
    if action not in domain.RETURNING:
        return None
    name = "archived" if action is Action.REINSTATE else "correction-requested"
    found = repository.last_action(session, record.id, [name])
    return found.status_before if found else None


def next_status_or_409(
    session: Session, record: Record, action: Action, *, hook: bool = False
) -> Status:
    """Return the target status of an action or raise the 409 naming status and action."""
    try:
        return domain.next_status(
            record.status, action, hook=hook, previous=_previous_status(session, record, action)
        )
    except IllegalTransition as exc:
        allowed = ", ".join(a.value for a in domain.allowed_actions(exc.status)) or "none"
        raise IllegalTransitionError(
            f"Cannot {action.value} a record in status {exc.status} (allowed: {allowed})",
            extra={"status": exc.status, "action": action.value},
        ) from None


def apply(
    session: Session,
    record: Record,
    actor: Actor,
    change: Change,
    *,
    hook: bool = False,
    edit: BundleChange | None = None,
) -> Record:
    """Apply one action: check it, move the status, update the bundle, audit and emit."""
    if not domain.may_perform(actor.scopes, change.action):
        needed = ", ".join(domain.ACTION_SCOPES[change.action])
        raise Forbidden(f"'{change.action.value}' needs one of the scopes: {needed}")
    if change.action in domain.NEEDS_REASON and not (change.reason or "").strip():
        raise ReasonRequired(f"'{change.action.value}' needs a reason", expression="reason")
    check_version(record, change.expected_version)
    check_assignment(record, actor, change.action)
    new_status = next_status_or_409(session, record, change.action, hook=hook)
    before = (record.status, record.version)
    moves = new_status != record.status or edit is not None
    held = fhir_mapping.resource_ids(record.id, record.bundle) if edit is not None else set()
    if moves:
        repository.add_version(session, record, utcnow())  # FHIR vread of what it was
        _write(record, new_status, change, edit)
    if edit is not None:  # the people may have changed: re-index them with the change
        search.index_record(session, record.id, record.created_at, record.bundle)
        gone = held - fhir_mapping.resource_ids(record.id, record.bundle)
        if gone:
            search.mark_removed(session, record.id, sorted(gone))
    if new_status != before[0]:
        record.assigned_user_id = None
    audit(session, record, actor, domain.audit_name(change.action, new_status), change, before)
    session.flush()
    topic = domain.event_topic(record.event, change.action, new_status)
    if new_status != before[0]:
        emit_status(session, record, topic)
    return record


def _write(record: Record, status: Status, change: Change, edit: BundleChange | None) -> None:
    now = utcnow()
    bundle = copy.deepcopy(record.bundle)
    if edit is not None:
        edit(record, bundle)
    rejected = status == Status.REJECTED
    reason = change.reason if rejected else None
    fhir_mapping.set_status(bundle, status, reason=reason, at=now)
    record.bundle = bundle
    record.status = status
    record.status_reason = reason
    record.version = record.version + 1
    record.updated_at = now
    for key, value in search_columns(bundle, Event(record.event)).items():
        setattr(record, key, value)


def emit_status(session: Session, record: Record, topic: str | None) -> None:
    """Emit a record's status event with the contract's data (after the row is updated)."""
    if topic is None:
        return
    emit(
        session,
        topic,
        record_id=record.id,
        data={
            "event": record.event,
            "tracking_id": record.tracking_id,
            "status": record.status,
            "registration_number": record.registration_number,
        },
    )


def actions_by(session: Session, actor_id: str, limit: int = 100) -> list[dict[str, Any]]:
    """Return what one user or client did to records, newest first (for the user audit)."""
    from crvshub.record.views import VERBS

    rows = list(repository.actions_by_actor(session, actor_id, limit))
    records = repository.by_ids(session, sorted({r.record_id for r in rows}))
    result: list[dict[str, Any]] = []
    for row in rows:
        record = records.get(row.record_id)
        result.append({
            "at": row.at,
            "action": row.action,
            "what": VERBS.get(row.action, row.action.replace("-", " ").capitalize()),
            "record_id": row.record_id,
            "tracking_id": record.tracking_id if record else None,
            "status_after": row.status_after,
            "reason": row.reason,
            "ip": row.ip,
        })
    return result


# --- Record search for integration clients outside GraphQL (DCI registry API) ---------------

CLIENT_SEARCH_STATUSES = frozenset({Status.REGISTERED.value, Status.CERTIFIED.value,
                                    Status.ISSUED.value})
RETRIEVED = "retrieved"


def use_client_quota(session: Session, client_row_id: str, searches: int = 1) -> int | None:
    """Count `searches` searches of a RECORD_SEARCH client today; None when over its quota.

    The same daily counter as GraphQL `searchEvents` (`search_quota_uses`): a batch of
    searches is counted at once, and a batch refused for the quota counts nothing.
    """
    client = auth_service.client_by_id(session, client_row_id)
    quota = client.daily_quota if client else 0
    return repository.use_search_quota(session, client_row_id, utcnow().date(), quota,
                                       searches)


def client_search(session: Session, vocabulary: search.VocabularyCache,
                  query: record_search.RecordQuery, order: record_search.Order, *,
                  count: int, skip: int) -> record_search.Page:
    """Find the registered (certified, issued) records a search client may see."""
    scope = record_search.Scope(statuses=CLIENT_SEARCH_STATUSES)
    return record_search.find(session, vocabulary, query, scope, order, count=count, skip=skip)


def registered_by_numbers(session: Session, numbers: Sequence[str]) -> dict[str, Record]:
    """Return the records a search client may see by registration number, in few statements
    (a batch of identifier searches asks for all of its numbers at once)."""
    return repository.by_registration_numbers(session, numbers, sorted(CLIENT_SEARCH_STATUSES))


def retrieved_rows(principal: Principal, ip: str | None,
                   records: Sequence[Record]) -> list[dict[str, Any]]:
    """Return the `retrieved` audit entries of records given to a caller (status kept)."""
    data = ({"client_id": principal.client_id, "client_type": principal.client_type}
            if principal.kind == "client" else {})
    actor_type = "client" if principal.kind == "client" else str(principal.kind)
    role = principal.client_type if principal.kind == "client" else principal.role
    office = None if principal.kind == "client" else principal.office_id
    at = utcnow()
    return [{
        "id": new_id(), "record_id": r.id, "action": RETRIEVED, "at": at,
        "actor_type": actor_type, "actor_id": principal.subject,
        "actor_name": principal.name, "actor_role": role, "office_id": office,
        "ip": ip, "reason": None, "comment": None, "status_before": r.status,
        "status_after": r.status, "version_before": r.version, "version_after": r.version,
        "data": data} for r in records]


def audit_retrieved(session: Session, principal: Principal, ip: str | None,
                    records: Sequence[Record]) -> None:
    """Audit every record given to a caller as retrieved by it, in one INSERT."""
    repository.add_actions_now(session, retrieved_rows(principal, ip, records))
