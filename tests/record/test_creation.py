"""One way to create a record: notifications and staff declarations share creation and columns."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from crvshub.context import AppContext
from crvshub.outbox.models import DomainEvent
from crvshub.record import creation
from crvshub.record.creation import NewRecord, create_record
from crvshub.record.domain import Action, Event, Status
from crvshub.record.models import Record, RecordAction
from crvshub.record.search_columns import search_columns
from crvshub.record.service import Actor
from crvshub.text import normalize
from tests.helpers import FIELD_AGENT, LOCAL_REGISTRAR, REGISTRATION_AGENT, bearer, user_token
from tests.notification.helpers import OFFICE_ID, example, fresh_ids, health_token, post
from tests.record.helpers import act, birth_bundle, declare

# 300 characters each, with accents, so the name is longer than every name column.
LONG_GIVEN = ["Émilie-Zoë", *(["Nkechinyerem"] * 21), "Tamarà-Ngozikaaa"]
LONG_GIVEN_TEXT = " ".join(LONG_GIVEN)
LONG_FAMILY = "Mwale-" + "Ngozichukwuka" * 22 + "-Bandaré"


def _long_named_notification() -> dict[str, Any]:
    bundle = fresh_ids(example("birth-full"))
    sections = bundle["entry"][0]["resource"]["section"]
    child = next(s["entry"][0]["reference"] for s in sections
                 if s["code"]["coding"][0]["code"] == "child-details")
    patient = next(e["resource"] for e in bundle["entry"] if e["fullUrl"] == child)
    patient["name"] = [{"use": "en", "given": LONG_GIVEN, "family": LONG_FAMILY}]
    return bundle


def _queue_ids(client: TestClient, token: str, queue: str) -> dict[str, str]:
    response = client.get(f"/api/records/workqueues/{queue}", params={"sort": "name"},
                          headers=bearer(token))
    assert response.status_code == 200, response.text
    return {item["id"]: item["name"] for item in response.json()["items"]}


def _columns(ctx: AppContext, record_id: str) -> dict[str, Any]:
    with ctx.db.transaction() as session:
        record = session.get(Record, record_id)
        assert record is not None
        return {key: getattr(record, key) for key in search_columns(record.bundle, Event.BIRTH)}


def test_a_300_character_notified_name_is_stored_acted_on_and_listed(
    client: TestClient, ctx: AppContext
) -> None:
    assert len(LONG_GIVEN_TEXT) == 300 and len(LONG_FAMILY) == 300
    saved = post(client, health_token(ctx), _long_named_notification())
    assert saved.status_code == 200, saved.text
    assert LONG_GIVEN_TEXT.split()[1] in saved.text and LONG_FAMILY in saved.text
    rid = saved.json()["entry"][0]["resource"]["id"]
    stored = _columns(ctx, rid)
    assert stored["subject_given"] == LONG_GIVEN_TEXT[:255]
    assert stored["subject_family"] == LONG_FAMILY[:255]
    assert stored["subject_name_norm"] == normalize(f"{LONG_GIVEN_TEXT} {LONG_FAMILY}")[:512]
    assert stored["subject_name_norm"].startswith("emilie-zoe nkechinyerem")
    clerk, registrar = user_token(ctx, REGISTRATION_AGENT), user_token(ctx, LOCAL_REGISTRAR)
    listed = _queue_ids(client, clerk, "ready-for-review")
    assert listed[rid] == f"{LONG_GIVEN_TEXT[:255]} {LONG_FAMILY[:255]}"
    validated = act(client, clerk, rid, "validate")
    assert validated.status_code == 200, validated.text
    registered = act(client, registrar, rid, "register")
    assert registered.status_code == 200, registered.text
    assert registered.json()["status"] == "REGISTERED"
    assert rid in _queue_ids(client, registrar, "ready-to-print")
    assert _columns(ctx, rid) == stored  # the actions recompute the same columns
    view = client.get(f"/api/records/{rid}/download", headers=bearer(registrar))
    assert LONG_FAMILY in view.text


def test_both_paths_write_the_columns_search_columns_computes(
    client: TestClient, ctx: AppContext
) -> None:
    notified = post(client, health_token(ctx), fresh_ids(example("birth-full"))).json()
    declared = declare(client, user_token(ctx, FIELD_AGENT))
    for rid in (notified["entry"][0]["resource"]["id"], declared["id"]):
        with ctx.db.transaction() as session:
            record = session.get(Record, rid)
            assert record is not None
            expected = search_columns(record.bundle, Event(record.event))
            assert {key: getattr(record, key) for key in expected} == expected
            assert record.subject_name_norm and record.event_location_id and record.event_date


def test_both_paths_write_one_audit_entry_and_one_event(
    client: TestClient, ctx: AppContext
) -> None:
    notified = post(client, health_token(ctx), fresh_ids(example("death-full"))).json()
    declared = declare(client, user_token(ctx, FIELD_AGENT), incomplete=True)
    expected = {notified["entry"][0]["resource"]["id"]: ("sent-notification", "DEATH_NOTIFIED"),
                declared["id"]: ("sent-notification", "BIRTH_NOTIFIED")}
    with ctx.db.transaction() as session:
        for rid, (action, topic) in expected.items():
            actions = session.scalars(select(RecordAction).where(
                RecordAction.record_id == rid)).all()
            events = session.scalars(select(DomainEvent).where(DomainEvent.record_id == rid)).all()
            assert [a.action for a in actions] == [action]
            assert (actions[0].status_before, actions[0].version_after) == (None, 1)
            assert [e.topic for e in events] == [topic]
            record = session.get(Record, rid)
            assert record is not None
            assert events[0].data == {"event": record.event, "tracking_id": record.tracking_id,
                                      "status": record.status, "registration_number": None}


def test_a_declaration_whose_tracking_id_is_taken_draws_another(
    client: TestClient, ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = user_token(ctx, FIELD_AGENT)
    taken = declare(client, agent)["trackingId"]
    draws = iter([taken, taken, "BZZZZZ8"])
    monkeypatch.setattr(creation, "new_tracking_id", lambda event: next(draws))
    assert declare(client, agent)["trackingId"] == "BZZZZZ8"


def _actor() -> Actor:
    return Actor("client", "tests", "Concurrency test", "HEALTH")


def _new() -> NewRecord:
    return NewRecord(Event.BIRTH, Status.DECLARED, Action.NOTIFY, OFFICE_ID,
                     "birth-notification", "health-system")


def test_two_creations_drawing_one_tracking_id_at_once_both_succeed(
    ctx: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The second writer draws the ID the first holds uncommitted: a lookup would not see it,
    # the unique index does, and the second writer draws again instead of failing.
    draws = {"first": iter(["BRACE01"]), "second": iter(["BRACE01", "BRACE02"])}
    local = threading.local()
    monkeypatch.setattr(creation, "new_tracking_id", lambda event: next(draws[local.name]))
    first_inserted, second_done = threading.Event(), threading.Event()
    results: dict[str, Any] = {}

    def build(record_id: str, tracking_id: str) -> dict[str, Any]:
        return birth_bundle()

    def second() -> None:
        local.name = "second"
        first_inserted.wait(30)
        try:
            with ctx.db.transaction() as session:
                results["second"] = create_record(session, _new(), build, _actor()).tracking_id
        except Exception as exc:  # reported by the assertion below
            results["second"] = exc
        second_done.set()

    thread = threading.Thread(target=second)
    thread.start()
    local.name = "first"
    with ctx.db.transaction() as session:
        results["first"] = create_record(session, _new(), build, _actor()).tracking_id
        first_inserted.set()
        second_done.wait(0.5)  # the second writer is now waiting on this transaction
    thread.join(30)
    assert results == {"first": "BRACE01", "second": "BRACE02"}
