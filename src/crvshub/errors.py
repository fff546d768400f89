"""The one error hierarchy: every error has an HTTP status, a FHIR issue type and a stable code.

Feature packages declare their own subclasses in `<feature>/errors.py`; the catalogue is the set
of all subclasses, and `docs/errors.md` must list every code (a test checks it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

ERROR_CODE_SYSTEM = "urn:crvshub:error-code"


@dataclass(frozen=True)
class Issue:
    """One problem found in a request: a stable code, a message and where it is."""

    code: str
    message: str
    expression: str | None = None
    issue_type: str = "invalid"
    severity: str = "error"


class AppError(Exception):
    """Base of every error the API returns on purpose."""

    code: ClassVar[str] = "GEN-500-000"
    status: ClassVar[int] = 500
    issue_type: ClassVar[str] = "exception"
    title: ClassVar[str] = "Unexpected error"

    def __init__(
        self,
        message: str | None = None,
        *,
        expression: str | None = None,
        issues: list[Issue] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.message = message or self.title
        self.expression = expression
        self.headers = headers or {}
        self.extra = extra or {}
        self._issues = issues
        super().__init__(self.message)

    @property
    def issues(self) -> list[Issue]:
        """Return the issues to render, one per problem found."""
        if self._issues:
            return self._issues
        return [Issue(self.code, self.message, self.expression, self.issue_type)]

    @classmethod
    def catalogue(cls) -> dict[str, type[AppError]]:
        """Return every concrete error class by code."""
        found: dict[str, type[AppError]] = {}
        stack: list[type[AppError]] = [cls]
        while stack:
            klass = stack.pop()
            stack.extend(klass.__subclasses__())
            if "code" in klass.__dict__ and klass is not AppError:
                found[klass.code] = klass
        return found


@dataclass
class IssueCollector:
    """Collects every problem in a payload so the client sees all of them at once."""

    issues: list[Issue] = field(default_factory=list)

    def add(self, error: type[AppError], message: str, expression: str | None = None) -> None:
        """Record one problem of the given error class."""
        self.issues.append(Issue(error.code, message, expression, error.issue_type))

    def __bool__(self) -> bool:
        return bool(self.issues)


class InternalError(AppError):
    """An unexpected failure; the response carries only a correlation id."""

    code = "GEN-500-001"
    status = 500
    issue_type = "exception"
    title = "Internal error: report the correlation id to the operator"


class BadRequest(AppError):
    """The request could not be parsed."""

    code = "GEN-400-001"
    status = 400
    issue_type = "structure"
    title = "The request body is not valid JSON"


class InvalidParameter(AppError):
    """A query parameter or field has a bad value."""

    code = "GEN-400-002"
    status = 400
    issue_type = "value"
    title = "A parameter has an invalid value"


class UnknownParameter(AppError):
    """The request uses a parameter this endpoint does not support."""

    code = "GEN-400-003"
    status = 400
    issue_type = "not-supported"
    title = "Unsupported parameter"


class UnstorableValue(AppError):
    """A value the database cannot store (e.g. a NUL character in text)."""

    code = "GEN-400-004"
    status = 400
    issue_type = "value"
    title = "The request contains a value that cannot be stored (e.g. a NUL character)"


class MoreIssues(AppError):
    """Not raised: the last issue of an answer with too many problems counts those not shown."""

    code = "GEN-400-005"
    status = 400
    issue_type = "too-costly"
    title = "More problems were found than one answer shows"


class AuthenticationRequired(AppError):
    """No credentials, or credentials that are not valid."""

    code = "AUTH-401-001"
    status = 401
    issue_type = "login"
    title = "Authentication required: send a valid Bearer token"


class TokenInvalid(AppError):
    """A token that is malformed, expired, or signed by an unknown key."""

    code = "AUTH-401-002"
    status = 401
    issue_type = "login"
    title = "The access token is invalid or expired: request a new one"


class ClientInactive(AppError):
    """The token belongs to a client or user that was deactivated or deleted."""

    code = "AUTH-401-003"
    status = 401
    issue_type = "security"
    title = "The client or user of this token is no longer active"


class Forbidden(AppError):
    """The caller is authenticated but lacks the scope for this action."""

    code = "AUTH-403-001"
    status = 403
    issue_type = "forbidden"
    title = "The token lacks the scope this action needs"


class OutOfJurisdiction(AppError):
    """The caller may not act on a resource outside their office or area."""

    code = "AUTH-403-002"
    status = 403
    issue_type = "forbidden"
    title = "This resource is outside your jurisdiction"


class NotFound(AppError):
    """The requested route does not exist."""

    code = "GEN-404-001"
    status = 404
    issue_type = "not-found"
    title = "No such resource"


class MethodNotAllowed(AppError):
    """The route exists but not for this HTTP method."""

    code = "GEN-405-001"
    status = 405
    issue_type = "not-supported"
    title = "Method not allowed on this resource"


class PayloadTooLarge(AppError):
    """The body is over the configured limit."""

    code = "GEN-413-001"
    status = 413
    issue_type = "too-costly"
    title = "The request body is too large"


class UnsupportedMediaType(AppError):
    """The body has a content type the endpoint does not accept."""

    code = "GEN-415-001"
    status = 415
    issue_type = "not-supported"
    title = "Unsupported content type: send application/json or application/fhir+json"


class VersionConflict(AppError):
    """If-Match named a version that is no longer current."""

    code = "GEN-412-001"
    status = 412
    issue_type = "conflict"
    title = "The resource changed since you read it: reload and retry"


class DatabaseUnavailable(AppError):
    """The database could not be reached or refused the work for a moment (nothing was saved)."""

    code = "GEN-503-001"
    status = 503
    issue_type = "transient"
    title = "The database is unavailable for a moment: retry shortly"


class RateLimited(AppError):
    """Too many requests from this caller."""

    code = "GEN-429-001"
    status = 429
    issue_type = "throttled"
    title = "Too many requests: wait for Retry-After seconds"
