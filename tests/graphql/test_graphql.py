"""/graphql: one schema from the features' fields, one authentication, codes in extensions."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from graphql import GraphQLError, GraphQLField, GraphQLString, graphql_sync

from crvshub.context import AppContext
from crvshub.errors import Forbidden
from crvshub.graphql import schema as schema_module
from crvshub.graphql.context import Fields
from crvshub.graphql.errors import error_json
from crvshub.graphql.schema import DuplicateField, build_schema
from tests.helpers import LOCAL_REGISTRAR, bearer, new_client, user_token

STATUS = "query($id: ID!) { registrationStatus(id: $id) }"


def _post(client: TestClient, body: dict[str, Any], token: str | None = None) -> Any:
    return client.post("/graphql", json=body, headers=bearer(token) if token else {})


def _code(response: Any) -> str:
    return str(response.json()["errors"][0]["extensions"]["code"])


def test_an_unknown_field_or_broken_document_is_a_400_with_a_code(
    client: TestClient, ctx: AppContext
) -> None:
    token = user_token(ctx, LOCAL_REGISTRAR)
    unknown = _post(client, {"query": "{ noSuchField }"}, token)
    assert unknown.status_code == 400 and _code(unknown) == "GQL-400-001"
    assert "noSuchField" in unknown.json()["errors"][0]["message"]
    broken = _post(client, {"query": "mutation {"}, token)
    assert broken.status_code == 400 and _code(broken) == "GQL-400-001"
    typo = _post(client, {"query": STATUS, "variables": {}}, token)  # missing variable
    assert typo.status_code == 400 and _code(typo) == "GQL-400-001"


def test_without_a_valid_token_the_request_is_refused_with_a_code(client: TestClient) -> None:
    missing = _post(client, {"query": "{ __typename }"})
    assert missing.status_code == 401 and _code(missing) == "AUTH-401-001"
    assert missing.json() == {"errors": [{"message": missing.json()["errors"][0]["message"],
                                          "extensions": {"code": "AUTH-401-001"}}]}
    forged = _post(client, {"query": "{ __typename }"}, "not.a.token")
    assert forged.status_code == 401 and _code(forged) == "AUTH-401-002"


def test_app_errors_of_resolvers_carry_their_catalogue_code(
    client: TestClient, ctx: AppContext
) -> None:
    registrar = user_token(ctx, LOCAL_REGISTRAR)
    missing = _post(client, {"query": STATUS, "variables": {"id": "no-such-record"}}, registrar)
    assert missing.status_code == 200
    body = missing.json()
    assert body["data"] == {"registrationStatus": None}
    assert body["errors"][0]["extensions"] == {"code": "REC-404-001", "status": 404}
    assert body["errors"][0]["path"] == ["registrationStatus"]
    _, hospital = new_client(ctx, "HEALTH")
    confirm = ('mutation { confirmRegistration(id: "x", '
               'details: {registrationNumber: "2026B1"}) }')
    denied = _post(client, {"query": confirm}, hospital)
    assert denied.status_code == 200 and _code(denied) == "HOOK-403-002"
    assert "registration hook" in denied.json()["errors"][0]["message"]


def test_the_schema_has_every_contributed_field(client: TestClient, ctx: AppContext) -> None:
    token = user_token(ctx, LOCAL_REGISTRAR)
    query = "{ __schema { queryType { fields { name } } mutationType { fields { name } } } }"
    found = _post(client, {"query": query}, token).json()["data"]["__schema"]
    assert [f["name"] for f in found["queryType"]["fields"]] == [
        "registrationStatus", "searchEvents", "fetchBirthRegistration", "fetchDeathRegistration",
        "fetchSystem", "getSystem", "searchSystems"]
    names = {f["name"] for f in found["mutationType"]["fields"]}
    assert names == {"confirmRegistration", "rejectRegistration", "registerSystem",
                     "refreshSystemSecret", "deactivateSystem", "reactivateSystem",
                     "updatePermissions", "deleteSystem"}
    assert schema_module.CONTRIBUTORS  # an explicit list of feature modules


def _feature(query: dict[str, GraphQLField], mutation: dict[str, GraphQLField] | None = None
             ) -> Any:
    return SimpleNamespace(graphql_fields=lambda: Fields(query=query, mutation=mutation or {}))


def _fails(_root: Any, _info: Any) -> str:
    raise Forbidden("not for you")


def _breaks(_root: Any, _info: Any) -> str:
    raise RuntimeError("bug")


def test_features_are_merged_and_a_name_clash_is_refused() -> None:
    hello = GraphQLField(GraphQLString, resolve=lambda *_: "hello")
    fails = GraphQLField(GraphQLString, resolve=_fails)
    built = build_schema([_feature({"hello": hello}), _feature({"fails": fails})])
    result = graphql_sync(built, "{ hello fails }")
    assert result.data == {"hello": "hello", "fails": None}
    assert result.errors is not None
    item = error_json(result.errors[0])
    assert item["extensions"] == {"code": "AUTH-403-001", "status": 403}
    assert item["message"] == "not for you"
    with pytest.raises(DuplicateField, match=r"Query\.hello"):
        build_schema([_feature({"hello": hello}), _feature({"hello": hello})])


def test_an_unexpected_resolver_failure_is_not_disguised_as_a_graphql_error() -> None:
    built = build_schema([_feature({"breaks": GraphQLField(GraphQLString, resolve=_breaks)})])
    result = graphql_sync(built, "{ breaks }")
    assert result.errors is not None
    with pytest.raises(RuntimeError, match="bug"):
        error_json(result.errors[0])
    assert error_json(GraphQLError("Syntax Error"))["extensions"]["code"] == "GQL-400-001"
