"""HTTP route of GraphQL: POST /graphql, one schema, one authentication, one error mapping."""

from __future__ import annotations

import functools

from fastapi import APIRouter, Request
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLError,
    GraphQLNonNull,
    OperationType,
    execute_sync,
    get_operation_ast,
    parse,
    specified_rules,
    validate,
)
from sqlalchemy.orm import Session
from starlette.responses import Response

from crvshub.auth.domain import Principal
from crvshub.context import AppContext
from crvshub.deps import ContextDep, SessionDep
from crvshub.errors import AppError
from crvshub.fhir.responses import FastJSONResponse
from crvshub.graphql.auth import authenticate
from crvshub.graphql.context import GraphQLContext, RefusedAfterRunning
from crvshub.graphql.errors import error_json, http_status, request_error_json
from crvshub.graphql.limits import MAX_TOKENS, QueryLimits
from crvshub.graphql.schema import reading_fields, schema
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
    checked = check(body)
    if isinstance(checked, ExecutionResult):
        return _answer(checked)
    if only_reads(checked, body.operation_name):
        return _run_reading(session, ctx, body, checked, principal, ip)
    context = GraphQLContext(session, ctx.settings, principal, ip, ctx)
    result = execute(body, checked, context)
    if result.errors:
        # A failed mutation must leave nothing behind, like any failed request; what must be
        # recorded about the data other fields returned is written again.
        session.rollback()
        for write in context.kept:
            write(session)
    return _answer(result)


def _run_reading(session: Session, ctx: AppContext, body: GraphQLBody,
                 document: DocumentNode, principal: Principal, ip: str | None) -> Response:
    """Run a document of reading fields on a read-only session, then write what it kept."""
    with ctx.db.reader() as reading:
        context = GraphQLContext(reading, ctx.settings, principal, ip, ctx, writes_later=True)
        result = execute(body, document, context)
    try:
        for write in context.kept:
            write(session)
    except RefusedAfterRunning as refused:  # the quota was used up by a search meanwhile
        session.rollback()  # nothing it answered is audited, so none of it is given
        error = GraphQLError(refused.error.message, refused.nodes, path=refused.path,
                             original_error=refused.error)
        return _answer(ExecutionResult(_withheld(document, body, result), [error]))
    return _answer(result)


def _withheld(document: DocumentNode, body: GraphQLBody,
              result: ExecutionResult) -> dict[str, None] | None:
    """Return the data of a reading document none of whose answers may be given.

    Each root field is null, as if it had failed itself, so that a refusal found after the
    document ran reads like one found while it ran; None when a root field may not be null.
    """
    operation = get_operation_ast(document, body.operation_name)
    query = schema().query_type
    if result.data is None or operation is None or query is None:
        return None
    fields = query.fields
    nodes = [n for n in operation.selection_set.selections if isinstance(n, FieldNode)]
    if any(isinstance(fields[n.name.value].type, GraphQLNonNull) for n in nodes
           if n.name.value in fields):
        return None
    return dict.fromkeys(result.data)


def _answer(result: ExecutionResult) -> Response:
    if not result.errors:
        return FastJSONResponse({"data": result.data}, headers=NO_STORE)
    errors = [error_json(e) for e in result.errors]
    return FastJSONResponse({"data": result.data, "errors": errors},
                            status_code=http_status(result), headers=NO_STORE)


def check(body: GraphQLBody) -> DocumentNode | ExecutionResult:
    """Parse and validate one document (query limits, then the schema's rules)."""
    if len(body.query) <= CACHED_DOCUMENT:
        checked = _checked_cached(body.query)
    else:
        checked = _checked(body.query)
    return ExecutionResult(None, list(checked)) if isinstance(checked, tuple) else checked


# Integrators send the same few documents again and again (only the variables change), and
# parsing and validating one costs more than a search by tracking ID: the outcome for a
# short document is remembered per process (it depends on the document and the schema only).
CACHED_DOCUMENT = 8192


def _checked(query: str) -> DocumentNode | tuple[GraphQLError, ...]:
    try:
        document = parse(query, max_tokens=MAX_TOKENS)
    except GraphQLError as error:
        return (error,)
    # The limits first and alone: an abusive document costs no more than measuring it.
    errors = validate(schema(), document, (QueryLimits,), max_errors=MAX_ERRORS) or validate(
        schema(), document, specified_rules, max_errors=MAX_ERRORS)
    return tuple(errors) if errors else document


_checked_cached = functools.lru_cache(maxsize=256)(_checked)


def only_reads(document: DocumentNode, operation_name: str | None) -> bool:
    """Tell whether the operation to run is a query of reading fields only."""
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation != OperationType.QUERY:
        return False
    reading = reading_fields()
    return all(isinstance(node, FieldNode) and (
        node.name.value in reading or node.name.value == "__typename")
        for node in operation.selection_set.selections)


def execute(body: GraphQLBody, document: DocumentNode, context: GraphQLContext) -> ExecutionResult:
    """Execute a checked document."""
    return execute_sync(schema(), document, variable_values=body.variables,
                        operation_name=body.operation_name, context_value=context)


def run(body: GraphQLBody, context: GraphQLContext) -> ExecutionResult:
    """Parse, validate (schema rules and query limits) and execute one document."""
    checked = check(body)
    if isinstance(checked, ExecutionResult):
        return checked
    return execute(body, checked, context)
