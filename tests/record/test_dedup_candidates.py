"""Every source of duplicate candidates is read, by either plan (postings first or the records
of the date window first): the child's name, the mother's name, the child's identifier."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from crvshub.context import AppContext
from crvshub.record import dedup
from crvshub.record.service import load
from tests.helpers import LOCAL_REGISTRAR, user_token
from tests.record.helpers import birth_bundle, declare

NID = {"type": {"coding": [{"system": "http://opencrvs.org/specs/identifier-type",
                            "code": "NATIONAL_ID"}]}}


def _birth(child: tuple[str, str], mother: tuple[str, str], born: str = "2026-03-04",
           nid: str | None = None) -> dict[str, Any]:
    bundle = birth_bundle()
    people = [e["resource"] for e in bundle["entry"]
              if e["resource"].get("resourceType") == "Patient"]
    kid, mum = people  # the child first, then the mother (birth_bundle's order)
    kid["name"] = [{"given": [child[0]], "family": child[1]}]
    kid["birthDate"] = born
    mum["name"] = [{"given": [mother[0]], "family": mother[1]}]
    if nid:
        kid["identifier"] = [{**NID, "value": nid}]
    return bundle


def _candidates(ctx: AppContext, record_id: str) -> set[str]:
    with ctx.db.transaction() as session:
        record = load(session, record_id)
        assert record.event_date is not None
        found = dedup._candidates(session, record, dedup._summary(record), record.event_date)
        return {c.record_id for c in found}


def _flagged(ctx: AppContext, record_id: str) -> set[str]:
    with ctx.db.transaction() as session:
        return {v.candidate_id for v in dedup.find(session, load(session, record_id))}


@pytest.fixture(params=["postings", "window"])
def plan(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run once reading the alike terms' postings first, once the date window's records first
    (no postings allowed: PostgreSQL falls back to the window; SQLite has one plan)."""
    if request.param == "window":
        monkeypatch.setattr(dedup, "MAX_POSTINGS", 0)
    return str(request.param)


def test_a_record_found_only_by_its_mother(client: TestClient, ctx: AppContext,
                                           plan: str) -> None:
    token = user_token(ctx, LOCAL_REGISTRAR)
    old = declare(client, token, _birth(("Tawonga", "Phiri"), ("Grace", "Nkhoma")))["id"]
    other = declare(client, token, _birth(("Tawonga", "Phiri"), ("Ruth", "Kaunda"),
                                          born="2026-03-09"))["id"]  # out of the window
    new = declare(client, token, _birth(("Xolani", "Zulu"), ("Grace", "Nkhoma")))["id"]
    assert _candidates(ctx, new) == {old}
    assert other not in _candidates(ctx, old)


def test_a_record_found_only_by_an_identifier(client: TestClient, ctx: AppContext,
                                              plan: str) -> None:
    token = user_token(ctx, LOCAL_REGISTRAR)
    old = declare(client, token, _birth(("Tawonga", "Phiri"), ("Grace", "Nkhoma"),
                                        nid="8812345678"))["id"]
    new = declare(client, token, _birth(("Xolani", "Zulu"), ("Ruth", "Kaunda"),
                                        nid="8812345678"))["id"]
    assert _candidates(ctx, new) == {old}
    assert _flagged(ctx, new) == {old}  # a shared identifier decides alone


def test_a_typo_in_the_name_is_found_and_flagged(client: TestClient, ctx: AppContext,
                                                 plan: str) -> None:
    token = user_token(ctx, LOCAL_REGISTRAR)
    old = declare(client, token, _birth(("Tendai", "Mwale"), ("Grace", "Nkhoma")))["id"]
    new = declare(client, token, _birth(("Tendia", "Mwalle"), ("Ruth", "Kaunda")))["id"]
    assert _candidates(ctx, new) == {old}  # by the child's name alone (another mother)
    same_mother = declare(client, token, _birth(("Tendia", "Mwale"), ("Grace", "Nkhoma")))["id"]
    assert old in _flagged(ctx, same_mother)


def test_day_and_month_swapped_is_found_and_flagged(client: TestClient, ctx: AppContext,
                                                    plan: str) -> None:
    token = user_token(ctx, LOCAL_REGISTRAR)
    old = declare(client, token, _birth(("Chisomo", "Banda"), ("Grace", "Nkhoma"),
                                        born="2026-03-04"))["id"]
    new = declare(client, token, _birth(("Chisomo", "Banda"), ("Grace", "Nkhoma"),
                                        born="2026-04-03"))["id"]
    assert _flagged(ctx, new) == {old}
