"""GraphQL errors: every error carries its catalogue code in `extensions.code`."""

from __future__ import annotations

from typing import Any

from graphql import ExecutionResult, GraphQLError

from crvshub.errors import AppError


class InvalidGraphQL(AppError):
    """The GraphQL document could not be parsed or validated against the schema."""

    code = "GQL-400-001"
    status = 400
    issue_type = "invalid"
    title = "The GraphQL query is invalid"


class QueryTooComplex(AppError):
    """The GraphQL document is too deep, uses too many aliases or costs too much."""

    code = "GQL-400-002"
    status = 400
    issue_type = "too-costly"
    title = "The GraphQL query is too deep, too costly or uses too many aliases"


def error_json(error: GraphQLError) -> dict[str, Any]:
    """Return one GraphQL error with the stable code in `extensions.code`.

    Anything other than an AppError or a document error is re-raised: the application's
    handlers turn it into a rolled-back 400, 503 or 500 like on every other route.
    """
    original = error.original_error
    item: dict[str, Any] = dict(error.formatted)
    if isinstance(original, AppError):
        item["message"] = original.message
        item["extensions"] = {**original.extra, "code": original.code,
                              "status": original.status}
        if original.expression:
            item["extensions"]["expression"] = original.expression
        issues = original.issues
        if len(issues) > 1 or issues[0].message != original.message:
            # Every problem found at once, each with where it is, as on REST routes.
            item["extensions"]["issues"] = [
                {"code": i.code, "message": i.message, "expression": i.expression}
                for i in issues]
    elif original is not None and not _is_invalid_request(error):
        raise original
    elif (error.extensions or {}).get("code") == QueryTooComplex.code:
        item["extensions"] = {"code": QueryTooComplex.code, "status": QueryTooComplex.status}
    else:
        item["extensions"] = {"code": InvalidGraphQL.code, "status": InvalidGraphQL.status}
    return item


def _is_invalid_request(error: GraphQLError) -> bool:
    # Parse and validation errors have no original error; bad variable values wrap another
    # GraphQLError. Both are the caller's mistake.
    return error.original_error is None or isinstance(error.original_error, GraphQLError)


def request_error_json(error: AppError) -> dict[str, Any]:
    """Return the body of a request refused before execution (e.g. no valid token)."""
    return {"errors": [{"message": error.message, "extensions": {"code": error.code}}]}


def http_status(result: ExecutionResult) -> int:
    """Return 400 for a document that could not run at all, else 200 (GraphQL over HTTP)."""
    errors = result.errors or []
    invalid = result.data is None and all(_is_invalid_request(e) for e in errors)
    return 400 if errors and invalid else 200
