"""Errors of POST /notification: one stable code per kind of problem in a bundle."""

from __future__ import annotations

from crvshub.errors import AppError


class MalformedBundle(AppError):
    """The body is not a FHIR document Bundle with an entry list."""

    code = "NOTIF-400-001"
    status = 400
    issue_type = "structure"
    title = "The notification is not a FHIR document Bundle"


class MissingElement(AppError):
    """A mandatory element of the bundle is absent."""

    code = "NOTIF-400-002"
    status = 400
    issue_type = "required"
    title = "A mandatory element is missing"


class InvalidValue(AppError):
    """An element has the wrong FHIR datatype or an invalid value."""

    code = "NOTIF-400-003"
    status = 400
    issue_type = "value"
    title = "An element has an invalid value"


class UnsupportedResource(AppError):
    """An entry holds a resource type a notification may not carry."""

    code = "NOTIF-400-004"
    status = 400
    issue_type = "not-supported"
    title = "This resource type is not accepted in a notification"


class EntryOrder(AppError):
    """The Composition is not the first entry or the Task not the second."""

    code = "NOTIF-400-005"
    status = 400
    issue_type = "structure"
    title = "entry[0] must be the Composition and entry[1] the Task"


class DuplicateFullUrl(AppError):
    """Two entries share a fullUrl, so references are ambiguous."""

    code = "NOTIF-400-006"
    status = 400
    issue_type = "structure"
    title = "Two entries have the same fullUrl"


class BadIdempotencyKey(AppError):
    """The Idempotency-Key header is empty or too long."""

    code = "NOTIF-400-007"
    status = 400
    issue_type = "value"
    title = "The Idempotency-Key header must be 1 to 255 visible characters"


class LimitExceeded(AppError):
    """The bundle goes over a size cap (entries, sections, extensions, repeats, string length)."""

    code = "NOTIF-400-008"
    status = 400
    issue_type = "too-costly"
    title = "The notification goes over a size limit"


class DuplicateSection(AppError):
    """Two Composition sections have the same code."""

    code = "NOTIF-400-009"
    status = 400
    issue_type = "structure"
    title = "Each Composition section code may appear once"


class IdempotencyConflict(AppError):
    """The idempotency key was already used with a different payload."""

    code = "NOTIF-409-001"
    status = 409
    issue_type = "conflict"
    title = "This idempotency key was already used for a different notification"


class TaskNotDraft(AppError):
    """Task.status is not draft."""

    code = "NOTIF-422-001"
    status = 422
    issue_type = "business-rule"
    title = "Task.status must be draft"


class FocusMismatch(AppError):
    """Task.focus does not point to the Composition."""

    code = "NOTIF-422-002"
    status = 422
    issue_type = "business-rule"
    title = "Task.focus.reference must be the Composition fullUrl"


class UnresolvedReference(AppError):
    """A reference points to nothing in the bundle and to no stored location."""

    code = "NOTIF-422-003"
    status = 422
    issue_type = "business-rule"
    title = "A reference does not resolve inside the bundle or to a stored Location"


class UnknownOffice(AppError):
    """regLastOffice is missing or is not a stored CRVS office."""

    code = "NOTIF-422-004"
    status = 422
    issue_type = "business-rule"
    title = "regLastOffice must reference a stored CRVS_OFFICE location"


class OfficeAreaMismatch(AppError):
    """regLastLocation is not the administrative area the office belongs to."""

    code = "NOTIF-422-005"
    status = 422
    issue_type = "business-rule"
    title = "regLastLocation must be the area the office is part of"


class NoPerson(AppError):
    """The bundle carries no Patient."""

    code = "NOTIF-422-006"
    status = 422
    issue_type = "business-rule"
    title = "A notification needs at least one Patient"


class NoEventPlace(AppError):
    """There is no Encounter or it names no place of the event."""

    code = "NOTIF-422-007"
    status = 422
    issue_type = "business-rule"
    title = "The notification needs an Encounter with the place of the event"


class InvalidEventPlace(AppError):
    """The place of the event is neither a health facility nor an address or home."""

    code = "NOTIF-422-008"
    status = 422
    issue_type = "business-rule"
    title = "The place of the event must be a health facility, an address or a private home"


class AddressHierarchy(AppError):
    """An address names areas that do not form a chain up to the state."""

    code = "NOTIF-422-009"
    status = 422
    issue_type = "business-rule"
    title = "The address location hierarchy is incorrect"


class UnknownCountry(AppError):
    """An address or nationality uses an unknown country code."""

    code = "NOTIF-422-010"
    status = 422
    issue_type = "code-invalid"
    title = "Unknown country: use an ISO 3166 alpha-3 code"


class UnknownEventType(AppError):
    """The Composition type is not a birth or death notification, or the Task disagrees."""

    code = "NOTIF-422-011"
    status = 422
    issue_type = "code-invalid"
    title = "The event type must be birth-notification or death-notification"


class ImplausibleDate(AppError):
    """A date is in the future or out of order."""

    code = "NOTIF-422-012"
    status = 422
    issue_type = "business-rule"
    title = "A date is in the future or before a date it must follow"


class UnknownSection(AppError):
    """A Composition section has a code notifications do not use."""

    code = "NOTIF-422-013"
    status = 422
    issue_type = "code-invalid"
    title = "Unknown Composition section code"
