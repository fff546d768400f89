"""Registration hook use cases: hand a record to the hook, then confirm or reject it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.orm import Session

from crvshub.auth.domain import ClientType, Principal, Scope
from crvshub.db import utcnow
from crvshub.errors import Forbidden
from crvshub.outbox.service import enqueue
from crvshub.record import actions, fhir_mapping
from crvshub.record import service as record_service
from crvshub.record.domain import Action, Status
from crvshub.record.errors import RecordNotFound
from crvshub.record.ports import ExternalValidation, ValidationState
from crvshub.record.service import Actor, Change, Record, actor_for, apply, load
from crvshub.registration_hook import repository
from crvshub.registration_hook.errors import (
    BadIdentifier,
    ConfirmTargetMissing,
    NotHookCaller,
    NotThisRecord,
)
from crvshub.registration_hook.models import HookCall
from crvshub.settings import Settings

JOB_KIND = "registration-hook"
CONFIRM_SCOPE = str(Scope.CONFIRM_REGISTRATION)
REJECT_SCOPE = str(Scope.REJECT_REGISTRATION)
HOOK_SCOPES = frozenset({CONFIRM_SCOPE, REJECT_SCOPE})
NATIONAL_ID = str(ClientType.NATIONAL_ID)


def hook_actor(url: str) -> Actor:
    """Return the actor of answers that the worker records on the hook's behalf."""
    return Actor(
        "system",
        "registration-hook",
        "Registration hook",
        "REGISTRATION_HOOK",
        data={"url": url},
        scopes=HOOK_SCOPES,
    )


def request_validation(
    session: Session, settings: Settings, record: Record, actor: Actor
) -> HookCall:
    """Record a hook call for a record now waiting for validation and queue the HTTP call."""
    now = utcnow()
    call = HookCall(
        record_id=record.id,
        requested_by=actor.id,
        url=settings.registration_hook_url,
        status="pending",
        attempts=0,
        created_at=now,
        updated_at=now,
    )
    repository.add(session, call)
    session.flush()
    enqueue(session, JOB_KIND, {"call_id": call.id, "record_id": record.id})
    return call


def external_state(call: HookCall | None) -> ValidationState:
    """Return the registration hook state shown in 'In external validation'."""
    if call is None:
        return None
    return {
        "state": call.status,
        "attempts": call.attempts,
        "lastStatusCode": call.last_status_code,
        "lastError": call.last_error,
        "since": call.created_at.isoformat(),
        "updatedAt": call.updated_at.isoformat(),
    }


def validation_state(session: Session, record_id: str) -> ValidationState:
    """Return the state of a record's latest hook call, or None."""
    return external_state(repository.latest_for(session, record_id))


def validation_states(session: Session, record_ids: Iterable[str]) -> dict[str, ValidationState]:
    """Return the state of the latest hook call of each record that has one."""
    calls = repository.latest_for_many(session, record_ids)
    return {record_id: external_state(call) for record_id, call in calls.items()}


def close_call(session: Session, record_id: str, status: str, error: str | None = None) -> None:
    """Mark the record's open hook call as answered."""
    call = repository.latest_for(session, record_id)
    if call is not None and call.status in ("pending", "accepted"):
        call.status = status
        call.answered_at = call.updated_at = utcnow()
        if error:
            call.last_error = error


def check_record_token(principal: Principal, record_id: str) -> None:
    """Raise unless a record token names this record (other tokens are checked by scope)."""
    if principal.kind == "record" and principal.record_id != record_id:
        raise NotThisRecord()


def check_callback_caller(principal: Principal) -> None:
    """Raise unless the caller is a record token or a national ID client.

    Staff never answer for the hook: CRVS Hub hands the hook a record token (OpenCRVS v1.7+
    does the same; v1.3-v1.6 hooks echo back whatever token they were given), so a staff
    token on a callback can only mean someone skipping the national ID check.
    """
    if principal.kind == "record":
        return
    if principal.kind == "client" and principal.client_type == NATIONAL_ID:
        return
    raise NotHookCaller()


