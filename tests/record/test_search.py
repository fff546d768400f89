"""Record search finds notified records by names as people write them, numbers and dates."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi.testclient import TestClient

from crvshub.context import AppContext
from crvshub.record.search import Order, PersonCriteria, RecordQuery, Scope, find
from crvshub.search.service import VocabularyCache
from tests.notification.helpers import (
    HQ_OFFICE_ID,
    OFFICE_ID,
    example,
    fresh_ids,
    health_token,
    post,
)


def _birth(child: tuple[list[str], str], mother: tuple[list[str], str], born: str,
           mother_nid: str) -> dict[str, Any]:
    bundle = fresh_ids(example("birth-full"))
    patients = [e["resource"] for e in bundle["entry"]
                if e["resource"]["resourceType"] == "Patient"]
    patients[0]["name"] = [{"use": "en", "given": child[0], "family": child[1]}]
    patients[0]["birthDate"] = born
    patients[1]["name"] = [{"use": "en", "given": mother[0], "family": mother[1]}]
    patients[1]["identifier"][0]["value"] = mother_nid
    return bundle


def _notify(client: TestClient, ctx: AppContext) -> dict[str, str]:
    token = health_token(ctx)
    ids = {}
    for key, child, mother, born, nid in (
        ("john", (["John"], "Banda"), (["Grace"], "Banda"), "2026-01-05", "1111111111"),
        ("mohammed", (["Mohammed"], "Ali"), (["Fatima"], "Hassan"), "2026-01-06", "2222222222"),
        ("nguyen", (["Van", "An"], "Nguyen"), (["Thi", "Lan"], "Tran"), "2026-01-07", "3333333333"),
        ("mary", (["Mary", "Chisomo"], "Phiri"), (["Esther"], "Phiri"), "2026-01-08", "4444444444"),
        ("mary2", (["Mary"], "Phiri"), (["Ruth"], "Phiri"), "2025-03-02", "5555555555"),
    ):
        answer = post(client, token, _birth(child, mother, born, nid))
        assert answer.status_code == 200, answer.text
        ids[key] = answer.json()["entry"][0]["resource"]["id"]
    return ids


def _find(ctx: AppContext, query: RecordQuery, scope: Scope = Scope(), **kw: Any) -> list[str]:
    with ctx.db.transaction() as session:
        page = find(session, VocabularyCache(), query, scope, Order(), count=kw.get("count", 10),
                    skip=kw.get("skip", 0))
        return [r.id for r in page.records]


def test_names_are_found_as_people_write_them(client: TestClient, ctx: AppContext) -> None:
    ids = _notify(client, ctx)
    child = lambda name: RecordQuery(people=(PersonCriteria("child", name=name),))  # noqa: E731
    assert _find(ctx, child("Jon Banda")) == [ids["john"]]
    assert _find(ctx, child("BANDA john")) == [ids["john"]]
    assert _find(ctx, child("Muhammad Aly")) == [ids["mohammed"]]
    assert _find(ctx, child("محمد")) == [ids["mohammed"]]
    assert _find(ctx, child("An Nguyen")) == [ids["nguyen"]]
    assert _find(ctx, child("Nguyễn Văn An")) == [ids["nguyen"]]
    assert _find(ctx, child("Mary Phiri"))[0] == ids["mary2"], "the exact name ranks first"
    assert set(_find(ctx, child("Mary Phiri"))) == {ids["mary"], ids["mary2"]}
    assert _find(ctx, child("Mary Phiro"))[0] == ids["mary2"], "one typo"
    assert _find(ctx, child("Peter Phiri")) == []


def test_people_numbers_dates_and_scope(client: TestClient, ctx: AppContext) -> None:
    ids = _notify(client, ctx)
    mother = RecordQuery(people=(PersonCriteria("mother", name="Grace"),),
                         event_date=_span(date(2026, 1, 5), date(2026, 1, 5)))
    assert _find(ctx, mother) == [ids["john"]]
    assert _find(ctx, RecordQuery(national_id="2222222222")) == [ids["mohammed"]]
    assert _find(ctx, RecordQuery(people=(PersonCriteria("child", identifier="2222222222"),))) == []
    assert _find(ctx, RecordQuery(any_name="Esther")) == [ids["mary"]]
    assert _find(ctx, RecordQuery(events=("death",), any_name="Esther")) == []
    registered_only = Scope(statuses=frozenset({"REGISTERED", "CERTIFIED", "ISSUED"}))
    assert _find(ctx, RecordQuery(any_name="Esther"), registered_only) == []
    assert _find(ctx, RecordQuery(any_name="Esther"), Scope(office_ids=frozenset({OFFICE_ID})))
    assert _find(ctx, RecordQuery(any_name="Esther"), Scope(office_ids=frozenset({HQ_OFFICE_ID}))) == []
    assert len(_find(ctx, RecordQuery(), count=2)) == 2
    assert len(_find(ctx, RecordQuery(), count=10, skip=4)) == 1


def test_a_300_character_name_is_found(client: TestClient, ctx: AppContext) -> None:
    token = health_token(ctx)
    long_name = "Chisomo" + "a" * 293
    answer = post(client, token, _birth(([long_name], "Banda"), (["Grace"], "Banda"),
                                        "2026-01-05", "1111111111"))
    assert answer.status_code == 200, answer.text
    found = _find(ctx, RecordQuery(people=(PersonCriteria("child", name=long_name + " Banda"),)))
    assert found == [answer.json()["entry"][0]["resource"]["id"]]


def _span(start: date, end: date) -> Any:
    from crvshub.record.search import DateRange

    return DateRange(start, end)


def _staff_search(client: TestClient, ctx: AppContext, user: str, **params: Any) -> Any:
    from tests.helpers import bearer, user_token

    return client.get("/api/records/search", params=params,
                      headers=bearer(user_token(ctx, user)))


def test_staff_search_box_over_http(client: TestClient, ctx: AppContext) -> None:
    ids = _notify(client, ctx)
    answer = _staff_search(client, ctx, "r.olusinde", q="jon banda")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["total"] == 1 and body["results"][0]["id"] == ids["john"]
    tracking = body["results"][0]["trackingId"]
    by_tracking = _staff_search(client, ctx, "r.olusinde", q=tracking.lower()).json()
    assert [r["id"] for r in by_tracking["results"]] == [ids["john"]]
    by_nid = _staff_search(client, ctx, "r.olusinde", q="2222222222").json()
    assert [r["id"] for r in by_nid["results"]] == [ids["mohammed"]]
    dated = _staff_search(client, ctx, "r.olusinde", q="Phiri", **{"from": "2026-01-01"}).json()
    assert [r["id"] for r in dated["results"]] == [ids["mary"]]
    assert _staff_search(client, ctx, "g.lwendeza", q="jon banda").json()["total"] == 0, \
        "another office's registrar finds nothing of this office"
    assert _staff_search(client, ctx, "j.ndekwa", q="jon banda").json()["total"] == 1
    assert _staff_search(client, ctx, "r.olusinde", count=2).json()["total"] == 5


def test_staff_search_refuses_bad_input(client: TestClient, ctx: AppContext) -> None:
    for params in ({"count": 0}, {"count": 1000}, {"skip": -1}, {"from": "yesterday"},
                   {"event": "marriage"}, {"q": "x" * 201}):
        answer = _staff_search(client, ctx, "r.olusinde", **params)
        assert answer.status_code == 400, (params, answer.text)
    assert client.get("/api/records/search").status_code == 401
