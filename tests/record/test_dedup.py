"""Potential duplicates over HTTP: flagged on arrival, explained, resolved both ways."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event

from crvshub.context import AppContext
from crvshub.record.dedup import date_window
from crvshub.search.dedup import MIN_DATE, date_similarity
from tests.helpers import LOCAL_REGISTRAR, LOCAL_REGISTRAR_OTHER_OFFICE, bearer, user_token
from tests.notification.helpers import example, fresh_ids, health_token, post
from tests.record.helpers import act, birth_bundle, declare, issue_code


def _child(bundle: dict[str, Any]) -> dict[str, Any]:
    return next(e["resource"] for e in bundle["entry"]
                if e["resource"].get("resourceType") == "Patient")


def _notify(client: TestClient, ctx: AppContext, given: list[str]) -> str:
    bundle = fresh_ids(example("birth-full"))
    _child(bundle)["name"][0]["given"] = given
    response = post(client, health_token(ctx), bundle)
    assert response.status_code == 200, response.text
    return str(response.headers["location"].rsplit("/", 1)[1])


def _duplicates(client: TestClient, token: str, rid: str) -> dict[str, Any]:
    response = client.get(f"/api/records/{rid}/duplicates", headers=bearer(token))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


SEARCH_DUPLICATES = """query ($p: AdvancedSearchParametersInput!) {
  searchEvents(advancedSearchParameters: $p) { results { id registration { duplicates } } } }"""


def _search_duplicates(client: TestClient, token: str, tracking_id: str) -> Any:
    """Return `registration.duplicates` of a record found by tracking id over /graphql."""
    response = client.post("/graphql", headers=bearer(token), json={
        "query": SEARCH_DUPLICATES, "variables": {"p": {"trackingId": tracking_id}}})
    assert response.status_code == 200, response.text
    [hit] = response.json()["data"]["searchEvents"]["results"]
    return hit["registration"]["duplicates"]


def _tracking_id(client: TestClient, token: str, rid: str) -> str:
    return str(client.get(f"/api/records/{rid}", headers=bearer(token)).json()["trackingId"])


def _registered_original(client: TestClient, ctx: AppContext) -> tuple[str, str]:
    registrar = user_token(ctx, LOCAL_REGISTRAR)
    original = _notify(client, ctx, ["Tendai", "Joy"])
    assert _duplicates(client, registrar, original)["flagged"] is False
    registered = act(client, registrar, original, "register")
    assert registered.status_code == 200, registered.text
    return registrar, original


def test_a_notification_duplicating_a_registered_birth_is_flagged_and_explained(
        client: TestClient, ctx: AppContext) -> None:
    registrar, original = _registered_original(client, ctx)
    copy = _notify(client, ctx, ["Tendia", "Joy"])  # a typo in the child's name
    body = _duplicates(client, registrar, copy)
    assert body["flagged"] is True and body["flag"] == "FLAGGED_AS_POTENTIAL_DUPLICATE"
    [dup] = body["duplicates"]
    assert dup["candidateId"] == original and dup["status"] == "REGISTERED"
    by_field = {m["field"]: m for m in dup["matches"]}
    assert by_field["name"]["strength"] in ("very similar", "similar")
    assert "tendia joy mwale" in by_field["name"]["detail"]
    assert by_field["date"]["strength"] == "identical"
    assert by_field["mother"]["strength"] == "identical"
    assert dup["explanation"].startswith("Potential duplicate")
    assert _search_duplicates(client, registrar, _tracking_id(client, registrar, copy)) == [
        original]
    assert _search_duplicates(client, registrar,
                              _tracking_id(client, registrar, original)) is None
    view = client.get(f"/api/records/{copy}", headers=bearer(registrar)).json()
    assert "flagged-as-potential-duplicate" in [h["action"] for h in view["history"]]
    refused = act(client, registrar, copy, "register")
    assert refused.status_code == 409 and issue_code(refused) == "REC-409-004"
    other = user_token(ctx, LOCAL_REGISTRAR_OTHER_OFFICE)
    assert client.get(f"/api/records/{copy}/duplicates", headers=bearer(other)).status_code == 403


def test_not_a_duplicate_clears_the_flag_and_allows_registration(
        client: TestClient, ctx: AppContext) -> None:
    registrar, _ = _registered_original(client, ctx)
    copy = _notify(client, ctx, ["Tendia", "Joy"])
    cleared = act(client, registrar, copy, "mark-as-not-duplicate", reason="Twin, checked")
    assert cleared.status_code == 200, cleared.text
    body = _duplicates(client, registrar, copy)
    assert body["flagged"] is False and body["duplicates"][0]["resolution"] == "not-duplicate"
    assert _search_duplicates(client, registrar, _tracking_id(client, registrar, copy)) is None
    again = act(client, registrar, copy, "mark-as-not-duplicate")
    assert again.status_code == 409 and issue_code(again) == "REC-409-005"
    registered = act(client, registrar, copy, "register")  # the resolved candidate stays so
    assert registered.status_code == 200, registered.text
    history = client.get(f"/api/records/{copy}", headers=bearer(registrar)).json()["history"]
    assert "marked-as-not-duplicate" in [h["action"] for h in history]


def test_duplicate_of_archives_and_links(client: TestClient, ctx: AppContext) -> None:
    registrar, original = _registered_original(client, ctx)
    copy = _notify(client, ctx, ["Tendia", "Joy"])
    wrong = act(client, registrar, copy, "mark-as-duplicate", duplicateOf=copy)
    assert wrong.status_code == 400 and issue_code(wrong) == "REC-400-004"
    marked = act(client, registrar, copy, "mark-as-duplicate", duplicateOf=original)
    assert marked.status_code == 200, marked.text
    assert marked.json()["status"] == "ARCHIVED"
    history = client.get(f"/api/records/{copy}", headers=bearer(registrar)).json()["history"]
    last = [h for h in history if h["action"] == "marked-as-duplicate"]
    assert last and last[0]["data"]["duplicate_of"] == original
    assert _duplicates(client, registrar, copy)["duplicates"][0]["resolution"] == "duplicate"


def test_twins_and_siblings_are_not_flagged(client: TestClient, ctx: AppContext) -> None:
    registrar = user_token(ctx, LOCAL_REGISTRAR)
    first = declare(client, registrar, birth_bundle(given="Chisomo"))
    twin = declare(client, registrar, birth_bundle(given="Thandiwe"))
    assert _duplicates(client, registrar, twin["id"])["flagged"] is False
    assert _duplicates(client, registrar, first["id"])["flagged"] is False
    same = declare(client, registrar, birth_bundle(given="Chisomo"))
    assert _duplicates(client, registrar, same["id"])["flagged"] is True


def test_registration_looks_again(client: TestClient, ctx: AppContext) -> None:
    registrar = user_token(ctx, LOCAL_REGISTRAR)
    early = declare(client, registrar, birth_bundle(given="Kondwani"))["id"]
    assert act(client, registrar, early, "reject", reason="Check the date").status_code == 200
    late = declare(client, registrar, birth_bundle(given="Kondwani"))["id"]
    assert _duplicates(client, registrar, late)["flagged"] is False  # early was sent back
    assert act(client, registrar, early, "declare").status_code == 200
    refused = act(client, registrar, early, "register")
    assert refused.status_code == 409 and issue_code(refused) == "REC-409-004"
    body = _duplicates(client, registrar, early)  # kept although the registration failed
    assert body["flagged"] is True and body["duplicates"][0]["candidateId"] == late
    assert act(client, registrar, early, "mark-as-not-duplicate").status_code == 200
    assert act(client, registrar, early, "register").status_code == 200
    # The pair was decided on: the later record is not flagged against it again.
    assert act(client, registrar, late, "register").status_code == 200


def test_the_check_is_two_reads_without_candidates(client: TestClient,
                                                   ctx: AppContext) -> None:
    seen: list[str] = []

    def record(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
        seen.append(" ".join(statement.split()))

    token = health_token(ctx)
    event.listen(ctx.db.engine, "before_cursor_execute", record)
    try:
        assert post(client, token, fresh_ids(example("birth-full"))).status_code == 200
    finally:
        event.remove(ctx.db.engine, "before_cursor_execute", record)
    assert sum("record_duplicates" in s for s in seen) == 0
    # The terms alike both names from the process's vocabulary (one catch-up read of the
    # terms added since), the postings of the date window once (SQLite) or once per name
    # (PostgreSQL: child, mother), no people: nothing matched.
    assert sum(s.startswith("SELECT") and "phonetic" in s for s in seen) == 0
    assert sum(s.startswith("SELECT search_vocabulary.id, search_vocabulary.term")
               for s in seen) == 1
    reads = sum("search_terms" in s and "candidates" in s for s in seen)
    assert reads == (2 if ctx.db.engine.dialect.name == "postgresql" else 1)
    assert sum(s.startswith("SELECT search_persons.record_id") for s in seen) == 0


def test_the_date_window_holds_every_date_the_matcher_may_accept() -> None:
    for day in (date(2026, 1, 8), date(2026, 3, 31), date(2024, 2, 29), date(2026, 12, 12)):
        window = set(date_window(day))
        near = {day + timedelta(days=n) for n in range(-400, 401)}
        accepted = {d for d in near if date_similarity(day, d)[0] >= MIN_DATE}
        assert accepted <= window, sorted(accepted - window)
        assert window <= accepted | {day}
