"""Limits of /graphql documents: depth, aliases and cost are refused before anything runs."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from graphql import get_introspection_query
from sqlalchemy import select

from crvshub.context import AppContext
from crvshub.graphql.limits import MAX_ALIASES, MAX_DEPTH
from crvshub.record.models import SearchQuotaUse
from tests.helpers import new_client
from tests.record.graphql_helpers import codes, graphql


@pytest.fixture
def search_token(ctx: AppContext) -> str:
    """Return a RECORD_SEARCH client token."""
    return new_client(ctx, "RECORD_SEARCH", daily_quota=1000)[1]


def test_aliased_exhaustion_is_refused_before_it_runs(client: TestClient, ctx: AppContext,
                                                      search_token: str) -> None:
    many = " ".join(f"a{n}: searchEvents(advancedSearchParameters: {{}}) {{ totalItems }}"
                    for n in range(MAX_ALIASES + 5))
    response = graphql(client, search_token, "{ " + many + " }")
    assert response.status_code == 400 and set(codes(response)) == {"GQL-400-002"}
    assert "aliases" in response.json()["errors"][0]["message"]
    few = " ".join(f"a{n}: searchEvents(advancedSearchParameters: {{}}) {{ totalItems }}"
                   for n in range(11))
    costly = graphql(client, search_token, "{ " + few + " }")
    assert costly.status_code == 400 and codes(costly) == ["GQL-400-002"]
    assert "costs" in costly.json()["errors"][0]["message"]
    wide = "{ " + " ".join(["__typename"] * 1001) + " }"
    assert codes(graphql(client, search_token, wide)) == ["GQL-400-002"]
    spread = "{ " + " ".join(f"a{n}: __typename" for n in range(5000)) + " }"
    assert set(codes(graphql(client, search_token, spread))) == {"GQL-400-002"}
    with ctx.db.transaction() as session:
        assert session.scalars(select(SearchQuotaUse)).all() == [], "nothing ran"


def test_deep_and_fragment_bombs_are_refused(client: TestClient, search_token: str) -> None:
    deep = "{ searchEvents(advancedSearchParameters: {}) { results { registration { " \
           "assignment { firstName } } } } }"
    assert "errors" not in graphql(client, search_token, deep).json()
    nested = "__schema { types { " + "fields { type { " * MAX_DEPTH + "name" + " } }" * \
        MAX_DEPTH + " } }"
    assert codes(graphql(client, search_token, "{ " + nested + " }")) == ["GQL-400-002"]
    fragments = ["fragment F0 on Query { __typename }"] + [
        f"fragment F{n} on Query {{ ...F{n - 1} a{n}: __typename ...F{n - 1} }}"
        for n in range(1, 12)]
    bomb = "{ ...F11 } " + " ".join(fragments)
    response = graphql(client, search_token, bomb)
    assert response.status_code == 400 and "GQL-400-002" in codes(response)
    cycle = "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }"
    assert codes(graphql(client, search_token, cycle)) == ["GQL-400-001"]


def test_introspection_still_works(client: TestClient, search_token: str) -> None:
    response = graphql(client, search_token, get_introspection_query())
    assert response.status_code == 200, response.text
    names = {t["name"] for t in response.json()["data"]["__schema"]["types"]}
    assert {"AdvancedSearchParametersInput", "BirthEventSearchSet"} <= names
