"""Errors of the record workflow: unknown records, illegal transitions, concurrency."""

from __future__ import annotations

from crvshub.errors import AppError


class RecordNotFound(AppError):
    """No record has this id."""

    code = "REC-404-001"
    status = 404
    issue_type = "not-found"
    title = "No record with this id"


class UnknownWorkqueue(AppError):
    """The workqueue name is not one of the seven queues."""

    code = "REC-404-002"
    status = 404
    issue_type = "not-found"
    title = "No such workqueue"


class UnknownAction(AppError):
    """The action name in the path is not a record action."""

    code = "REC-404-003"
    status = 404
    issue_type = "not-found"
    title = "No such record action"


class IllegalTransitionError(AppError):
    """The action is not allowed in the record's current status."""

    code = "REC-409-001"
    status = 409
    issue_type = "business-rule"
    title = "This action is not allowed in the record's current status"


class AssignedToSomeoneElse(AppError):
    """Another user holds the record's assignment."""

    code = "REC-409-002"
    status = 409
    issue_type = "conflict"
    title = "The record is assigned to another user: ask them or a registrar to unassign it"


class RegistrationNumberTaken(AppError):
    """The registration number is already used by another record."""

    code = "REC-409-003"
    status = 409
    issue_type = "duplicate"
    title = "This registration number is already used by another record"


class ReasonRequired(AppError):
    """The action needs a reason and none was given."""

    code = "REC-400-001"
    status = 400
    issue_type = "required"
    title = "This action needs a reason"


class InvalidDeclaration(AppError):
    """The declaration bundle is not a valid record document."""

    code = "REC-400-002"
    status = 400
    issue_type = "invalid"
    title = "The declaration bundle is invalid"


class BadIfMatch(AppError):
    """The If-Match header is not a version ETag."""

    code = "REC-400-003"
    status = 400
    issue_type = "value"
    title = 'If-Match must be a record ETag such as W/"3"'


class OfficeNotAllowed(AppError):
    """The caller asked for another office's workqueue without a national role."""

    code = "REC-403-001"
    status = 403
    issue_type = "forbidden"
    title = "Only national roles may see another office's workqueues"


class PreconditionRequired(AppError):
    """An edit came without If-Match from a user who does not hold the record."""

    code = "REC-428-001"
    status = 428
    issue_type = "conflict"
    title = "Send If-Match with the record's ETag, or assign the record to yourself first"


class DuplicateUnresolved(AppError):
    """The record is flagged as a potential duplicate and the flag is not resolved."""

    code = "REC-409-004"
    status = 409
    issue_type = "business-rule"
    title = ("This record is flagged as a potential duplicate: mark it 'not a duplicate' or "
             "'duplicate of' another record first")


class DuplicateNotFlagged(AppError):
    """A duplicate decision was sent for a record that has no open potential duplicate."""

    code = "REC-409-005"
    status = 409
    issue_type = "business-rule"
    title = "This record is not flagged as a potential duplicate"


class UnknownDuplicate(AppError):
    """duplicateOf does not name one of the record's potential duplicates."""

    code = "REC-400-004"
    status = 400
    issue_type = "value"
    title = "duplicateOf must name one of the record's potential duplicates"
