"""Arrange notified and registered records for the GraphQL record search tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from crvshub.context import AppContext
from crvshub.record.models import Record
from crvshub.search.models import SearchTerm
from tests.helpers import LOCAL_REGISTRAR, bearer, user_token
from tests.notification.helpers import example, fresh_ids, health_token, post
from tests.record.helpers import act

# The search document of OpenCRVS's Record-Search.postman_collection.json, unchanged.
POSTMAN_QUERY = (
    "query searchEvents($advancedSearchParameters: AdvancedSearchParametersInput!, $sort: "
    "String, $count: Int, $skip: Int) {\nsearchEvents(\n  advancedSearchParameters: "
    "$advancedSearchParameters\n  sort: $sort\n  count: $count\n  skip: $skip\n) {\n  "
    "totalItems\n  results {\n    id\n    type\n    registration {\n      status\n      "
    "contactNumber\n      trackingId\n      registrationNumber\n      registeredLocationId\n"
    "      duplicates\n      assignment {\n        practitionerId\n        firstName\n        "
    "lastName\n        officeName\n        __typename\n      }\n      createdAt\n      "
    "modifiedAt\n      __typename\n    }\n    operationHistories {\n      operationType\n      "
    "operatedOn\n      operatorRole\n      operatorName {\n        firstNames\n        "
    "familyName\n        use\n        __typename\n      }\n      operatorOfficeName\n      "
    "operatorOfficeAlias\n      notificationFacilityName\n      notificationFacilityAlias\n"
    "      rejectReason\n      rejectComment\n      __typename\n    }\n    ... on "
    "BirthEventSearchSet {\n      dateOfBirth\n      childName {\n        firstNames\n        "
    "familyName\n        use\n        __typename\n      }\n      __typename\n    }\n    ... on "
    "DeathEventSearchSet {\n      dateOfDeath\n      deceasedName {\n        firstNames\n        "
    "familyName\n        use\n        __typename\n      }\n      __typename\n    }\n    "
    "__typename\n  }\n  __typename\n}}"
)
IN_2022 = datetime(2022, 3, 1, 9, 30, tzinfo=UTC)


def postman_parameters(office_id: str, facility_id: str) -> dict[str, Any]:
    """Return the collection's `advancedSearchParameters` with its two location variables."""
    return {"event": "birth", "registrationStatuses": ["REGISTERED"], "childGender": "male",
            "dateOfRegistrationEnd": "2022-12-31T23:59:59.999Z",
            "dateOfRegistrationStart": "2021-11-01T00:00:00.000Z",
            "declarationJurisdictionId": office_id, "eventLocationId": facility_id,
            "fatherFirstNames": "Dad", "motherFirstNames": "Mom"}


def birth(child: str = "Tendai", mother: str = "Mom", father: str = "Dad",
          gender: str = "male", born: str = "2021-06-01", mother_nid: str = "1234567890",
          ) -> dict[str, Any]:
    """Return a full birth notification with the names, gender and dates given."""
    bundle = fresh_ids(example("birth-full"))
    patients = [e["resource"] for e in bundle["entry"]
                if e["resource"]["resourceType"] == "Patient"]
    patients[0]["name"] = [{"use": "en", "given": [child], "family": "Mwale"}]
    patients[0]["gender"], patients[0]["birthDate"] = gender, born
    patients[1]["name"] = [{"use": "en", "given": [mother], "family": "Mwale"}]
    patients[1]["identifier"][0]["value"] = mother_nid
    patients[2]["name"] = [{"use": "en", "given": [father], "family": "Mwale"}]
    patients[2]["identifier"][0]["value"] = mother_nid[::-1]
    return bundle


def notify(client: TestClient, ctx: AppContext, bundle: dict[str, Any]) -> str:
    """Send a notification and return the new record's id."""
    answer = post(client, health_token(ctx), bundle)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["entry"][0]["resource"]["id"])


def register(client: TestClient, ctx: AppContext, record_id: str,
             created: datetime = IN_2022) -> None:
    """Register a declared record through the staff API, then date its declaration."""
    answer = act(client, user_token(ctx, LOCAL_REGISTRAR), record_id, "register")
    assert answer.status_code == 200, answer.text
    set_columns(ctx, record_id, created_at=created)


def set_columns(ctx: AppContext, record_id: str, **values: Any) -> None:
    """Change record columns directly (dates and offices a test needs); a declaration time
    is also the one its search postings carry."""
    with ctx.db.transaction() as session:
        session.execute(update(Record).where(Record.id == record_id).values(**values))
        if "created_at" in values:
            session.execute(update(SearchTerm).where(SearchTerm.record_id == record_id)
                            .values(declared=values["created_at"]))


def graphql(client: TestClient, token: str, query: str,
            variables: dict[str, Any] | None = None) -> Any:
    """POST a GraphQL document and return the response."""
    return client.post("/graphql", json={"query": query, "variables": variables or {}},
                       headers=bearer(token))


def codes(response: Any) -> list[str]:
    """Return the error codes of a GraphQL response."""
    return [e["extensions"]["code"] for e in response.json().get("errors", [])]