def callback_actor(principal: Principal, record_id: str, scope: str, ip: str | None) -> Actor:
    """Authorise a confirm or reject callback for one record; return its audit actor."""
    check_callback_caller(principal)
    if principal.kind == "record":
        check_record_token(principal, record_id)
        if scope not in principal.scopes:
            raise Forbidden(f"This callback needs the scope {scope}")
        return actor_for(principal, ip)
    # A national ID client is the hook system itself; its token carries `nationalId` only.
    actor = actor_for(principal, ip)
    return replace(actor, scopes=actor.scopes | HOOK_SCOPES)


@dataclass(frozen=True)
class Answer:
    """A hook system's answer for one record."""

    registration_number: str | None = None
    identifiers: list[tuple[str, str]] = field(default_factory=list)
    comment: str | None = None
    reason: str | None = None


def parse_identifiers(raw: Any, where: str) -> list[tuple[str, str]]:
    """Return (type, value) pairs from `[{type, value}]`, raising on a malformed item."""
    found: list[tuple[str, str]] = []
    for index, item in enumerate(raw or []):
        kind = item.get("type") if isinstance(item, dict) else None
        value = item.get("value") if isinstance(item, dict) else None
        if not isinstance(kind, str) or not kind or not isinstance(value, str) or not value:
            raise BadIdentifier(expression=f"{where}[{index}]")
        found.append((kind[:64], value[:255]))
    return found


def confirm(
    session: Session, settings: Settings, record_id: str, actor: Actor, answer: Answer
) -> Record:
    """Register a record waiting for validation, with the hook's number and identifiers."""
    record = load(session, record_id, lock=True)
    number = answer.registration_number
    if record.status == Status.REGISTERED and number and number == record.registration_number:
        return record  # a repeated confirmation (hook retry) changes nothing
    if number:
        actions.check_number_free(session, record, number)
    elif record.status == Status.WAITING_VALIDATION:
        number = actions.new_registration_number(session, settings, record)
    data = {"registration_number": number, "identifiers": [list(i) for i in answer.identifiers]}
    change = Change(Action.CONFIRM_REGISTRATION, comment=answer.comment, data=data)
    apply(
        session,
        record,
        actor,
        change,
        edit=actions.set_registered(number or "", answer.identifiers),
    )
    close_call(session, record.id, "confirmed")
    return record


def reject(session: Session, record_id: str, actor: Actor, answer: Answer) -> Record:
    """Send a record waiting for validation back for updates, with the hook's reason."""
    record = load(session, record_id, lock=True)
    change = Change(Action.REJECT_REGISTRATION, reason=answer.reason, comment=answer.comment)
    apply(session, record, actor, change)
    close_call(session, record.id, "rejected", answer.reason)
    return record


def _legacy_target(session: Session, body: dict[str, Any]) -> Record:
    composition_id, tracking_id = body.get("compositionId"), body.get("trackingId")
    record = None
    if isinstance(composition_id, str) and composition_id:
        record = record_service.find(session, composition_id)
    elif isinstance(tracking_id, str) and tracking_id:
        record = record_service.find_by_tracking_id(session, tracking_id)
    else:
        raise ConfirmTargetMissing(expression="compositionId")
    if record is None:
        raise RecordNotFound(f"No record {composition_id or tracking_id!r}")
    return record


def confirm_legacy(
    session: Session,
    settings: Settings,
    principal: Principal,
    ip: str | None,
    body: dict[str, Any],
) -> Record:
    """Handle the v1.3-v1.6 `POST /confirm/registration` callback: confirm, or reject on error."""
    check_callback_caller(principal)
    record = _legacy_target(session, body)
    error = body.get("error")
    scope = REJECT_SCOPE if error else CONFIRM_SCOPE
    actor = callback_actor(principal, record.id, scope, ip)
    if error:
        return reject(session, record.id, actor, Answer(reason=str(error)[:2000]))
    number = body.get("registrationNumber")
    answer = Answer(
        registration_number=str(number)[:64] if number else None,
        identifiers=parse_identifiers(body.get("childIdentifiers"), "childIdentifiers"),
    )
    return confirm(session, settings, record.id, actor, answer)


def task_id(record: Record) -> str:
    """Return the id of the record's Task (what confirmRegistration answers)."""
    return str(fhir_mapping.task(record.bundle).get("id", record.id))


# The record workflow's port to the hook, attached to every session by the composition.
EXTERNAL_VALIDATION = ExternalValidation(
    request=request_validation, state=validation_state, states=validation_states
)
