"""The one /graphql schema, built from the fields each feature contributes.

A feature adds fields by exposing `graphql_fields() -> Fields` in a module of its own and
being listed in `CONTRIBUTORS` below; its resolvers stay in the feature and call its service.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache

from graphql import (
    GraphQLField,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    assert_valid_schema,
)

from crvshub.auth import graphql_fields as client_fields
from crvshub.graphql.context import Contributor
from crvshub.record import graphql_fields as record_fields
from crvshub.registration_hook import graphql_fields as registration_hook_fields

# Every feature that adds fields to /graphql, in schema order.
CONTRIBUTORS: tuple[Contributor, ...] = (registration_hook_fields, record_fields, client_fields)


class DuplicateField(RuntimeError):
    """Two features contribute a root field of the same name."""


def _merge(into: dict[str, GraphQLField], fields: Mapping[str, GraphQLField], root: str) -> None:
    for name, field in fields.items():
        if name in into:
            raise DuplicateField(f"{root}.{name} is contributed twice")
        into[name] = field


def build_schema(contributors: Iterable[Contributor] = CONTRIBUTORS) -> GraphQLSchema:
    """Return a validated schema with the Query and Mutation fields of the contributors."""
    query: dict[str, GraphQLField] = {}
    mutation: dict[str, GraphQLField] = {}
    types: list[GraphQLNamedType] = []
    for contributor in contributors:
        fields = contributor.graphql_fields()
        types.extend(fields.types)
        _merge(query, fields.query, "Query")
        _merge(mutation, fields.mutation, "Mutation")
    built = GraphQLSchema(
        query=GraphQLObjectType("Query", query),
        mutation=GraphQLObjectType("Mutation", mutation) if mutation else None,
        types=types,
    )
    assert_valid_schema(built)
    return built


@lru_cache(maxsize=1)
def reading_fields() -> frozenset[str]:
    """Return the query fields that only read (see `Fields.reading`)."""
    found: set[str] = set()
    for contributor in CONTRIBUTORS:
        found |= contributor.graphql_fields().reading
    return frozenset(found)


@lru_cache(maxsize=1)
def schema() -> GraphQLSchema:
    """Return the application's schema (built once per process)."""
    return build_schema()
