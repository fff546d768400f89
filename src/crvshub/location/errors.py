"""Errors of the location API (both the OpenCRVS face and FHIR Location)."""

from __future__ import annotations

from crvshub.errors import AppError


class InvalidLocationPayload(AppError):
    """A location body is missing a field or has a bad value."""

    code = "LOC-400-001"
    status = 400
    issue_type = "value"
    title = "The location payload is invalid"


class InvalidParent(AppError):
    """`partOf` does not name an existing location (or another item of the same array)."""

    code = "LOC-400-002"
    status = 400
    issue_type = "value"
    title = "partOf is not a valid location"


class ImmutableField(AppError):
    """An update tried to change the type, parent or statistical id of a location."""

    code = "LOC-400-003"
    status = 400
    issue_type = "business-rule"
    title = "The type, parent and statistical id of a location cannot be changed"


class IdMismatch(AppError):
    """The id in the body of an update differs from the id in the URL."""

    code = "LOC-400-004"
    status = 400
    issue_type = "invariant"
    title = "The resource id in the body does not match the URL"


class LocationNotFound(AppError):
    """No location has this id."""

    code = "LOC-404-001"
    status = 404
    issue_type = "not-found"
    title = "No location with this id"


class LocationVersionNotFound(AppError):
    """The location exists but not in this version."""

    code = "LOC-404-002"
    status = 404
    issue_type = "not-found"
    title = "No such version of this location"


class DuplicateStatisticalId(AppError):
    """Another location already has this statistical id."""

    code = "LOC-409-001"
    status = 409
    issue_type = "duplicate"
    title = "A location with this statistical id already exists"
