"""What a feature contributes to the GraphQL schema, and what its resolvers are given."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from graphql import GraphQLField, GraphQLResolveInfo
from sqlalchemy.orm import Session

from crvshub.auth.dependencies import Principal
from crvshub.settings import Settings


@dataclass(frozen=True)
class GraphQLContext:
    """What resolvers need: the request's session, settings and authenticated caller."""

    session: Session
    settings: Settings
    principal: Principal
    ip: str | None


Info = GraphQLResolveInfo[GraphQLContext]


def context_of(info: Info) -> GraphQLContext:
    """Return the request context a resolver runs in."""
    context: GraphQLContext = info.context
    return context


@dataclass(frozen=True)
class Fields:
    """The root fields one feature adds to the schema, by name."""

    query: Mapping[str, GraphQLField] = field(default_factory=dict)
    mutation: Mapping[str, GraphQLField] = field(default_factory=dict)


class Contributor(Protocol):
    """A feature module that adds fields to /graphql (listed in `crvshub.graphql.schema`)."""

    def graphql_fields(self) -> Fields:
        """Return the feature's query and mutation fields."""
        ...
