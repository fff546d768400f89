"""Bad search input over /graphql: every mistake is a GraphQL error with a catalogue code."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from crvshub.context import AppContext
from tests.helpers import new_client
from tests.record.graphql_helpers import codes, graphql

FIND = """query ($p: AdvancedSearchParametersInput!, $count: Int, $skip: Int, $sortColumn: String,
  $sort: String, $sortBy: [SortBy!]) {
  searchEvents(advancedSearchParameters: $p, count: $count, skip: $skip,
               sortColumn: $sortColumn, sort: $sort, sortBy: $sortBy) { totalItems } }"""
BAD_VARIABLES: list[tuple[dict[str, Any], str | None]] = [
    ({"p": {"unknownField": "x"}}, "GQL-400-001"),
    ({"p": {"trackingId": 12}}, "GQL-400-001"),
    ({"p": {}, "count": "ten"}, "GQL-400-001"),
    ({"p": {}, "count": 101}, "SEARCH-400-010"),
    ({"p": {}, "count": -1}, "SEARCH-400-010"),
    ({"p": {}, "skip": -1}, "SEARCH-400-010"),
    ({"p": {"dateOfEvent": "2022-13-45"}}, "SEARCH-400-010"),
    ({"p": {"dateOfEvent": "yesterday"}}, "SEARCH-400-010"),
    ({"p": {"dateOfRegistrationStart": "2022-01-01"}}, "SEARCH-400-010"),
    ({"p": {"childDoBEnd": "2022-01-01"}}, "SEARCH-400-010"),
    ({"p": {"dateOfEventStart": "2022-02-01", "dateOfEventEnd": "2022-01-01"}},
     "SEARCH-400-010"),
    ({"p": {"timePeriodFrom": "2022-01-01T00:00:00"}}, "SEARCH-400-010"),
    ({"p": {"registrationStatuses": ["NOT_A_STATUS"]}}, "SEARCH-400-010"),
    ({"p": {"event": "divorce"}}, "SEARCH-400-010"),
    ({"p": {}, "sortColumn": "password"}, "SEARCH-400-010"),
    ({"p": {"trackingId": "B" * 256}}, "SEARCH-400-010"),
    ({"p": {"name": " ".join(["Mary"] * 11)}}, "SEARCH-400-010"),
    ({"p": {"childFirstNames": "A B C D E F", "childLastName": "G H I J K"}}, "SEARCH-400-010"),
    ({"p": {"registrationStatuses": ["REGISTERED"] * 21}}, "SEARCH-400-010"),
    ({"p": {"compositionType": ["birth-declaration"] * 21}}, "SEARCH-400-010"),
    ({"p": {"registrationStatuses": [None]}}, None),
    ({"p": {}, "sort": "sideways"}, "SEARCH-400-010"),
    ({"p": {}, "sortBy": [{"column": "createdAt", "order": "up"}]}, "SEARCH-400-010"),
]


@pytest.fixture
def search_token(ctx: AppContext) -> str:
    """Return a RECORD_SEARCH client token."""
    return new_client(ctx, "RECORD_SEARCH", daily_quota=1000)[1]


def test_every_bad_parameter_gets_a_coded_error(client: TestClient, search_token: str) -> None:
    for variables, code in BAD_VARIABLES:
        response = graphql(client, search_token, FIND, variables)
        assert response.status_code in (200, 400), response.text
        assert codes(response) == ([code] if code else []), (variables, response.text)
        if code == "SEARCH-400-010":
            error = response.json()["errors"][0]
            assert error["extensions"]["expression"] and error["message"]


def test_unknown_query_fields_and_arguments_are_refused(client: TestClient,
                                                        search_token: str) -> None:
    for document in ("{ searchEvents { totalItems } }",
                     '{ searchEvents(advancedSearchParameters: {}, limit: 5) { totalItems } }',
                     '{ searchEvents(advancedSearchParameters: {}) { password } }',
                     "{ searchEvents(advancedSearchParameters: {}) { totalItems }"):
        response = graphql(client, search_token, document)
        assert response.status_code == 400 and codes(response) == ["GQL-400-001"], document
