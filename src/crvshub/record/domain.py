"""Record statuses, events and identifiers (pure: standard library only)."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from datetime import date, datetime
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


class Action(StrEnum):
    """Every action a staff user, client or system can take on a record."""

    NOTIFY = "notify"
    DECLARE = "declare"
    VALIDATE = "validate"
    REGISTER = "register"
    CONFIRM_REGISTRATION = "confirm-registration"
    REJECT_REGISTRATION = "reject-registration"
    CERTIFY = "certify"
    ISSUE = "issue"
    REJECT = "reject"
    ARCHIVE = "archive"
    REINSTATE = "reinstate"
    ASSIGN = "assign"
    UNASSIGN = "unassign"
    VIEW = "view"
    DOWNLOAD = "download"
    UPDATE = "update"
    REQUEST_CORRECTION = "request-correction"
    APPROVE_CORRECTION = "approve-correction"
    REJECT_CORRECTION = "reject-correction"
    MARK_AS_DUPLICATE = "mark-as-duplicate"
    MARK_AS_NOT_DUPLICATE = "mark-as-not-duplicate"
    # A registered death found to be wrong (the person is alive): the registration is revoked.
    REVERSE_DEATH = "reverse-death"


S = Status
_BEFORE_REGISTRATION = frozenset({S.IN_PROGRESS, S.DECLARED, S.VALIDATED, S.REJECTED})
_REVIEWABLE = frozenset({S.IN_PROGRESS, S.DECLARED, S.VALIDATED})
_REGISTERED_FAMILY = frozenset({S.REGISTERED, S.CERTIFIED, S.ISSUED})
_ALL = frozenset(Status)

# Where each action may start. Creation actions (notify, declare of a new record) have no
# source status: they are checked by `creation_status`, not by this table.
SOURCES: dict[Action, frozenset[Status]] = {
    Action.NOTIFY: frozenset(),
    Action.DECLARE: frozenset({S.IN_PROGRESS, S.REJECTED}),
    Action.VALIDATE: _BEFORE_REGISTRATION,
    Action.REGISTER: _BEFORE_REGISTRATION,
    Action.CONFIRM_REGISTRATION: frozenset({S.WAITING_VALIDATION}),
    Action.REJECT_REGISTRATION: frozenset({S.WAITING_VALIDATION}),
    Action.CERTIFY: _REGISTERED_FAMILY,
    Action.ISSUE: frozenset({S.CERTIFIED}),
    Action.REJECT: _REVIEWABLE,
    Action.ARCHIVE: _BEFORE_REGISTRATION,
    Action.REINSTATE: frozenset({S.ARCHIVED}),
    Action.ASSIGN: _ALL,
    Action.UNASSIGN: _ALL,
    Action.VIEW: _ALL,
    Action.DOWNLOAD: _ALL,
    Action.UPDATE: _BEFORE_REGISTRATION,
    Action.REQUEST_CORRECTION: _REGISTERED_FAMILY,
    Action.APPROVE_CORRECTION: frozenset({S.CORRECTION_REQUESTED}),
    Action.REJECT_CORRECTION: frozenset({S.CORRECTION_REQUESTED}),
    Action.MARK_AS_DUPLICATE: _REVIEWABLE,
    Action.MARK_AS_NOT_DUPLICATE: _REVIEWABLE,
    Action.REVERSE_DEATH: _REGISTERED_FAMILY,
}
# Actions that apply to some events only (the others: every event).
EVENTS_OF: dict[Action, frozenset[Event]] = {Action.REVERSE_DEATH: frozenset({Event.DEATH})}

# Fixed targets; actions missing here keep the status or return to an earlier one.
TARGETS: dict[Action, Status] = {
    Action.DECLARE: S.DECLARED,
    Action.VALIDATE: S.VALIDATED,
    Action.CONFIRM_REGISTRATION: S.REGISTERED,
    Action.REJECT_REGISTRATION: S.REJECTED,
    Action.CERTIFY: S.CERTIFIED,
    Action.ISSUE: S.ISSUED,
    Action.REJECT: S.REJECTED,
    Action.ARCHIVE: S.ARCHIVED,
    Action.REQUEST_CORRECTION: S.CORRECTION_REQUESTED,
    Action.APPROVE_CORRECTION: S.REGISTERED,
    Action.MARK_AS_DUPLICATE: S.ARCHIVED,  # archived, linked to the record it duplicates
    # Out of the registered records (searches, statistics); reinstating it brings it back in
    # progress, to be registered again through the usual review.
    Action.REVERSE_DEATH: S.ARCHIVED,
}
# Actions that return to the status the record had before (archive, correction request).
RETURNING = frozenset({Action.REINSTATE, Action.REJECT_CORRECTION})

STAFF_SCOPES = ("declare", "validate", "register", "certify")
# Which token scopes may perform each action (any one of them suffices).
ACTION_SCOPES: dict[Action, tuple[str, ...]] = {
    Action.NOTIFY: ("notification-api",),
    Action.DECLARE: ("declare", "validate", "register"),
    Action.VALIDATE: ("validate",),
    Action.REGISTER: ("register",),
    Action.CONFIRM_REGISTRATION: ("record.confirm-registration",),
    Action.REJECT_REGISTRATION: ("record.reject-registration",),
    Action.CERTIFY: ("certify",),
    Action.ISSUE: ("certify",),
    Action.REJECT: ("validate", "register"),
    Action.ARCHIVE: ("validate", "register"),
    Action.REINSTATE: ("validate", "register"),
    Action.ASSIGN: STAFF_SCOPES,
    Action.UNASSIGN: STAFF_SCOPES,
    Action.VIEW: STAFF_SCOPES,
    Action.DOWNLOAD: STAFF_SCOPES,
    Action.UPDATE: ("declare", "validate", "register"),
    Action.REQUEST_CORRECTION: ("validate", "register"),
    Action.APPROVE_CORRECTION: ("register",),
    Action.REJECT_CORRECTION: ("register",),
    Action.MARK_AS_DUPLICATE: ("register",),
    Action.MARK_AS_NOT_DUPLICATE: ("register",),
    Action.REVERSE_DEATH: ("register",),
}

# Actions for which a reason must be given (OpenCRVS asks for one in these dialogs).
NEEDS_REASON = frozenset(
    {
        Action.REJECT,
        Action.REJECT_REGISTRATION,
        Action.REQUEST_CORRECTION,
        Action.REJECT_CORRECTION,
        Action.REVERSE_DEATH,
    }
)

# Audit-trail names (record_actions.action) of each action.
AUDIT_NAMES: dict[Action, str] = {
    Action.NOTIFY: "sent-notification",
    Action.DECLARE: "declared",
    Action.VALIDATE: "validated",
    Action.REGISTER: "registered",
    Action.CONFIRM_REGISTRATION: "registration-confirmed",
    Action.REJECT_REGISTRATION: "registration-rejected",
    Action.CERTIFY: "certified",
    Action.ISSUE: "issued",
    Action.REJECT: "rejected",
    Action.ARCHIVE: "archived",
    Action.REINSTATE: "reinstated",
    Action.ASSIGN: "assigned",
    Action.UNASSIGN: "unassigned",
    Action.VIEW: "viewed",
    Action.DOWNLOAD: "downloaded",
    Action.UPDATE: "updated",
    Action.REQUEST_CORRECTION: "correction-requested",
    Action.APPROVE_CORRECTION: "corrected",
    Action.REJECT_CORRECTION: "correction-rejected",
    Action.MARK_AS_DUPLICATE: "marked-as-duplicate",
    Action.MARK_AS_NOT_DUPLICATE: "marked-as-not-duplicate",
    Action.REVERSE_DEATH: "death-reversed",
}
WAITING_VALIDATION_AUDIT = "waiting-validation"

# Event topic suffix per action (topics are `<BIRTH|DEATH>_<suffix>`).
EVENT_SUFFIX: dict[Action, str] = {
    Action.NOTIFY: "NOTIFIED",
    Action.DECLARE: "DECLARED",
    Action.VALIDATE: "VALIDATED",
    Action.CONFIRM_REGISTRATION: "REGISTERED",
    Action.REJECT_REGISTRATION: "REJECTED",
    Action.CERTIFY: "CERTIFIED",
    Action.ISSUE: "ISSUED",
    Action.REJECT: "REJECTED",
    Action.ARCHIVE: "ARCHIVED",
    Action.REINSTATE: "REINSTATED",
    Action.REQUEST_CORRECTION: "CORRECTION_REQUESTED",
    Action.APPROVE_CORRECTION: "CORRECTED",
    Action.MARK_AS_DUPLICATE: "ARCHIVED",
    Action.REVERSE_DEATH: "REVERSED",  # DEATH_REVERSED
}


class IllegalTransition(Exception):
    """The action is not allowed in the record's current status."""

    def __init__(self, status: str, action: Action) -> None:
        self.status = status
        self.action = action
        super().__init__(f"cannot {action.value} a record in status {status}")


