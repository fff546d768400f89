"""POST /registry/sync/search: identifiers, predicates, batches, paging, quota and audit."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from crvshub.context import AppContext
from crvshub.record.models import RecordAction
from tests.dci import schema
from tests.dci.helpers import (
    death_bundle,
    item,
    post,
    registered_birth,
    registration_number,
    search_body,
    sp_client,
    verify_server_signature,
)
from tests.record.graphql_helpers import birth, notify, register

SYNC = "/registry/sync/search"


def _search(client: TestClient, token: str, sender: str, *items: dict) -> dict:
    body = search_body(sender, *items)
    schema.request(SYNC, body)
    answer = post(client, token, SYNC, body)
    assert answer.status_code == 200, answer.text
    schema.response(SYNC, answer.json())
    return dict(answer.json())


def test_search_by_brn_returns_the_person_record_signed(client: TestClient,
                                                       ctx: AppContext) -> None:
    record_id = registered_birth(client, ctx, child="Tendai", mother_nid="1234567890")
    brn = registration_number(ctx, record_id)
    _, sender, token = sp_client(ctx)
    body = _search(client, token, sender, item("idtype-value", {"type": "BRN", "value": brn}))
    assert body["header"]["action"] == "on-search"
    assert body["header"]["status"] == "succ"
    assert body["header"]["completed_count"] == 1
    assert body["header"]["receiver_id"] == sender
    answer = body["message"]["search_response"][0]
    assert answer["status"] == "succ" and answer["reference_id"] == "r1"
    assert answer["pagination"] == {"page_size": 10, "page_number": 1, "total_count": 1}
    person = answer["data"]["reg_records"][0]
    assert person["@type"] == "CRVS_Person"
    assert {"identifier_type": "BRN", "identifier_value": brn, "@type": "Identifier"} in \
        person["identifier"]
    assert person["name"]["given_name"] == "Tendai"
    assert person["parent1_identifier"]["identifier_value"] == "1234567890"
    assert answer["data"]["reg_record_type"] == "spdci-extensions-dci:CRVSPerson"
    # The signature is a JWS by a published key (Ed25519), covering the header and message.
    verify_server_signature(client, body)


def test_only_registered_records_and_every_item_answers(client: TestClient,
                                                       ctx: AppContext) -> None:
    registered_birth(client, ctx, child="Amara", born="2020-03-01")
    notify(client, ctx, birth(child="Amara", born="2020-03-02"))  # notified, not registered
    _, sender, token = sp_client(ctx)
    body = _search(
        client, token, sender,
        item("predicate", [{"seq_num": 1, "expression1": {
            "attribute_name": "name", "operator": "eq", "attribute_value": "Amarah"}}],
             reference="fuzzy"),
        item("idtype-value", {"type": "BRN", "value": "NOPE"}, reference="none"),
        item("predicate", [{"expression1": {"attribute_name": "shoe_size", "operator": "eq",
                                            "attribute_value": "9"}}], reference="bad"),
    )
    answers = {a["reference_id"]: a for a in body["message"]["search_response"]}
    assert len(answers["fuzzy"]["data"]["reg_records"]) == 1, "fuzzy name, registered only"
    assert answers["none"]["status"] == "succ" and answers["none"]["data"]["reg_records"] == []
    assert answers["bad"]["status"] == "rjct"
    assert answers["bad"]["status_reason_code"] == "rjct.search_criteria.invalid"
    assert "shoe_size" in answers["bad"]["status_reason_message"]


def test_predicates_on_dates_sex_and_death(client: TestClient, ctx: AppContext) -> None:
    registered_birth(client, ctx, child="Ana", gender="female", born="2019-05-05")
    registered_birth(client, ctx, child="Ben", gender="male", born="2021-01-10")
    death_id = notify(client, ctx, death_bundle("Peter", "5555000011"))
    register(client, ctx, death_id)
    _, sender, token = sp_client(ctx)

    def names(*predicates: tuple[str, str, str], event: str | None = None) -> list[str]:
        criteria = {"reg_event_type": event} if event else {}
        query = [{"seq_num": i, "expression1": {"attribute_name": a, "operator": o,
                                                "attribute_value": v}}
                 for i, (a, o, v) in enumerate(predicates)]
        body = _search(client, token, sender, item("predicate", query, **criteria))
        return sorted(r["name"]["given_name"]
                      for r in body["message"]["search_response"][0]["data"]["reg_records"])

    assert names(("birthdate", "ge", "2019-01-01"), ("birthdate", "lt", "2021-01-10")) == ["Ana"]
    assert names(("birthdate", "ge", "2019-01-01"), ("birthdate", "le", "2021-01-10")) == \
        ["Ana", "Ben"]
    assert names(("birthdate", "gt", "2019-05-05")) == ["Ben"]
    assert names(("birthdate", "eq", "2019-05-05")) == ["Ana"]
    assert names(("sex", "eq", "male"), ("birthdate", "ge", "2018-01-01")) == ["Ben"]
    death_type = "spdci-common:RegistryEventType:Death"
    assert names(("deathdate", "ge", "2026-01-01"), event=death_type) == ["Peter"]
    assert names(("UIN", "eq", "5555000011"), event=death_type) == ["Peter"]
    body = _search(client, token, sender, item("idtype-value",
                                                {"type": "UIN", "value": "5555000011"}))
    person = body["message"]["search_response"][0]["data"]["reg_records"][0]
    assert person["death_date"] == "2026-01-06"
    assert {"identifier_type": "UIN", "identifier_value": "5555000011",
            "@type": "Identifier"} in person["identifier"]


def test_expression_query_and_paging_and_sort(client: TestClient, ctx: AppContext) -> None:
    for day, mother in (("01", "Ruth"), ("10", "Grace"), ("20", "Esther")):
        registered_birth(client, ctx, child="Chipo", born=f"2022-02-{day}", mother=mother,
                         mother_nid=f"77{day}000000")
    _, sender, token = sp_client(ctx)
    expression = {"type": "crvshub:QueryType:Simple",
                  "value": {"expression": "name eq Chipo and birthdate ge 2022-02-01"}}
    sort = [{"attribute_name": "birthdate", "sort_order": "desc"}]
    body = _search(client, token, sender, item(
        "expression", expression, sort=sort, pagination={"page_size": 2, "page_number": 2}))
    answer = body["message"]["search_response"][0]
    assert answer["pagination"] == {"page_size": 2, "page_number": 2, "total_count": 3}
    assert [r["birth_date"] for r in answer["data"]["reg_records"]] == ["2022-02-01"]
    bad = _search(client, token, sender, item("idtype-value", {"type": "BRN", "value": "x"},
                                              pagination={"page_size": 1000}))
    assert bad["message"]["search_response"][0]["status_reason_code"] == \
        "rjct.pagination.invalid"
    bad = _search(client, token, sender, item("idtype-value", {"type": "BRN", "value": "x"},
                                              sort=[{"attribute_name": "shoe"}]))
    assert bad["message"]["search_response"][0]["status_reason_code"] == "rjct.sort.invalid"


def test_quota_counts_each_item_and_every_record_returned_is_audited(
        client: TestClient, ctx: AppContext) -> None:
    record_id = registered_birth(client, ctx, child="Dumi")
    brn = registration_number(ctx, record_id)
    _, sender, token = sp_client(ctx, quota=3)
    query = {"type": "BRN", "value": brn}
    _search(client, token, sender, item("idtype-value", query, "a"),
            item("idtype-value", query, "b"))
    with ctx.db.transaction() as session:
        audited = session.scalars(select(RecordAction).where(
            RecordAction.action == "retrieved", RecordAction.record_id == record_id)).all()
        assert len(audited) == 2 and audited[0].data["client_id"] == sender
    refused = post(client, token, SYNC, search_body(sender, item("idtype-value", query, "c"),
                                                    item("idtype-value", query, "d")))
    assert refused.status_code == 429
    schema.error(refused.json())
    assert refused.json()["message"]["error"]["code"] == "err.request.too_many_requests"
    assert _search(client, token, sender, item("idtype-value", query, "e"))


def test_the_standards_sample_request_is_answered(client: TestClient, ctx: AppContext) -> None:
    from tests.dci.helpers import now_ts, sample

    _, sender, token = sp_client(ctx)
    for name in ("processflow1req", "processflow2req", "processflow3req"):
        body = sample(name)
        body["header"]["sender_id"] = sender
        body["header"]["message_ts"] = now_ts()
        body["message"]["search_request"][0]["reference_id"] = "sample"
        del body["signature"]  # the sample's placeholder: signed with the client's key
        answer = post(client, token, SYNC, body)
        assert answer.status_code == 200, (name, answer.text)
        schema.response(SYNC, answer.json())
        assert answer.json()["message"]["search_response"][0]["status"] == "succ", answer.text


def test_a_predicate_page_is_the_newest_matches_and_the_total_is_capped(
        client: TestClient, ctx: AppContext, monkeypatch: Any) -> None:
    from crvshub.record import search as record_search

    for i, (child, gender) in enumerate((("Ama", "female"), ("Bea", "female"), ("Cy", "male"),
                                         ("Dee", "female"), ("Eve", "female"))):
        record_id = notify(client, ctx, birth(child=child, gender=gender,
                                              born=f"2023-02-0{i + 1}"))
        register(client, ctx, record_id, created=datetime(2023, 3, 1 + i, tzinfo=UTC))
    registered_birth(client, ctx, child="Fay", gender="female", born="2023-04-01")
    _, sender, token = sp_client(ctx)
    query = [{"seq_num": 1, "expression1": {"attribute_name": "birthdate", "operator": "ge",
                                            "attribute_value": "2023-02-01"},
              "condition": "and",
              "expression2": {"attribute_name": "birthdate", "operator": "lt",
                              "attribute_value": "2023-03-01"}},
             {"seq_num": 2, "expression1": {"attribute_name": "sex", "operator": "eq",
                                            "attribute_value": "female"}}]

    def page(number: int) -> tuple[list[str], int]:
        body = _search(client, token, sender, item(
            "predicate", query, pagination={"page_size": 2, "page_number": number}))
        answer = body["message"]["search_response"][0]
        return ([r["name"]["given_name"] for r in answer["data"]["reg_records"]],
                answer["pagination"]["total_count"])

    # Newest registration first, page after page; the total counts every match.
    assert [page(n) for n in (1, 2, 3)] == [(["Eve", "Dee"], 4), (["Bea", "Ama"], 4), ([], 4)]
    # The total is counted no further than the cap (10,000; here 3): 3 means "3 or more".
    monkeypatch.setattr(record_search, "COUNT_CAP", 3)
    assert page(1) == (["Eve", "Dee"], 3)
