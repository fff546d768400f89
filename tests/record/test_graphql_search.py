"""OpenCRVS `searchEvents` over /graphql: the Postman document, every parameter group, scope."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from crvshub.context import AppContext
from crvshub.location.domain import stable_location_id
from tests.helpers import (
    DORONGO_OFFICE_SID,
    LOCAL_REGISTRAR,
    LOCAL_REGISTRAR_OTHER_OFFICE,
    NATIONAL_REGISTRAR,
    new_client,
    user_token,
)
from tests.notification.helpers import (
    DISTRICT_ID,
    FACILITY_ID,
    OFFICE_ID,
    OTHER_STATE_ID,
    STATE_ID,
    example,
    fresh_ids,
)
from tests.record.graphql_helpers import (
    POSTMAN_QUERY,
    birth,
    codes,
    graphql,
    notify,
    postman_parameters,
    register,
    set_columns,
)
from tests.record.helpers import act

DORONGO_OFFICE_ID = stable_location_id("FAR", DORONGO_OFFICE_SID)
FIND = """query ($p: AdvancedSearchParametersInput!, $count: Int, $skip: Int, $sortColumn: String,
  $sort: String) {
  searchEvents(advancedSearchParameters: $p, count: $count, skip: $skip,
               sortColumn: $sortColumn, sort: $sort) {
    totalItems results { id type registration { status trackingId registrationNumber } } } }"""


def _arrange(client: TestClient, ctx: AppContext) -> dict[str, str]:
    ids = {
        "a": notify(client, ctx, birth(child="Tendai", born="2022-01-08")),
        "b": notify(client, ctx, birth(child="Chisomo", born="2022-02-10", mother_nid="5555555555")),
        "girl": notify(client, ctx, birth(child="Grace", gender="female")),
        "grace_mother": notify(client, ctx, birth(child="Peter", mother="Grace")),
        "late": notify(client, ctx, birth(child="Late")),
        "other_office": notify(client, ctx, birth(child="Away")),
        "declared": notify(client, ctx, birth(child="Waiting")),
    }
    for key in ("a", "b", "girl", "grace_mother", "late", "other_office"):
        register(client, ctx, ids[key])
    set_columns(ctx, ids["late"], created_at=datetime(2023, 1, 2, tzinfo=UTC))
    set_columns(ctx, ids["other_office"], office_id=DORONGO_OFFICE_ID)
    return ids


def _client_token(ctx: AppContext, **kwargs: Any) -> str:
    return new_client(ctx, "RECORD_SEARCH", name="Search partner", **kwargs)[1]


def _found(client: TestClient, token: str, params: dict[str, Any], **variables: Any,
           ) -> list[str]:
    response = graphql(client, token, FIND, {"p": params, **variables})
    assert response.status_code == 200 and "errors" not in response.json(), response.text
    found = response.json()["data"]["searchEvents"]
    assert found["totalItems"] >= len(found["results"])
    return [r["id"] for r in found["results"]]


def test_postman_document_returns_the_registered_births_asked_for(
        client: TestClient, ctx: AppContext) -> None:
    ids = _arrange(client, ctx)
    token = _client_token(ctx)
    response = client.post("/graphql", headers={"authorization": f"Bearer {token}"}, json={
        "operationName": "searchEvents", "query": POSTMAN_QUERY,
        "variables": {"advancedSearchParameters": postman_parameters(OFFICE_ID, FACILITY_ID),
                      "count": 10, "skip": 0}})
    assert response.status_code == 200, response.text
    body = response.json()["data"]["searchEvents"]
    assert body["totalItems"] == 2
    assert {r["id"] for r in body["results"]} == {ids["a"], ids["b"]}
    hit = next(r for r in body["results"] if r["id"] == ids["a"])
    assert hit["type"] == "Birth" and hit["__typename"] == "BirthEventSearchSet"
    assert hit["dateOfBirth"] == "2022-01-08"
    assert hit["childName"] == [{"firstNames": "Tendai", "familyName": "Mwale", "use": "en",
                                 "__typename": "HumanName"}]
    registration = hit["registration"]
    assert registration["status"] == "REGISTERED"
    assert registration["registeredLocationId"] == OFFICE_ID
    assert registration["createdAt"] == str(int(datetime(2022, 3, 1, 9, 30,
                                                         tzinfo=UTC).timestamp() * 1000))
    assert registration["registrationNumber"] and registration["trackingId"]
    assert registration["assignment"] is None
    operations = [o["operationType"] for o in hit["operationHistories"]]
    assert operations == ["DECLARED", "REGISTERED"]
    registered = hit["operationHistories"][1]
    assert registered["operatorRole"] == "LOCAL_REGISTRAR"
    assert registered["operatorOfficeName"] == "Harambo District Office"


def test_record_search_clients_only_see_registered_certified_issued(
        client: TestClient, ctx: AppContext) -> None:
    ids = _arrange(client, ctx)
    token = _client_token(ctx)
    declared = {"registrationStatuses": ["DECLARED"], "childFirstNames": "Waiting"}
    assert _found(client, token, declared) == []
    staff = user_token(ctx, LOCAL_REGISTRAR)
    assert _found(client, staff, declared) == [ids["declared"]]


def test_every_parameter_group(client: TestClient, ctx: AppContext) -> None:
    ids = _arrange(client, ctx)
    token = user_token(ctx, NATIONAL_REGISTRAR)
    find = lambda **p: set(_found(client, token, p))  # noqa: E731
    with ctx.db.transaction() as session:
        from crvshub.record.models import Record
        a = session.get(Record, ids["a"])
        assert a is not None
        tracking, number, contact = a.tracking_id, a.registration_number, a.contact_number
    registered = set(ids) - {"declared"}
    assert find(trackingId=tracking) == {ids["a"]}
    assert find(registrationNumber=number) == {ids["a"]}
    assert find(recordId=ids["b"]) == {ids["b"]}
    assert find(nationalId="5555555555") == {ids["b"]}
    assert find(motherIdentifier="5555555555") == {ids["b"]}
    assert find(childIdentifier="5555555555") == set()
    assert ids["a"] in find(contactNumber=contact)
    assert find(dateOfEvent="2022-02-10") == {ids["b"]}
    assert find(dateOfEventStart="2022-01-01", dateOfEventEnd="2022-01-31") == {ids["a"]}
    assert find(childDoBStart="2022-02-01", childDoBEnd="2022-02-28") == {ids["b"]}
    assert find(childDoB="2022-01-08") == {ids["a"]}
    assert find(motherDoB="1994-09-17", childFirstNames="Chisomo") == {ids["b"]}
    # A name with a more precise criterion is probed on the records that criterion finds.
    assert find(childDoB="2022-01-08", childFirstNames="Tendai") == {ids["a"]}
    assert find(childDoB="2022-01-08", childFirstNames="Tendaj", childLastName="Mwale") == {
        ids["a"]}, "one typo"
    assert find(childDoB="2022-01-08", childFirstNames="Chisomo") == set()
    assert find(childDoB="2022-01-08", motherFirstNames="Tendai") == set(), "another role"
    assert find(dateOfRegistrationStart="2022-01-01", dateOfRegistrationEnd="2022-12-31",
                registrationStatuses=["REGISTERED"]) == {ids[k] for k in registered - {"late"}}
    in_2022 = find(dateOfRegistrationStart="2022-01-01T00:00:00Z",
                   dateOfRegistrationEnd="2022-12-31T23:59:59Z")
    assert in_2022 == {ids[k] for k in registered if k != "late"}
    assert find(dateOfRegistration="2023-01-02") == {ids["late"]}
    assert find(childGender="female") == {ids["girl"]}
    assert find(childFirstNames="Tendai", childLastName="Mwale") == {ids["a"]}
    assert find(childFirstNames="Tendaj") == {ids["a"]}, "one typo"
    assert find(motherFirstNames="Grace") == {ids["grace_mother"]}
    assert find(name="Grace") == {ids["girl"], ids["grace_mother"]}
    assert find(fatherFirstNames="Dad", childFirstNames="Away") == {ids["other_office"]}
    assert find(informantFirstNames="Nobody") == set()
    assert ids["other_office"] not in find(declarationLocationId=OFFICE_ID)
    assert find(declarationLocationId=DORONGO_OFFICE_ID) == {ids["other_office"]}
    harambo = find(declarationJurisdictionId=STATE_ID)
    assert ids["a"] in harambo and ids["other_office"] not in harambo
    assert find(declarationJurisdictionId=OTHER_STATE_ID) == {ids["other_office"]}
    assert find(declarationJurisdictionId=OFFICE_ID) == set(ids.values()) - {ids["other_office"]}
    assert find(declarationJurisdictionId=DISTRICT_ID, declarationLocationId=OFFICE_ID) == (
        set(ids.values()) - {ids["other_office"]})
    assert ids["a"] in find(eventLocationId=FACILITY_ID)
    assert ids["a"] in find(eventLocationLevel1=STATE_ID, eventLocationLevel2=DISTRICT_ID)
    assert find(eventLocationLevel1=OTHER_STATE_ID) == set()
    assert ids["a"] in find(eventCountry="FAR")
    assert find(eventCountry="XYZ") == set()
    assert ids["a"] in find(compositionType=["birth-declaration", "birth-notification"])
    assert find(event="death", childFirstNames="Tendai") == set()
    assert find(event="marriage") == set()
    assert find(brideFirstNames="Tendai") == set()
    assert find(timePeriodFrom="2000-01-01T00:00:00Z", childFirstNames="Tendai") == {ids["a"]}


def test_death_date_is_the_date_of_event_for_deaths(client: TestClient, ctx: AppContext) -> None:
    death = fresh_ids(example("death-full"))
    record_id = notify(client, ctx, death)
    token = user_token(ctx, LOCAL_REGISTRAR)
    with ctx.db.transaction() as session:
        from crvshub.record.models import Record
        found = session.get(Record, record_id)
        assert found is not None and found.event_date is not None
        day = found.event_date.isoformat()
    assert _found(client, token, {"dateOfEvent": day, "event": "death"}) == [record_id]
    response = graphql(client, token, """query ($p: AdvancedSearchParametersInput!) {
      searchEvents(advancedSearchParameters: $p) { results { __typename
        ... on DeathEventSearchSet { dateOfDeath deceasedName { firstNames } } } } }""",
                       {"p": {"dateOfEventStart": day, "dateOfEventEnd": day}})
    result = response.json()["data"]["searchEvents"]["results"]
    assert result[0]["__typename"] == "DeathEventSearchSet" and result[0]["dateOfDeath"] == day


def test_paging_and_sorting(client: TestClient, ctx: AppContext) -> None:
    ids = _arrange(client, ctx)
    token = _client_token(ctx)
    asked = {"fatherFirstNames": "Dad"}
    everything = _found(client, token, asked, count=100)
    assert len(everything) == 6
    first = _found(client, token, asked, count=2, skip=0, sortColumn="dateOfBirth", sort="asc")
    second = _found(client, token, asked, count=2, skip=2, sortColumn="dateOfBirth", sort="asc")
    assert len(first) == 2 and len(second) == 2 and not set(first) & set(second)
    newest = _found(client, token, asked, count=1, sortColumn="dateOfDeclaration", sort="desc")
    assert newest == [ids["late"]]


def test_staff_search_within_their_office(client: TestClient, ctx: AppContext) -> None:
    ids = _arrange(client, ctx)
    other = user_token(ctx, LOCAL_REGISTRAR_OTHER_OFFICE)
    assert _found(client, other, {"childFirstNames": "Tendai"}) == []
    assert _found(client, other, {"childFirstNames": "Away"}) == [ids["other_office"]]
    national = user_token(ctx, NATIONAL_REGISTRAR)
    assert _found(client, national, {"childFirstNames": "Away"}) == [ids["other_office"]]
    local = user_token(ctx, LOCAL_REGISTRAR)
    assert _found(client, local, {"childFirstNames": "Away"}) == []
    empty = graphql(client, local, FIND, {"p": {}})
    assert codes(empty) == ["SEARCH-400-011"]
    _, health = new_client(ctx, "HEALTH")
    refused = graphql(client, health, FIND, {"p": {"trackingId": "B1234567"}})
    assert refused.status_code == 200 and codes(refused) == ["AUTH-403-001"]


def test_a_name_is_ranked_and_counted_within_the_callers_scope(
        client: TestClient, ctx: AppContext) -> None:
    # A name alone is ranked from its postings (record.search._ranked): best match, then
    # newest, paged and counted after the caller's offices and statuses are applied.
    def tendai(child: str, year: int) -> str:  # born years apart: no duplicate flags
        return notify(client, ctx, birth(child=child, born=f"{year}-06-01",
                                         mother_nid=f"{year}000000"))

    exact = [tendai("Tendai", year) for year in (2014, 2015, 2016)]
    typo = tendai("Tendia", 2017)
    away = tendai("Tendai", 2018)
    for record_id in (*exact, typo, away):
        register(client, ctx, record_id)
    set_columns(ctx, away, office_id=DORONGO_OFFICE_ID)
    declared = tendai("Tendai", 2019)
    national = user_token(ctx, NATIONAL_REGISTRAR)
    pages = [graphql(client, national, FIND, {"p": {"name": "Tendai Mwale"}, "count": 2,
                                              "skip": skip}).json()["data"]["searchEvents"]
             for skip in (0, 2, 4, 6)]
    assert [p["totalItems"] for p in pages] == [6, 6, 6, 6]
    ranked = [r["id"] for p in pages for r in p["results"]]
    assert set(ranked[:5]) == {*exact, away, declared} - {ranked[5]} and ranked[5:] == [typo]
    jurisdiction = {"name": "Tendai Mwale", "declarationJurisdictionId": DISTRICT_ID}
    assert set(_found(client, national, jurisdiction)[:4]) == {*exact, declared}
    local = user_token(ctx, LOCAL_REGISTRAR)
    assert away not in _found(client, local, {"name": "Tendai Mwale"})
    statuses = {"name": "Tendai Mwale", "registrationStatuses": ["DECLARED"]}
    assert _found(client, national, statuses) == [declared]
    partner = _client_token(ctx)
    found = graphql(client, partner, FIND, {"p": {"name": "Tendai Mwale"}, "count": 1}).json()
    assert found["data"]["searchEvents"]["totalItems"] == 5, "registered only, counted"


def test_history_assignment_and_duplicates_are_given_however_the_document_asks(
        client: TestClient, ctx: AppContext) -> None:
    # A search reads a record's history, assignment and duplicates only when the document
    # asks for them: asked through named and inline fragments, they are given all the same.
    ids = _arrange(client, ctx)
    national = user_token(ctx, NATIONAL_REGISTRAR)
    assert act(client, national, ids["a"], "assign").status_code == 200
    through_fragments = """
      fragment Ops on EventSearchSet { operationHistories { operationType } }
      fragment Reg on EventSearchSet {
        registration { duplicates assignment { firstName lastName } } }
      query ($p: AdvancedSearchParametersInput!) {
        searchEvents(advancedSearchParameters: $p) {
          totalItems results { id ...Ops ... on BirthEventSearchSet { ...Reg } } } }"""
    response = graphql(client, national, through_fragments, {"p": {"childFirstNames": "Tendai"}})
    assert response.status_code == 200 and "errors" not in response.json(), response.text
    [hit] = response.json()["data"]["searchEvents"]["results"]
    assert [o["operationType"] for o in hit["operationHistories"]] == ["DECLARED", "REGISTERED"]
    assert hit["registration"]["assignment"]["lastName"]
    assert hit["registration"]["duplicates"] is None
    only_ids = graphql(client, national, FIND, {"p": {"childFirstNames": "Tendai"}})
    assert [r["id"] for r in only_ids.json()["data"]["searchEvents"]["results"]] == [ids["a"]]
