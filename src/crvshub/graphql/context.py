"""What a feature contributes to the GraphQL schema, and what its resolvers are given."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLNamedType,
    GraphQLResolveInfo,
    InlineFragmentNode,
    SelectionNode,
)
from sqlalchemy.orm import Session

from crvshub.auth.domain import Principal
from crvshub.errors import AppError
from crvshub.settings import Settings

if TYPE_CHECKING:
    from crvshub.context import AppContext

# A write that must outlive a failed document (audit of data already returned, quota use).
KeptWrite = Callable[[Session], None]


@dataclass(frozen=True)
class GraphQLContext:
    """What resolvers need: the request's session, settings, caller and process context."""

    session: Session
    settings: Settings
    principal: Principal
    ip: str | None
    app: AppContext
    kept: list[KeptWrite] = field(default_factory=list)
    # True when `session` only reads (a document of `Fields.reading` fields): kept writes then
    # wait until the document has run, and are written once, in the request's transaction.
    writes_later: bool = False

    def keep(self, write: KeptWrite) -> None:
        """Write now, and again after the rollback if the document ends with errors.

        A document that fails rolls its transaction back, yet other fields of it may already
        have returned data: what must be recorded about them (who retrieved which record,
        one more search counted) is written again in the fresh transaction.
        """
        if not self.writes_later:
            write(self.session)
        self.kept.append(write)


Info = GraphQLResolveInfo[GraphQLContext]


class RefusedAfterRunning(Exception):
    """A kept write refused the answer of the field that kept it (the quota used meanwhile).

    Carries the field's place in the document, so that the refusal reads exactly as if the
    field itself had raised `error` while running.
    """

    def __init__(self, error: AppError, info: Info) -> None:
        super().__init__(error.message)
        self.error = error
        self.nodes = info.field_nodes
        self.path = info.path.as_list()


def asked_below(info: Info, name: str) -> set[str]:
    """Return the names of every field the document asks for below the resolver's field
    `name` (at any depth, through fragments): a resolver reads only the data asked for."""
    found: set[str] = set()

    def walk(selections: Iterable[SelectionNode], inside: bool) -> None:
        for node in selections:
            if isinstance(node, FieldNode):
                if inside:
                    found.add(node.name.value)
                if node.selection_set is not None:
                    walk(node.selection_set.selections, inside or node.name.value == name)
            elif isinstance(node, InlineFragmentNode):
                walk(node.selection_set.selections, inside)
            elif isinstance(node, FragmentSpreadNode):
                fragment = info.fragments.get(node.name.value)
                if fragment is not None:
                    walk(fragment.selection_set.selections, inside)

    for field_node in info.field_nodes:
        if field_node.selection_set is not None:
            walk(field_node.selection_set.selections, False)
    return found


def context_of(info: Info) -> GraphQLContext:
    """Return the request context a resolver runs in."""
    context: GraphQLContext = info.context
    return context


@dataclass(frozen=True)
class Fields:
    """The root fields one feature adds to the schema, by name."""

    query: Mapping[str, GraphQLField] = field(default_factory=dict)
    mutation: Mapping[str, GraphQLField] = field(default_factory=dict)
    types: tuple[GraphQLNamedType, ...] = ()  # reachable only through interfaces
    # Query fields that only read, writing nothing but through `GraphQLContext.keep`: a
    # document made of them runs on a read-only session (no write lock on SQLite).
    reading: frozenset[str] = frozenset()


class Contributor(Protocol):
    """A feature module that adds fields to /graphql (listed in `crvshub.graphql.schema`)."""

    def graphql_fields(self) -> Fields:
        """Return the feature's query and mutation fields."""
        ...
