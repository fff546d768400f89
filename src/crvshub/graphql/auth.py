"""The one authentication path of /graphql, and the scope check resolvers share."""

from __future__ import annotations

from fastapi import Request

from crvshub.auth.dependencies import current_principal
from crvshub.auth.domain import Principal
from crvshub.errors import Forbidden
from crvshub.graphql.context import GraphQLContext


def authenticate(request: Request) -> Principal:
    """Return the caller of a /graphql request; AppError (401) without a valid token."""
    return current_principal(request)


def require_scope(context: GraphQLContext, scope: str) -> None:
    """Raise Forbidden unless the caller holds the scope."""
    if scope not in context.principal.scopes:
        raise Forbidden(f"This operation needs the scope {scope}")