def is_allowed(status: str, action: Action) -> bool:
    """Tell whether an action may be taken on a record in this status."""
    return status in SOURCES[action]


def applies_to(action: Action, event: str) -> bool:
    """Tell whether an action applies to records of this event (reverse-death: deaths)."""
    events = EVENTS_OF.get(action)
    return events is None or event in events


def allowed_actions(status: str) -> list[Action]:
    """Return the actions that may be taken in this status, in declaration order."""
    return [action for action in Action if status in SOURCES[action]]


def next_status(
    status: str, action: Action, *, hook: bool = False, previous: str | None = None
) -> Status:
    """Return the status after an action, or raise IllegalTransition.

    `hook` tells whether a registration hook is configured (register then waits for it);
    `previous` is the status to return to for reinstate and reject-correction.
    """
    if not is_allowed(status, action):
        raise IllegalTransition(status, action)
    if action is Action.REGISTER:
        return S.WAITING_VALIDATION if hook else S.REGISTERED
    if action in TARGETS:
        return TARGETS[action]
    if action in RETURNING:
        return _returning_target(action, previous)
    return Status(status)


def _returning_target(action: Action, previous: str | None) -> Status:
    allowed = _BEFORE_REGISTRATION if action is Action.REINSTATE else _REGISTERED_FAMILY
    if previous in allowed:
        return Status(previous)
    # Without a usable history, fall back to the safest status of the family.
    return S.IN_PROGRESS if action is Action.REINSTATE else S.REGISTERED


