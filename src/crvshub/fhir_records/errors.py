"""Errors of the FHIR read API of records."""

from __future__ import annotations

from crvshub.errors import AppError


class ResourceNotFound(AppError):
    """No record resource of this type and id that the caller may read."""

    code = "FHR-404-001"
    status = 404
    issue_type = "not-found"
    title = "No such resource"


class VersionNotFound(AppError):
    """The resource exists but not in this version."""

    code = "FHR-404-002"
    status = 404
    issue_type = "not-found"
    title = "No such version of the resource"


class ResourceGone(AppError):
    """The resource was part of the record once; a later change removed it."""

    code = "FHR-410-001"
    status = 410
    issue_type = "deleted"
    title = "The resource was removed from its record"


class ReadNotAllowed(AppError):
    """The caller may not read registration records through FHIR at all."""

    code = "FHR-403-001"
    status = 403
    issue_type = "forbidden"
    title = "This caller may not read registration records"
