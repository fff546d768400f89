"""HTTP route of GraphQL: POST /graphql, one schema, one authentication, one error mapping."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from graphql import graphql_sync
from pydantic import BaseModel, Field
from starlette.responses import Response

from crvshub.deps import ContextDep, SessionDep
from crvshub.errors import AppError
from crvshub.fhir.responses import FastJSONResponse
from crvshub.graphql.auth import authenticate
from crvshub.graphql.context import GraphQLContext
from crvshub.graphql.errors import error_json, http_status, request_error_json
from crvshub.graphql.schema import schema
from crvshub.net import client_address

router = APIRouter(tags=["GraphQL"])


class GraphQLBody(BaseModel):
    """A GraphQL request."""

    query: str = Field(max_length=100_000)
    variables: dict[str, Any] | None = None
    operation_name: str | None = Field(default=None, alias="operationName")


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
    result = graphql_sync(
        schema(),
        body.query,
        variable_values=body.variables,
        operation_name=body.operation_name,
        context_value=GraphQLContext(session, ctx.settings, principal, ip),
    )
    if not result.errors:
        return FastJSONResponse({"data": result.data})
    errors = [error_json(e) for e in result.errors]
    # A failed mutation must leave nothing behind, like any failed request.
    session.rollback()
    return FastJSONResponse({"data": result.data, "errors": errors},
                            status_code=http_status(result))
