"""Turn a hospital's notification bundle into a record, once (record.creation writes it)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
from sqlalchemy.orm import Session

from crvshub.auth.domain import Principal
from crvshub.compat import opencrvs_strict
from crvshub.db import utcnow
from crvshub.location.cache import Snapshot
from crvshub.notification import fhir_mapping, repository
from crvshub.notification.config import required_fields
from crvshub.notification.errors import BadIdempotencyKey, IdempotencyConflict
from crvshub.notification.models import IdempotencyKey
from crvshub.notification.places import Places
from crvshub.notification.saved_bundle import build_saved_bundle
from crvshub.notification.validation import parse_structure
from crvshub.notification.validation_limits import Limits
from crvshub.notification.validation_rules import CheckedNotification, check_rules
from crvshub.record import service as record_service
from crvshub.record.creation import NewRecord, create_record
from crvshub.record.domain import Action, Event, Status
from crvshub.record.service import actor_for, check_office
from crvshub.settings import Settings

# Dates up to this far ahead of UTC are "today" somewhere on Earth (UTC+14).
CLOCK_SLACK = timedelta(hours=14)
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class NotificationResult:
    """The saved record bundle, and whether it answers a retry of an earlier request."""

    record_id: str
    tracking_id: str
    status: str
    bundle: dict[str, Any]
    replayed: bool


def canonical(body: Any) -> bytes:
    """Return the JSON serialisation of a payload with sorted keys."""
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def fingerprint(serialized: bytes) -> str:
    """Return a stable hash of a payload's `canonical` serialisation."""
    return hashlib.sha256(serialized).hexdigest()


def client_ref(principal: Principal) -> str:
    """Return the idempotency namespace of a caller."""
    return principal.subject if principal.kind == "client" else f"user:{principal.subject}"


def check_header_key(value: str | None) -> str | None:
    """Validate an Idempotency-Key header value."""
    if value is None:
        return None
    if not 0 < len(value) <= MAX_KEY_LENGTH or not value.isprintable() or value.strip() != value:
        raise BadIdempotencyKey(expression="Idempotency-Key")
    return value


def _composition_key(body: dict[str, Any]) -> str | None:
    ident = body["entry"][0]["resource"].get("identifier")
    value = ident.get("value") if isinstance(ident, dict) else None
    if not isinstance(value, str) or not value.strip():
        return None
    system = ident.get("system") if isinstance(ident.get("system"), str) else ""
    raw = f"{system}|{value}"
    if len(raw) <= 200:
        return f"composition:{raw}"
    return "composition-sha256:" + hashlib.sha256(raw.encode()).hexdigest()


def notify(
    session: Session, settings: Settings, principal: Principal, body: Any, *,
    idempotency_key: str | None, ip: str | None, snapshot: Snapshot | None = None,
) -> NotificationResult:
    """Validate a notification and save it as a record, or replay the answer to a retry."""
    key = check_header_key(idempotency_key)
    serialized = canonical(body)
    digest = fingerprint(serialized)
    ref = client_ref(principal)
    if key is not None:
        replay = _replay(session, ref, key, digest)
        if replay:
            return replay
    parsed = parse_structure(body, serialized, Limits.from_settings(settings))
    # OpenCRVS saves every bundle it accepts: strict clients get no implicit key.
    if key is None and not opencrvs_strict(principal, settings):
        key = _composition_key(parsed.bundle)
        replay = _replay(session, ref, key, digest) if key else None
        if replay:
            return replay
    now = utcnow()
    checked = check_rules(Places(session, snapshot), parsed, home_country=settings.country_code,
                          today=(now + CLOCK_SLACK).date())
    claim = None
    if key is not None:
        claim = IdempotencyKey(client_ref=ref, key=key, fingerprint=digest, created_at=now)
        if not repository.claim_key(session, claim):
            replay = _replay(session, ref, key, digest)
            if replay is None:
                raise IdempotencyConflict("A request with this idempotency key is still being "
                                          "processed: retry in a moment")
            return replay
    return _save(session, settings, principal, checked, claim=claim, ip=ip)


def _replay(session: Session, ref: str, key: str, digest: str) -> NotificationResult | None:
    row = repository.find_key(session, ref, key)
    if row is None:
        return None
    if row.fingerprint != digest:
        raise IdempotencyConflict(
            f"Idempotency key {key!r} was first used with a different payload; send a new key "
            "(or a new Composition identifier) for a new notification",
            expression="Idempotency-Key" if not key.startswith("composition") else
            "Bundle.entry[0].resource.identifier",
        )
    record = record_service.find(session, row.record_id) if row.record_id else None
    if record is None:
        return None
    # The first answer, unchanged even if the record has moved on since (validated, registered).
    bundle = row.response if row.response is not None else record.bundle
    return NotificationResult(record.id, record.tracking_id, record.status, bundle, True)


def _status(settings: Settings, checked: CheckedNotification) -> Status:
    required = required_fields(settings.country_dir)[checked.event]
    missing = fhir_mapping.missing_fields(checked, required)
    return Status.IN_PROGRESS if missing else Status.DECLARED


def _system_identity(principal: Principal) -> dict[str, Any]:
    # As OpenCRVS (spec 3.2): the system's name, the username of the admin who registered
    # it, and its type; for a staff notifier, the user's own name, username and role.
    return {"name": principal.name, "username": principal.username,
            "type": principal.client_type or principal.role or principal.kind}


def _save(
    session: Session, settings: Settings, principal: Principal, checked: CheckedNotification,
    *, claim: IdempotencyKey | None, ip: str | None,
) -> NotificationResult:
    event = Event(checked.event)
    status = _status(settings, checked)
    now = utcnow()
    actor = actor_for(principal, ip)
    if principal.kind == "user":
        # Staff notify only into their own jurisdiction, by the same rule as /api/records.
        check_office(checked.office.id, actor)
    system = _system_identity(principal)
    is_client = principal.kind == "client"
    new = NewRecord(
        event=event, status=status, action=Action.NOTIFY, office_id=checked.office.id,
        composition_type=f"{event.value}-notification",
        source="health-system" if is_client else "staff",
        source_client_id=principal.subject if is_client else None,
    )

    def build(record_id: str, tracking_id: str) -> dict[str, Any]:
        return build_saved_bundle(checked, record_id=record_id, tracking_id=tracking_id,
                                  status=status.value, system=system, now=now)

    record = create_record(session, new, build, actor, now=now)
    if claim is not None:
        claim.record_id = record.id
        claim.response = record.bundle
    return NotificationResult(record.id, record.tracking_id, status.value, record.bundle, False)


def record_count(session: Session) -> int:
    """Return the number of records (used by robustness checks)."""
    return record_service.count(session)

