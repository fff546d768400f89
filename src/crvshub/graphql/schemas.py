"""The request body of POST /graphql."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class GraphQLBody(BaseModel):
    """A GraphQL request."""

    query: str = Field(max_length=100_000)
    variables: dict[str, Any] | None = None
    operation_name: str | None = Field(default=None, alias="operationName")
