"""Limits on what one /graphql document may ask: depth, aliases and cost (validation rules).

A document is refused before it runs when its deepest selection is too deep, when it uses
too many aliases (the usual way to ask an expensive field many times in one request), or
when its cost (every field once, fragments expanded, plus a weight per expensive root field)
is too high. Each refusal is a GraphQL error with the code `GQL-400-002`.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    visit,
)
from graphql.language import Visitor

from crvshub.graphql.errors import QueryTooComplex

MAX_DEPTH = 15  # the standard introspection query is 13 deep
MAX_ALIASES = 20
MAX_COST = 1000
MAX_TOKENS = 20_000  # parser limit: refuses huge documents before building them
# Root fields that run a search or read a whole record, by how much they cost.
EXPENSIVE = {"searchEvents": 100, "fetchBirthRegistration": 20, "fetchDeathRegistration": 20}
TOO_COMPLEX = QueryTooComplex.code


class _Measure:
    """Depth and cost of selection sets, fragments expanded once each (memoised)."""

    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.memo: dict[str, tuple[int, int]] = {}
        self.visiting: set[str] = set()

    def selections(self, node: SelectionSetNode | None, *, root: bool) -> tuple[int, int]:
        depth = cost = 0
        for selection in node.selections if node else ():
            if isinstance(selection, FieldNode):
                inner_depth, inner_cost = self.selections(selection.selection_set, root=False)
                depth = max(depth, inner_depth + 1)
                weight = EXPENSIVE.get(selection.name.value, 0) if root else 0
                cost += 1 + weight + inner_cost
            elif isinstance(selection, InlineFragmentNode):
                inner = self.selections(selection.selection_set, root=root)
                depth, cost = max(depth, inner[0]), cost + inner[1]
            elif isinstance(selection, FragmentSpreadNode):
                inner = self.fragment(selection.name.value, root=root)
                depth, cost = max(depth, inner[0]), cost + inner[1]
        return depth, cost

    def fragment(self, name: str, *, root: bool) -> tuple[int, int]:
        key = f"{name}:{root}"
        if key in self.memo:
            return self.memo[key]
        definition = self.fragments.get(name)
        if definition is None or name in self.visiting:  # other rules report these
            return 0, 0
        self.visiting.add(name)
        self.memo[key] = self.selections(definition.selection_set, root=root)
        self.visiting.discard(name)
        return self.memo[key]


class _Aliases(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        if node.alias is not None:
            self.count += 1


def _error(message: str, node: Any) -> GraphQLError:
    return GraphQLError(message, node, extensions={"code": TOO_COMPLEX})


class QueryLimits(ValidationRule):
    """Refuse documents that are too deep, use too many aliases or cost too much."""

    def enter_document(self, node: DocumentNode, *_args: Any) -> Any:
        """Measure every operation of the document once."""
        fragments = {d.name.value: d for d in node.definitions
                     if isinstance(d, FragmentDefinitionNode)}
        aliases = _Aliases()
        visit(node, aliases)
        if aliases.count > MAX_ALIASES:
            self.report_error(_error(
                f"The query uses {aliases.count} aliases; at most {MAX_ALIASES} are allowed",
                None))
        measure = _Measure(fragments)
        for operation in node.definitions:
            if not isinstance(operation, OperationDefinitionNode):
                continue
            depth, cost = measure.selections(operation.selection_set, root=True)
            if depth > MAX_DEPTH:
                self.report_error(_error(
                    f"The query is {depth} levels deep; at most {MAX_DEPTH} are allowed",
                    operation))
            if cost > MAX_COST:
                self.report_error(_error(
                    f"The query costs {cost}; at most {MAX_COST} is allowed (each field 1, "
                    f"each search {EXPENSIVE['searchEvents']})", operation))
        return self.SKIP
