"""The `/graphql` schema: registration confirm / reject mutations (OpenCRVS v1.7+ shapes).

Fields live in two registries, `QUERY_FIELDS` and `MUTATION_FIELDS`, so another feature can
add its own (e.g. `searchEvents`) with `QUERY_FIELDS["searchEvents"] = ...` before the schema
is first built. Resolvers get a `GraphQLContext` with the request's session and caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLField,
    GraphQLID,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    GraphQLString,
)
from sqlalchemy.orm import Session

from crvshub.auth.dependencies import Principal
from crvshub.errors import Forbidden
from crvshub.record.service import Actor, actor_for, check_access, load
from crvshub.registration_hook import service
from crvshub.registration_hook.service import Answer
from crvshub.settings import Settings


@dataclass(frozen=True)
class GraphQLContext:
    """What resolvers need: the request's session, settings and authenticated caller."""

    session: Session
    settings: Settings
    principal: Principal
    ip: str | None


Info = GraphQLResolveInfo[GraphQLContext]


def _context(info: Info) -> GraphQLContext:
    context: GraphQLContext = info.context
    return context


def _require(context: GraphQLContext, scope: str, record_id: str) -> Actor:
    return service.callback_actor(context.principal, record_id, scope, context.ip)


IdentifierInput = GraphQLInputObjectType(
    "IdentifierInput",
    {
        "type": GraphQLInputField(GraphQLNonNull(GraphQLString)),
        "value": GraphQLInputField(GraphQLNonNull(GraphQLString)),
    },
)
ConfirmRegistrationInput = GraphQLInputObjectType(
    "ConfirmRegistrationInput",
    {
        "registrationNumber": GraphQLInputField(GraphQLNonNull(GraphQLString)),
        "identifiers": GraphQLInputField(GraphQLList(GraphQLNonNull(IdentifierInput))),
        "comment": GraphQLInputField(GraphQLString),
    },
)
RejectRegistrationInput = GraphQLInputObjectType(
    "RejectRegistrationInput",
    {
        "reason": GraphQLInputField(GraphQLNonNull(GraphQLString)),
        "comment": GraphQLInputField(GraphQLString),
    },
)


def resolve_confirm(_root: Any, info: Info, id: str, details: dict[str, Any]) -> str:
    """Confirm a registration; return the Task id."""
    context = _context(info)
    actor = _require(context, "record.confirm-registration", id)
    answer = Answer(
        registration_number=str(details["registrationNumber"])[:64],
        identifiers=service.parse_identifiers(details.get("identifiers"), "details.identifiers"),
        comment=details.get("comment"),
    )
    record = service.confirm(context.session, context.settings, id, actor, answer)
    return service.task_id(record)


def resolve_reject(_root: Any, info: Info, id: str, details: dict[str, Any]) -> str:
    """Reject a registration with a reason; return the Task id."""
    context = _context(info)
    actor = _require(context, "record.reject-registration", id)
    answer = Answer(reason=str(details["reason"])[:2000], comment=details.get("comment"))
    record = service.reject(context.session, id, actor, answer)
    return service.task_id(record)


def resolve_status(_root: Any, info: Info, id: str) -> str:
    """Return the registration status of a record the caller may see."""
    context = _context(info)
    service.check_record_token(context.principal, id)
    record = load(context.session, id)
    if context.principal.kind == "user":
        check_access(record, actor_for(context.principal, context.ip))
    elif context.principal.kind != "record":
        raise Forbidden("Only staff and record tokens may read a registration status")
    return record.status


QUERY_FIELDS: dict[str, GraphQLField] = {
    "registrationStatus": GraphQLField(
        GraphQLString,
        args={"id": GraphQLArgument(GraphQLNonNull(GraphQLID))},
        resolve=resolve_status,
    ),
}
MUTATION_FIELDS: dict[str, GraphQLField] = {
    "confirmRegistration": GraphQLField(
        GraphQLNonNull(GraphQLID),
        args={
            "id": GraphQLArgument(GraphQLNonNull(GraphQLID)),
            "details": GraphQLArgument(GraphQLNonNull(ConfirmRegistrationInput)),
        },
        resolve=resolve_confirm,
    ),
    "rejectRegistration": GraphQLField(
        GraphQLNonNull(GraphQLID),
        args={
            "id": GraphQLArgument(GraphQLNonNull(GraphQLID)),
            "details": GraphQLArgument(GraphQLNonNull(RejectRegistrationInput)),
        },
        resolve=resolve_reject,
    ),
}


@lru_cache(maxsize=1)
def schema() -> GraphQLSchema:
    """Build the schema once from the field registries."""
    return GraphQLSchema(
        query=GraphQLObjectType("Query", lambda: dict(QUERY_FIELDS)),
        mutation=GraphQLObjectType("Mutation", lambda: dict(MUTATION_FIELDS)),
    )
