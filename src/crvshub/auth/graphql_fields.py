"""Integration client management over /graphql, as the OpenCRVS Integrations page calls it.

`registerSystem`, `refreshSystemSecret`, `deactivateSystem`, `reactivateSystem`,
`updatePermissions`, `deleteSystem` and the `fetchSystem` query (OpenCRVS v1 gateway), plus
`getSystem` (the same as `fetchSystem`) and `searchSystems` (filters and paging, for the list
the OpenCRVS GUI gets from its offline data). Every operation needs `natlsysadmin`, like
`/api/integrations`; the resolvers parse their arguments and call the same service
(`crvshub.auth.client_admin`), so the rules and the audit are the same on both.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import replace
from typing import Any

from graphql import GraphQLArgument, GraphQLField, GraphQLID, GraphQLInt, GraphQLNonNull
from graphql import GraphQLString as String
from sqlalchemy.orm import Session

from crvshub.auth import client_admin, domain
from crvshub.auth import graphql_types as types
from crvshub.auth.clients import IssuedCredentials, sha_secret_of
from crvshub.auth.errors import (
    ClientNotFound,
    InvalidClientQuery,
    InvalidClientSettings,
    NationalIdClientExists,
)
from crvshub.graphql.auth import require_scope
from crvshub.graphql.context import Fields, GraphQLContext, Info, context_of

Json = dict[str, Any]

# OpenCRVS's own messages for the two rules its clients know (user-mgnt `registerSystem`).
WEBHOOK_PAYLOADS_REQUIRED = "Webhook payloads are required !"
NATIONAL_ID_EXISTS = "System with NATIONAL_ID already exists !"
MAX_EVENTS = 8
MAX_SECTIONS = 32
MAX_COUNT = 100
MAX_SKIP = 10_000

# Where each service field is in the GraphQL arguments, for the `expression` of errors.
REGISTER_PATHS = {
    "name": "system.name",
    "type": "system.type",
    "daily_quota": "system.settings.dailyQuota",
    "webhook_permissions": "system.settings.webhook",
    "integrating_system_type": "system.integratingSystemType",
}
UPDATE_PATHS = {"webhook_permissions": "setting.webhook"}


def _admin(info: Info) -> tuple[GraphQLContext, client_admin.Actor]:
    context = context_of(info)
    require_scope(context, domain.Scope.NATLSYSADMIN)
    return context, client_admin.actor_of(context.session, context.principal, context.ip)


def _path(expression: str | None, paths: Mapping[str, str]) -> str | None:
    for field, path in paths.items():
        if expression is not None and (expression == field or expression.startswith(field + "[")):
            return path + expression[len(field):]
    return expression


def _located(error: InvalidClientSettings, paths: Mapping[str, str]) -> InvalidClientSettings:
    """Return the error with each problem located in the GraphQL arguments."""
    issues = [replace(i, expression=_path(i.expression, paths)) for i in error.issues]
    message = "; ".join(f"{i.expression}: {i.message}" if i.expression else i.message
                        for i in issues)
    return InvalidClientSettings(message, issues=issues)


@contextmanager
def _answers(client_id: str = "", paths: Mapping[str, str] = REGISTER_PATHS) -> Iterator[None]:
    """Give the service's errors the messages OpenCRVS clients show, with the same codes."""
    try:
        yield
    except ClientNotFound:
        raise types.not_found(client_id) from None
    except NationalIdClientExists:
        raise NationalIdClientExists(NATIONAL_ID_EXISTS) from None
    except InvalidClientSettings as error:
        raise _located(error, paths) from None


def _webhook(given: Any, where: str) -> list[Json] | None:
    """Return the webhook permissions given, refusing lists no GUI would send."""
    if given is None:
        return None
    too_many = len(given) > MAX_EVENTS or any(
        isinstance(item, dict) and len(item.get("permissions") or ()) > MAX_SECTIONS
        for item in given)
    if too_many:
        raise InvalidClientSettings(
            f"at most {MAX_EVENTS} events of {MAX_SECTIONS} sections each", expression=where)
    return list(given)


def _secret(creds: IssuedCredentials) -> Json:
    view = client_admin.client_view(creds.client)
    return {"clientSecret": creds.client_secret,
            "system": types.system_of(view, creds.sha_secret)}


def resolve_register(_root: Any, info: Info, system: Json | None = None) -> Json:
    """Register a client; return its secret (shown this once) and the system."""
    context, actor = _admin(info)
    if system is None:
        raise InvalidClientSettings("system is required", expression="system")
    settings = system.get("settings") or {}
    webhook = _webhook(settings.get("webhook"), "system.settings.webhook")
    if system["type"] == domain.ClientType.WEBHOOK and webhook is None:
        raise InvalidClientSettings(WEBHOOK_PAYLOADS_REQUIRED, expression="system.settings")
    changes = client_admin.ClientChanges(
        name=system["name"], daily_quota=settings.get("dailyQuota"), webhook_permissions=webhook,
        integrating_system_type=system.get("integratingSystemType"))
    with _answers():
        creds = client_admin.register(context.session, context.app, actor, system["type"],
                                      changes)
    return _secret(creds)


def resolve_refresh(_root: Any, info: Info, clientId: str) -> Json:  # noqa: N803
    """Issue a new client secret; the old one and the tokens issued with it stop working."""
    context, actor = _admin(info)
    with _answers(clientId):
        creds = client_admin.refresh_secret(context.session, context.app, actor, clientId)
    return _secret(creds)


