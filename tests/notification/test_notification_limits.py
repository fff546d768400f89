"""Hostile bundles cost bounded work: batched location lookups, capped answers, size limits."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from crvshub.context import AppContext
from crvshub.errors import AppError, Issue
from crvshub.fhir.outcome import MAX_ISSUES, outcome_json
from crvshub.notification.places import Places
from crvshub.notification.validation import parse_structure
from crvshub.notification.validation_limits import Limits
from crvshub.settings import Settings
from tests.helpers import statements
from tests.notification.helpers import (
    FACILITY_ID,
    codes,
    example,
    expressions,
    fresh_ids,
    health_token,
    post,
    records,
)

REFERENCES = 40_000
LIMIT = "NOTIF-400-008"




def _encounter(bundle: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Encounter")
    return found


def test_forty_thousand_unknown_locations_cost_one_query_and_a_short_answer(
    client: TestClient, ctx: AppContext
) -> None:
    token = health_token(ctx)
    assert post(client, token, fresh_ids(example("birth-full"))).status_code == 200  # warm
    bundle = fresh_ids(example("birth-full"))
    _encounter(bundle)["location"] += [
        {"location": {"reference": f"Location/x{i}"}} for i in range(REFERENCES)]
    assert len(json.dumps(bundle)) < 2 * 1024 * 1024
    before = records(ctx)
    answers: list[Any] = []

    seen = statements(ctx, lambda: answers.append(post(client, token, bundle)))

    response = answers[0]
    assert response.status_code == 422
    # One batched lookup (plus, at most, the cache's version check), not one per id.
    assert len([s for s in seen if "FROM locations WHERE" in s]) == 1, seen[:5]
    assert len(seen) <= 3, seen[:5]
    issues = response.json()["issue"]
    assert len(issues) == MAX_ISSUES + 1
    assert set(codes(response)[:MAX_ISSUES]) == {"NOTIF-422-003"}
    assert issues[-1]["severity"] == "information"
    assert codes(response)[-1] == "GEN-400-005"
    hidden = int(re.match(r"\d+", issues[-1]["details"]["text"]).group())  # type: ignore[union-attr]
    assert hidden + MAX_ISSUES == REFERENCES
    assert len(response.content) < 100_000
    assert records(ctx) == before


def test_known_and_unknown_ids_resolve_in_one_query(ctx: AppContext) -> None:
    with ctx.db.transaction() as session:
        places = Places(session)  # no cache snapshot: every id comes from the database
        seen = statements(ctx, lambda: places.prefetch([FACILITY_ID, "nope", "x" * 65, ""]))
        assert len(seen) == 1
        assert statements(ctx, lambda: [places.get(FACILITY_ID), places.get("nope")]) == []
        facility = places.get(FACILITY_ID)
        assert facility is not None
        assert facility.type == "HEALTH_FACILITY"
        assert places.get("nope") is None


def test_the_issue_cap_applies_to_every_outcome() -> None:
    error = AppError(issues=[Issue("GEN-400-002", f"problem {i}") for i in range(250)])
    issues = outcome_json(error)["issue"]
    assert len(issues) == MAX_ISSUES + 1
    assert issues[MAX_ISSUES - 1]["details"]["text"] == "problem 99"
    assert issues[-1]["details"]["text"].startswith("150 more problems not shown")
    few = AppError(issues=[Issue("GEN-400-002", f"problem {i}") for i in range(MAX_ISSUES)])
    assert len(outcome_json(few)["issue"]) == MAX_ISSUES


def _observation(bundle: dict[str, Any], index: int) -> dict[str, Any]:
    entry = copy.deepcopy(next(
        e for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"))
    entry["fullUrl"] = f"urn:uuid:00000000-0000-4000-8000-{index:012d}"
    return entry


def _extensions(count: int) -> list[dict[str, Any]]:
    return [{"url": f"http://example.org/junk/{i}", "valueString": "x"} for i in range(count)]


def _too_many_entries(bundle: dict[str, Any]) -> str:
    bundle["entry"] += [_observation(bundle, i) for i in range(201 - len(bundle["entry"]))]
    bundle["entry"][0]["resource"]["status"] = 42  # not looked at: the limit comes first
    return "Bundle.entry"


def _too_many_sections(bundle: dict[str, Any]) -> str:
    sections = bundle["entry"][0]["resource"]["section"]
    sections += [copy.deepcopy(sections[0]) for _ in range(51 - len(sections))]
    return "Bundle.entry[0].resource.section"


def _too_many_extensions_in_a_resource(bundle: dict[str, Any]) -> str:
    bundle["entry"][2]["resource"]["extension"] = _extensions(101)
    return "Bundle.entry[2].resource"


def _too_many_nested_extensions(bundle: dict[str, Any]) -> str:
    bundle["entry"][2]["resource"]["name"][0]["extension"] = _extensions(101)
    return "Bundle.entry[2].resource"


def _too_many_extensions_in_the_bundle(bundle: dict[str, Any]) -> str:
    for i in range(11):
        extra = _observation(bundle, i)
        extra["resource"]["extension"] = _extensions(95)
        bundle["entry"].append(extra)
    return "Bundle.entry"


def _too_many_identifiers(bundle: dict[str, Any]) -> str:
    patient = bundle["entry"][3]["resource"]
    patient["identifier"] = patient["identifier"] * 21
    return "Bundle.entry[3].resource.identifier"


def _too_many_names(bundle: dict[str, Any]) -> str:
    patient = bundle["entry"][2]["resource"]
    patient["name"] = patient["name"] * 21
    return "Bundle.entry[2].resource.name"


def _too_long_a_string(bundle: dict[str, Any]) -> str:
    bundle["entry"][2]["resource"]["name"][0]["given"][0] = "A" * 10_001
    return "Bundle.entry[2].resource.name[0].given[0]"


@pytest.mark.parametrize("breach", [
    _too_many_entries, _too_many_sections, _too_many_extensions_in_a_resource,
    _too_many_nested_extensions, _too_many_extensions_in_the_bundle, _too_many_identifiers,
    _too_many_names, _too_long_a_string,
])
def test_each_limit_is_refused_naming_element_and_setting(
    client: TestClient, ctx: AppContext, breach: Any
) -> None:
    bundle = fresh_ids(example("birth-full"))
    where = breach(bundle)
    before = records(ctx)
    response = post(client, health_token(ctx), bundle)
    assert response.status_code == 400, response.text
    assert codes(response) == [LIMIT]
    assert expressions(response) == [where]
    assert "CRVSHUB_NOTIFICATION_MAX_" in response.json()["issue"][0]["details"]["text"]
    assert records(ctx) == before


def test_duplicate_section_codes_are_refused(client: TestClient, ctx: AppContext) -> None:
    bundle = fresh_ids(example("birth-full"))
    sections = bundle["entry"][0]["resource"]["section"]
    sections.append(copy.deepcopy(sections[0]))
    response = post(client, health_token(ctx), bundle)
    assert response.status_code == 400
    assert codes(response) == ["NOTIF-400-009"]
    assert expressions(response) == [f"Bundle.entry[0].resource.section[{len(sections) - 1}].code"]


@pytest.mark.parametrize("name", ["birth-minimal", "birth-full", "birth-home", "death-minimal",
                                  "death-full"])
def test_documented_examples_fit_the_limits(
    client: TestClient, ctx: AppContext, name: str
) -> None:
    assert post(client, health_token(ctx), fresh_ids(example(name))).status_code == 200


def test_limits_follow_the_settings(settings: Settings) -> None:
    assert Limits.from_settings(Settings(database_url=settings.database_url)) == Limits()
    bundle = example("birth-full")
    with pytest.raises(AppError) as caught:
        parse_structure(bundle, limits=Limits(entries=5))
    assert caught.value.code == LIMIT
    assert [i.expression for i in caught.value.issues] == ["Bundle.entry"]
    parse_structure(example("birth-full"))  # the defaults accept it


def test_a_long_unknown_reference_is_not_echoed_whole(client: TestClient, ctx: AppContext) -> None:
    bundle = fresh_ids(example("birth-full"))
    _encounter(bundle)["location"].append({"location": {"reference": "Location/" + "y" * 9000}})
    response = post(client, health_token(ctx), bundle)
    assert response.status_code == 422
    assert codes(response) == ["NOTIF-422-003"]
    assert len(response.json()["issue"][0]["details"]["text"]) < 200