def creation_status(*, complete: bool, notification: bool = False) -> Status:
    """Return the status of a new record: notified and incomplete ones are in progress."""
    if notification or not complete:
        return S.IN_PROGRESS
    return S.DECLARED


def event_topic(event: str, action: Action, new_status: str) -> str | None:
    """Return the domain event topic of an action, or None if it emits none."""
    if action is Action.REGISTER:
        suffix = "REGISTERED" if new_status == S.REGISTERED else "WAITING_VALIDATION"
    else:
        found = EVENT_SUFFIX.get(action)
        if found is None:
            return None
        suffix = found
    return f"{event.upper()}_{suffix}"


def audit_name(action: Action, new_status: str) -> str:
    """Return the audit-trail name of an action (register may only wait for validation)."""
    if action is Action.REGISTER and new_status == S.WAITING_VALIDATION:
        return WAITING_VALIDATION_AUDIT
    return AUDIT_NAMES[action]


def may_perform(scopes: frozenset[str], action: Action) -> bool:
    """Tell whether a holder of these scopes may take the action."""
    return any(scope in scopes for scope in ACTION_SCOPES[action])


# Workqueues of an office: name -> (statuses, source filter or None).
WORKQUEUES: dict[str, tuple[frozenset[Status], str | None]] = {
    "in-progress-health-system": (frozenset({S.IN_PROGRESS}), "health-system"),
    "in-progress-field-agents": (frozenset({S.IN_PROGRESS}), "staff"),
    "ready-for-review": (frozenset({S.DECLARED, S.VALIDATED, S.CORRECTION_REQUESTED}), None),
    "requires-updates": (frozenset({S.REJECTED}), None),
    "in-external-validation": (frozenset({S.WAITING_VALIDATION}), None),
    "ready-to-print": (frozenset({S.REGISTERED}), None),
    "ready-to-issue": (frozenset({S.CERTIFIED}), None),
}
WORKQUEUE_TITLES: dict[str, str] = {
    "in-progress-health-system": "In progress: health system",
    "in-progress-field-agents": "In progress: field agents",
    "ready-for-review": "Ready for review",
    "requires-updates": "Requires updates",
    "in-external-validation": "In external validation",
    "ready-to-print": "Ready to print",
    "ready-to-issue": "Ready to issue",
}


IDENTIFIER_TYPE_SYSTEM = "http://opencrvs.org/specs/identifier-type"
SUBJECT_SECTION = {Event.BIRTH: "child-details", Event.DEATH: "deceased-details"}
PARENT_SECTIONS = ("mother-details", "father-details")


def registration_identifier_type(event: Event) -> str:
    """Return the Patient identifier type of the registration number (BRN or DRN)."""
    return f"{event.value.upper()}_REGISTRATION_NUMBER"


@dataclass(frozen=True)
class ReadScope:
    """Which records a reader may see; every field set narrows it (None: no limit).

    Built by the FHIR read policy (`fhir_records.access`), turned into SQL by the repository.
    """

    nothing: bool = False
    record_ids: frozenset[str] | None = None
    source_client_id: str | None = None
    statuses: frozenset[str] | None = None
    office_ids: frozenset[str] | None = None
    retrieved_by: str | None = None  # records this actor was given by a search


@dataclass(frozen=True)
class RecordFilter:
    """Record-level conditions of a FHIR search (the resource level is checked after)."""

    record_ids: frozenset[str] | None = None
    statuses: frozenset[str] | None = None
    updated: tuple[tuple[str, datetime], ...] = ()  # (">=" | "<", instant), all must hold
