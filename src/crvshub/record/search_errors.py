"""Errors of the GraphQL record search (`searchEvents`, `fetchBirthRegistration`, ...)."""

from __future__ import annotations

from crvshub.errors import AppError


class InvalidSearchParameter(AppError):
    """A search parameter has a wrong value (date, range, count, skip, sort, status)."""

    code = "SEARCH-400-010"
    status = 400
    issue_type = "value"
    title = "A search parameter is invalid"


class NoSearchParameter(AppError):
    """A staff search gave no parameter at all."""

    code = "SEARCH-400-011"
    status = 400
    issue_type = "required"
    title = "There is no param to search"


class SearchQuotaExceeded(AppError):
    """A RECORD_SEARCH client used up its daily quota of searches."""

    code = "SEARCH-429-001"
    status = 429
    issue_type = "throttled"
    title = "Daily search quota exceeded"
