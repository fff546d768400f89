"""Callbacks of the registration hook: legacy `POST /confirm/registration` and `/graphql`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request
from graphql import GraphQLError, graphql_sync
from pydantic import BaseModel, Field
from starlette.responses import Response

from crvshub.auth.dependencies import Principal, PrincipalDep, current_principal
from crvshub.deps import ContextDep, SessionDep
from crvshub.errors import AppError, InvalidParameter
from crvshub.fhir.responses import FastJSONResponse, FHIRResponse
from crvshub.registration_hook import service
from crvshub.registration_hook.errors import GraphQLSyntax
from crvshub.registration_hook.graphql import GraphQLContext, schema

router = APIRouter(tags=["registration hook"])


def _ip(request: Request) -> str | None:
    return request.client.host if request.client else None


async def hook_caller(principal: PrincipalDep) -> Principal:
    """Authenticate a callback: the hook's record token or a national ID client (else 403)."""
    service.check_callback_caller(principal)
    return principal


@router.post("/confirm/registration")
def confirm_registration(
    request: Request,
    session: SessionDep,
    ctx: ContextDep,
    principal: Annotated[Principal, Depends(hook_caller)],
    body: Annotated[Any, Body()],
) -> Response:
    """Confirm (or, with `error`, reject) a registration; answer with the record bundle."""
    if not isinstance(body, dict):
        raise InvalidParameter("The body must be a JSON object", expression="$")
    record = service.confirm_legacy(session, ctx.settings, principal, _ip(request), body)
    return FHIRResponse(record.bundle)


class GraphQLBody(BaseModel):
    """A GraphQL request."""

    query: str = Field(max_length=100_000)
    variables: dict[str, Any] | None = None
    operation_name: str | None = Field(default=None, alias="operationName")


def error_json(error: GraphQLError) -> dict[str, Any]:
    """Return one GraphQL error with the stable code in `extensions.code`."""
    original = error.original_error
    item: dict[str, Any] = dict(error.formatted)
    if isinstance(original, AppError):
        item["message"] = original.message
        item["extensions"] = {"code": original.code, "status": original.status}
    elif original is None:
        item["extensions"] = {"code": GraphQLSyntax.code, "status": GraphQLSyntax.status}
    else:
        raise original
    return item


def _errors_only(error: AppError) -> Response:
    body = {"errors": [{"message": error.message, "extensions": {"code": error.code}}]}
    return FastJSONResponse(body, status_code=error.status, headers=error.headers)


@router.post("/graphql")
def graphql_endpoint(
    request: Request, session: SessionDep, ctx: ContextDep, body: GraphQLBody
) -> Response:
    """Run a GraphQL query or mutation (confirmRegistration, rejectRegistration, ...)."""
    try:
        principal = current_principal(request)
    except AppError as exc:
        return _errors_only(exc)
    context = GraphQLContext(session, ctx.settings, principal, _ip(request))
    result = graphql_sync(
        schema(),
        body.query,
        variable_values=body.variables,
        operation_name=body.operation_name,
        context_value=context,
    )
    if not result.errors:
        return FastJSONResponse({"data": result.data})
    errors = [error_json(e) for e in result.errors]
    # A failed mutation must leave nothing behind, like any failed request.
    session.rollback()
    status = (
        400 if result.data is None and all(e.original_error is None for e in result.errors) else 200
    )
    return FastJSONResponse({"data": result.data, "errors": errors}, status_code=status)
