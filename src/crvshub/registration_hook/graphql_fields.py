"""The registration hook's GraphQL fields: confirm / reject mutations (OpenCRVS v1.7+ shapes).

Contributed to the one /graphql schema (`crvshub.graphql.schema`); the resolvers only parse
their arguments and call the registration hook service.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLField,
    GraphQLID,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLString,
)

from crvshub.errors import Forbidden
from crvshub.graphql.context import Fields, GraphQLContext, Info, context_of
from crvshub.record.service import Actor, actor_for, check_access, load
from crvshub.registration_hook import service
from crvshub.registration_hook.service import Answer


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
    context = context_of(info)
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
    context = context_of(info)
    actor = _require(context, "record.reject-registration", id)
    answer = Answer(reason=str(details["reason"])[:2000], comment=details.get("comment"))
    record = service.reject(context.session, id, actor, answer)
    return service.task_id(record)


def resolve_status(_root: Any, info: Info, id: str) -> str:
    """Return the registration status of a record the caller may see."""
    context = context_of(info)
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


def graphql_fields() -> Fields:
    """Return the registration hook's query and mutation fields."""
    return Fields(query=QUERY_FIELDS, mutation=MUTATION_FIELDS)
