"""Robustness: mutated valid bundles give 200 or a 4xx OperationOutcome, never a 500.

The record count grows by exactly the number of 200 responses that are not idempotent replays,
so no rejected request leaves half a record behind.
"""

from __future__ import annotations

import copy
import os
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crvshub.context import AppContext
from crvshub.notification.service import record_count
from tests.notification.helpers import example, health_token, post

BASES = ("birth-minimal", "birth-full", "death-minimal", "death-full", "birth-home")
SLOW_EXAMPLES = int(os.environ.get("CRVSHUB_FUZZ_EXAMPLES", "400"))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20) | st.sampled_from(["", "Location/", "urn:uuid:", "draft", "FAR"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=8,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found.extend(_paths(item, (*prefix, i)))
    return found


@st.composite
def mutated_bundles(draw: st.DrawFn) -> Any:
    """Draw a documented example and apply one to three random mutations."""
    bundle: Any = copy.deepcopy(_BASE_BUNDLES[draw(st.sampled_from(BASES))])
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(bundle)
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["replace", "delete", "duplicate"]))
        if not path:
            bundle = draw(json_values) if action == "replace" else bundle
            continue
        parent: Any = bundle
        for step in path[:-1]:
            parent = parent[step]
        key = path[-1]
        if action == "replace":
            parent[key] = draw(json_values)
        elif action == "delete":
            del parent[key]
        elif isinstance(parent, list):
            parent.insert(key, copy.deepcopy(parent[key]))
    return bundle


_BASE_BUNDLES = {name: example(name) for name in BASES}


def _check(client: TestClient, ctx: AppContext, token: str, bundle: Any, seen: list[int]) -> None:
    response = post(client, token, bundle)
    status = response.status_code
    assert status == 200 or 400 <= status < 500, (status, response.text[:500])
    if status == 200:
        # A replay of an earlier identical notification answers 200 without a new record.
        seen[0] += 0 if response.headers.get("idempotent-replayed") else 1
        assert response.json()["resourceType"] == "Bundle"
    else:
        body = response.json()
        assert body["resourceType"] == "OperationOutcome" and body["issue"]
        for issue in body["issue"]:
            assert issue["details"]["coding"][0]["code"]
    with ctx.db.transaction() as session:
        assert record_count(session) == seen[0]


def _run(client: TestClient, ctx: AppContext, examples: int) -> None:
    token = health_token(ctx)
    seen = [0]

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(mutated_bundles())
    def prop(bundle: Any) -> None:
        _check(client, ctx, token, bundle, seen)

    prop()


def test_mutated_bundles_never_500(client: TestClient, ctx: AppContext) -> None:
    _run(client, ctx, 60)


@pytest.mark.slow
def test_mutated_bundles_never_500_long_run(client: TestClient, ctx: AppContext) -> None:
    _run(client, ctx, SLOW_EXAMPLES)


@given(st.sampled_from(BASES), st.text(max_size=30))
@settings(max_examples=40, deadline=None, database=None)
def test_structure_check_never_crashes_on_strings(name: str, junk: str) -> None:
    from crvshub.errors import AppError
    from crvshub.notification.validation import parse_structure

    bundle = copy.deepcopy(_BASE_BUNDLES[name])
    bundle["entry"][2]["resource"]["birthDate"] = junk
    bundle["entry"][0]["fullUrl"] = junk
    status = 200
    try:
        parse_structure(bundle)
    except AppError as exc:
        status = exc.status
    assert status == 200 or 400 <= status < 500
