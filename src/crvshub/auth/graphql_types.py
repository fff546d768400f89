"""GraphQL types of integration client management, in the OpenCRVS v1 shapes.

`System` values are plain dicts built by `system_of`; the `shaSecret` field is the one that
does work: unless the answer already carries it (a registration or a refresh), showing it is
a reveal of the webhook signing secret, audited like `GET /api/integrations/{id}/sha-secret`.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLID,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLString,
)
from sqlalchemy.orm import Session

from crvshub.auth import client_admin, domain
from crvshub.auth.errors import ClientNotFound
from crvshub.graphql.context import Info, context_of

Json = dict[str, Any]

SystemStatus = GraphQLEnumType("SystemStatus", {s.value: s.value for s in domain.ClientStatus})
SystemType = GraphQLEnumType("SystemType", {t.value: t.value for t in domain.ClientType})
IntegratingSystemType = GraphQLEnumType(
    "IntegratingSystemType", {t.value: t.value for t in domain.IntegratingSystemType}
)


def not_found(client_id: str) -> ClientNotFound:
    """Return the error for an unknown client, with OpenCRVS's message."""
    return ClientNotFound(f"No system found by clientId: {client_id[:128]}")


def resolve_sha_secret(system: Json, info: Info) -> str:
    """Return the webhook signing secret, auditing the reveal unless it was just issued."""
    if "shaSecret" in system:
        return str(system["shaSecret"])
    context = context_of(info)
    actor = client_admin.actor_of(context.session, context.principal, context.ip)
    client_id = str(system["clientId"])
    revealed: list[str] = []

    def reveal(session: Session) -> None:
        # After a rollback that also undid the client, nothing is left to reveal.
        with suppress(ClientNotFound):
            revealed.append(client_admin.reveal_sha_secret(session, context.app, actor, client_id))

    # The secret is in the answer even if another field fails: the audit must stay too.
    context.keep(reveal)
    if not revealed:
        raise not_found(client_id)
    return revealed[0]


WebhookPermission = GraphQLObjectType("WebhookPermission", {
    "event": GraphQLField(GraphQLNonNull(GraphQLString)),
    "permissions": GraphQLField(GraphQLNonNull(GraphQLList(GraphQLNonNull(GraphQLString)))),
})
SystemSettings = GraphQLObjectType("SystemSettings", {
    "dailyQuota": GraphQLField(GraphQLInt),
    "webhook": GraphQLField(GraphQLList(GraphQLNonNull(WebhookPermission))),
    "openIdProviderClientId": GraphQLField(GraphQLString),
    "openIdProviderBaseUrl": GraphQLField(GraphQLString),
    "openIdProviderClaims": GraphQLField(GraphQLString),
})
System = GraphQLObjectType("System", {
    "_id": GraphQLField(GraphQLNonNull(GraphQLID)),
    "clientId": GraphQLField(GraphQLNonNull(GraphQLID)),
    "shaSecret": GraphQLField(GraphQLNonNull(GraphQLID), resolve=resolve_sha_secret),
    "status": GraphQLField(GraphQLNonNull(SystemStatus)),
    "name": GraphQLField(GraphQLNonNull(GraphQLString)),
    "type": GraphQLField(GraphQLNonNull(SystemType)),
    "integratingSystemType": GraphQLField(IntegratingSystemType),
    "settings": GraphQLField(SystemSettings),
})
SystemSecret = GraphQLObjectType("SystemSecret", {
    "system": GraphQLField(GraphQLNonNull(System)),
    "clientSecret": GraphQLField(GraphQLNonNull(GraphQLID)),
})
SearchSystemsResult = GraphQLObjectType("SearchSystemsResult", {
    "totalItems": GraphQLField(GraphQLNonNull(GraphQLInt)),
    "results": GraphQLField(GraphQLNonNull(GraphQLList(GraphQLNonNull(System)))),
})

WebhookInput = GraphQLInputObjectType("WebhookInput", {
    "event": GraphQLInputField(GraphQLNonNull(GraphQLString)),
    "permissions": GraphQLInputField(GraphQLNonNull(GraphQLList(GraphQLString))),
})
SystemSettingsInput = GraphQLInputObjectType("SystemSettingsInput", {
    "dailyQuota": GraphQLInputField(GraphQLInt),
    "webhook": GraphQLInputField(GraphQLList(WebhookInput)),
})
SystemInput = GraphQLInputObjectType("SystemInput", {
    "name": GraphQLInputField(GraphQLNonNull(GraphQLString)),
    "type": GraphQLInputField(GraphQLNonNull(SystemType)),
    "settings": GraphQLInputField(SystemSettingsInput),
    "integratingSystemType": GraphQLInputField(IntegratingSystemType),
})
UpdatePermissionsInput = GraphQLInputObjectType("UpdatePermissionsInput", {
    "clientId": GraphQLInputField(GraphQLNonNull(GraphQLString)),
    "webhook": GraphQLInputField(GraphQLNonNull(GraphQLList(GraphQLNonNull(WebhookInput)))),
})


def system_of(view: Json, sha_secret: str | None = None) -> Json:
    """Return a `System` from a client's public view (and its sha_secret when just issued)."""
    system: Json = {
        "_id": view["id"],
        "clientId": view["client_id"],
        "status": view["status"],
        "name": view["name"],
        "type": view["type"],
        "integratingSystemType": view["integrating_system_type"],
        # CRVS Hub has no E-Signet settings: the openIdProvider* fields stay null.
        "settings": {"dailyQuota": view["daily_quota"], "webhook": view["webhook_permissions"]},
    }
    if sha_secret is not None:
        system["shaSecret"] = sha_secret
    return system
