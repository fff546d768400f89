"""Record statuses, events and identifiers (pure: standard library only)."""

from __future__ import annotations

import secrets
import string
from datetime import date
from enum import StrEnum


class Event(StrEnum):
    """Vital event types."""

    BIRTH = "birth"
    DEATH = "death"


class Status(StrEnum):
    """Registration statuses (Task.businessStatus codes)."""

    IN_PROGRESS = "IN_PROGRESS"
    DECLARED = "DECLARED"
    VALIDATED = "VALIDATED"
    WAITING_VALIDATION = "WAITING_VALIDATION"
    REGISTERED = "REGISTERED"
    CERTIFIED = "CERTIFIED"
    ISSUED = "ISSUED"
    REJECTED = "REJECTED"
    ARCHIVED = "ARCHIVED"
    CORRECTION_REQUESTED = "CORRECTION_REQUESTED"


TRACKING_ALPHABET = string.digits + string.ascii_uppercase
EVENT_LETTER = {Event.BIRTH: "B", Event.DEATH: "D"}
REG_STATUS_SYSTEM = "http://opencrvs.org/specs/reg-status"


def new_tracking_id(event: Event) -> str:
    """Return a tracking ID: the event letter and 6 random characters of [0-9A-Z]."""
    return EVENT_LETTER[event] + "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(6))


def tracking_id_system(event: Event) -> str:
    """Return the Task identifier system of the tracking ID."""
    return f"http://opencrvs.org/specs/id/{event.value}-tracking-id"


def registration_number_system(event: Event) -> str:
    """Return the Task identifier system of the registration number."""
    return f"http://opencrvs.org/specs/id/{event.value}-registration-number"


def registration_number(pattern: str, *, tracking_id: str, today: date) -> str:
    """Format a registration number, by default `<YYYY><trackingId>`."""
    return pattern.format(year=f"{today.year:04d}", tracking_id=tracking_id)
