"""HTTP route of GraphQL: POST /graphql, one schema, one authentication, one error mapping."""

from __future__ import annotations

from fastapi import APIRouter, Request
from graphql import (
    ExecutionResult,
    GraphQLError,
    execute_sync,
    parse,
    specified_rules,
    validate,
)
from starlette.responses import Response

from crvshub.deps import ContextDep, SessionDep
from crvshub.errors import AppError
from crvshub.fhir.responses import FastJSONResponse
from crvshub.graphql.auth import authenticate
from crvshub.graphql.context import GraphQLContext
from crvshub.graphql.errors import error_json, http_status, request_error_json
from crvshub.graphql.limits import MAX_TOKENS, QueryLimits
from crvshub.graphql.schema import schema
from crvshub.graphql.schemas import GraphQLBody
from crvshub.net import client_address

MAX_ERRORS = 20
# Answers carry client secrets and personal data: no cache may keep them.
NO_STORE = {"Cache-Control": "no-store"}

router = APIRouter(tags=["GraphQL"])


@router.post("/graphql")
def graphql_endpoint(
    request: Request, session: SessionDep, ctx: ContextDep, body: GraphQLBody
) -> Response:
    """Run a GraphQL query or mutation (confirmRegistration, rejectRegistration, ...)."""
    try:
        principal = authenticate(request)
    except AppError as exc:
        return FastJSONResponse(request_error_json(exc), status_code=exc.status,
                                headers=exc.headers)
    ip = client_address(request)
    context = GraphQLContext(session, ctx.settings, principal, ip, ctx)
    result = run(body, context)
    if not result.errors:
        return FastJSONResponse({"data": result.data}, headers=NO_STORE)
    errors = [error_json(e) for e in result.errors]
    # A failed mutation must leave nothing behind, like any failed request; what must be
    # recorded about the data other fields returned is written again.
    session.rollback()
    for write in context.kept:
        write(session)
    return FastJSONResponse({"data": result.data, "errors": errors},
                            status_code=http_status(result), headers=NO_STORE)


def run(body: GraphQLBody, context: GraphQLContext) -> ExecutionResult:
    """Parse, validate (schema rules and query limits) and execute one document."""
    try:
        document = parse(body.query, max_tokens=MAX_TOKENS)
    except GraphQLError as error:
        return ExecutionResult(None, [error])
    # The limits first and alone: an abusive document costs no more than measuring it.
    errors = validate(schema(), document, (QueryLimits,), max_errors=MAX_ERRORS) or validate(
        schema(), document, specified_rules, max_errors=MAX_ERRORS)
    if errors:
        return ExecutionResult(None, errors)
    return execute_sync(schema(), document, variable_values=body.variables,
                        operation_name=body.operation_name, context_value=context)
