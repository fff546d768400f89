"""Turn generated events into the rows CRVS Hub stores: record, first audit entry, index entry.

Each record looks like one that went through the workflow to its status: a tracking ID in
the Task and the Composition, the status in the Task, a registration number (Task and
subject identifiers, `registration_number`, `registered_at`) once registered, dates spread
after the event, search columns from `search_columns` and people from `index_entry`.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from crvshub.record import fhir_mapping
from crvshub.record.domain import TRACKING_ALPHABET, Event, tracking_id_system
from crvshub.record.search_columns import search_columns
from crvshub.search.indexing import IndexEntry, index_entry
from crvshub.synthetic import bundles
from crvshub.synthetic.ids import uuid5_text
from crvshub.synthetic.population import Event as Generated

REGISTERED_FAMILY = frozenset({"REGISTERED", "CERTIFIED", "ISSUED", "CORRECTION_REQUESTED"})
ACTOR = {"actor_type": "system", "actor_id": "crvshub-generate",
         "actor_name": "crvshub generate", "actor_role": None}
_NS = uuid.UUID("0b7e4d0c-55a4-4d8e-8f4e-3f1f6c3e2a11")
_SPACE = len(TRACKING_ALPHABET) ** 6
_STEP = 1_000_003  # coprime with 36**6: n -> n * step mod 36**6 visits every id once


@dataclass(frozen=True)
class Rows:
    """What one generated event becomes in the database."""

    record: dict[str, Any]
    action: dict[str, Any]
    entry: IndexEntry


def record_id(key: str, seed: int) -> str:
    """Return the stable record id of a generated event (the label file names records by it)."""
    return uuid5_text(_NS, f"{seed}/{key}")


def tracking_id(event: str, number: int, seed: int) -> str:
    """Return a tracking ID unique among the events of one seed (a bijection of the number)."""
    value = (number * _STEP + seed * 7_919) % _SPACE
    chars = []
    for _ in range(6):
        value, digit = divmod(value, len(TRACKING_ALPHABET))
        chars.append(TRACKING_ALPHABET[digit])
    return ("B" if event == "birth" else "D") + "".join(reversed(chars))


def _moment(day: date, rnd: random.Random) -> datetime:
    return datetime.combine(day, time(8), tzinfo=UTC) + timedelta(seconds=rnd.randrange(36_000))


def _dates(event_date: date, status: str, rnd: random.Random, now: datetime,
           ) -> tuple[datetime, datetime | None, datetime]:
    """Return (declared, registered, last changed): most declare within weeks, some years late."""
    delay = rnd.randrange(3 * 365) if rnd.random() < 0.05 else int(rnd.expovariate(1 / 20))
    declared = min(_moment(event_date + timedelta(days=delay), rnd), now)
    registered = None
    if status in REGISTERED_FAMILY:
        registered = min(declared + timedelta(days=rnd.randrange(30), hours=rnd.randrange(8)), now)
    changed = min((registered or declared) + timedelta(days=rnd.randrange(90)), now)
    return declared, registered, max(changed, registered or declared)


def build(gen: Generated, number: int, seed: int, rnd: random.Random, now: datetime) -> Rows:
    """Return the rows of one generated event (`number` makes its tracking ID unique)."""
    event = Event(gen.event)
    rid, tracking = record_id(gen.key, seed), tracking_id(gen.event, number, seed)
    declared, registered, changed = _dates(gen.event_date, gen.status, rnd, now)
    bundle = bundles.bundle(gen)
    bundle["entry"][0]["resource"]["identifier"] = {"system": "urn:ietf:rfc:3986",
                                                    "value": tracking}
    fhir_mapping.set_task_identifier(bundle, tracking_id_system(event), tracking)
    reason = "Information is missing" if gen.status == "REJECTED" else None
    fhir_mapping.set_status(bundle, gen.status, reason=reason, at=changed)
    number_text = None
    if registered is not None:
        number_text = f"{registered.year:04d}{tracking}"
        fhir_mapping.set_registration_number(bundle, event, number_text)
    record = {
        "id": rid, "tracking_id": tracking, "event": gen.event, "status": gen.status,
        "office_id": gen.place.office_id, "composition_type": f"{gen.event}-notification",
        "bundle": bundle, "version": 1, "registration_number": number_text,
        "source": "staff", "source_client_id": None, "assigned_user_id": None,
        "status_reason": reason, "created_at": declared, "updated_at": changed,
        "registered_at": registered, **search_columns(bundle, event),
    }
    action = {
        "id": uuid5_text(_NS, f"{rid}/first"), "record_id": rid,
        "action": "registered" if registered else "declared",
        "at": registered or declared, **ACTOR, "office_id": gen.place.office_id, "ip": None,
        "reason": None, "comment": None, "status_before": None, "status_after": gen.status,
        "version_before": None, "version_after": 1, "data": {"generated": True},
    }
    return Rows(record, action, index_entry(bundle, rid))


def label(gen: Generated, seed: int) -> dict[str, Any] | None:
    """Return the label line of a planted duplicate (None for an original event)."""
    if gen.duplicate_of is None:
        return None
    return {"duplicate": record_id(gen.key, seed), "original": record_id(gen.duplicate_of, seed),
            "duplicate_key": gen.key, "original_key": gen.duplicate_of, "event": gen.event,
            "mutations": list(gen.mutations)}
