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
from tests.notification.fuzz import BASE_BUNDLES, BASES, mutated_bundles
from tests.notification.helpers import health_token, post

SLOW_EXAMPLES = int(os.environ.get("CRVSHUB_FUZZ_EXAMPLES", "400"))



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

    bundle = copy.deepcopy(BASE_BUNDLES[name])
    bundle["entry"][2]["resource"]["birthDate"] = junk
    bundle["entry"][0]["fullUrl"] = junk
    status = 200
    try:
        parse_structure(bundle)
    except AppError as exc:
        status = exc.status
    assert status == 200 or 400 <= status < 500