def resolve_deactivate(_root: Any, info: Info, clientId: str) -> Json:  # noqa: N803
    """Deactivate a client: no new tokens, and its current ones stop working at once."""
    context, actor = _admin(info)
    with _answers(clientId):
        client = client_admin.deactivate(context.session, context.app, actor, clientId)
    return types.system_of(client_admin.client_view(client))


def resolve_reactivate(_root: Any, info: Info, clientId: str) -> Json:  # noqa: N803
    """Reactivate a client; it must request new tokens."""
    context, actor = _admin(info)
    with _answers(clientId):
        client = client_admin.reactivate(context.session, context.app, actor, clientId)
    return types.system_of(client_admin.client_view(client))


def resolve_update_permissions(_root: Any, info: Info, setting: Json) -> Json:
    """Replace a webhook client's payload permissions."""
    context, actor = _admin(info)
    client_id = str(setting["clientId"])
    changes = client_admin.ClientChanges(
        webhook_permissions=_webhook(setting["webhook"], "setting.webhook"))
    with _answers(client_id, UPDATE_PATHS):
        client = client_admin.update(context.session, actor, client_id, changes)
    return types.system_of(client_admin.client_view(client))


def resolve_delete(_root: Any, info: Info, clientId: str) -> Json:  # noqa: N803
    """Delete a client and its webhook subscriptions; return what it was."""
    context, actor = _admin(info)
    with _answers(clientId):
        # The answer carries the deleted client's signing secret, which signs nothing now;
        # should the document fail and the deletion be undone, the reveal is audited.
        sha_secret = sha_secret_of(context.settings, client_admin.get(context.session, clientId))
        snapshot = client_admin.delete(context.session, context.app, actor, clientId)
    context.kept.append(lambda session: _reveal_if_kept(session, context, actor, clientId))
    return types.system_of(snapshot, sha_secret)


def _reveal_if_kept(session: Session, context: GraphQLContext, actor: client_admin.Actor,
                    client_id: str) -> None:
    with suppress(ClientNotFound):  # the deletion stood: nothing left to reveal
        client_admin.reveal_sha_secret(session, context.app, actor, client_id)


def resolve_fetch(_root: Any, info: Info, clientId: str) -> Json:  # noqa: N803
    """Return one client."""
    context, _actor = _admin(info)
    with _answers(clientId):
        client = client_admin.get(context.session, clientId)
    return types.system_of(client_admin.client_view(client))


def resolve_search(_root: Any, info: Info, type: str | None = None,
                   status: str | None = None, name: str | None = None, count: int = 10,
                   skip: int = 0) -> Json:
    """Return the clients matching the filters, newest first, one page at a time."""
    context, _actor = _admin(info)
    if not 1 <= count <= MAX_COUNT:
        raise InvalidClientQuery(f"count must be between 1 and {MAX_COUNT}", expression="count")
    if not 0 <= skip <= MAX_SKIP:
        raise InvalidClientQuery(f"skip must be between 0 and {MAX_SKIP}", expression="skip")
    if name is not None and len(name) > client_admin.NAME_MAX:
        raise InvalidClientQuery(f"name must be at most {client_admin.NAME_MAX} characters",
                                 expression="name")
    total, page = client_admin.search(context.session, client_type=type, status=status,
                                      name=name, count=count, skip=skip)
    return {"totalItems": total,
            "results": [types.system_of(client_admin.client_view(c)) for c in page]}


def _by_client_id(kind: Any, resolve: Any) -> GraphQLField:
    return GraphQLField(types.System, args={"clientId": GraphQLArgument(GraphQLNonNull(kind))},
                        resolve=resolve)


QUERY_FIELDS: dict[str, GraphQLField] = {
    "fetchSystem": _by_client_id(GraphQLID, resolve_fetch),
    "getSystem": _by_client_id(GraphQLID, resolve_fetch),
    "searchSystems": GraphQLField(
        types.SearchSystemsResult,
        args={"type": GraphQLArgument(types.SystemType),
              "status": GraphQLArgument(types.SystemStatus),
              "name": GraphQLArgument(String),
              "count": GraphQLArgument(GraphQLInt, default_value=10),
              "skip": GraphQLArgument(GraphQLInt, default_value=0)},
        resolve=resolve_search),
}
MUTATION_FIELDS: dict[str, GraphQLField] = {
    "registerSystem": GraphQLField(
        types.SystemSecret, args={"system": GraphQLArgument(types.SystemInput)},
        resolve=resolve_register),
    "refreshSystemSecret": GraphQLField(
        types.SystemSecret, args={"clientId": GraphQLArgument(GraphQLNonNull(String))},
        resolve=resolve_refresh),
    "deactivateSystem": _by_client_id(GraphQLID, resolve_deactivate),
    "reactivateSystem": _by_client_id(GraphQLID, resolve_reactivate),
    "updatePermissions": GraphQLField(
        types.System,
        args={"setting": GraphQLArgument(GraphQLNonNull(types.UpdatePermissionsInput))},
        resolve=resolve_update_permissions),
    "deleteSystem": _by_client_id(GraphQLID, resolve_delete),
}


def graphql_fields() -> Fields:
    """Return the client management query and mutation fields."""
    return Fields(query=QUERY_FIELDS, mutation=MUTATION_FIELDS)
