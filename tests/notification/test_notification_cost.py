"""The database work of one notification stays small: a guard for the ingest throughput."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from crvshub.auth import cutoff
from crvshub.context import AppContext
from tests.helpers import statements
from tests.notification.helpers import example, fresh_ids, health_token, post

# The record, its search index entry (people, their name terms and identifiers, new terms of
# the vocabulary: one multi-row INSERT each), its audit entry, the duplicate check (the
# process's vocabulary caught up with the terms added since its last use, one SELECT of the
# people of the candidate records; a record that is flagged adds two INSERTs:
# its potential duplicates and the audit entry), its event, and the check for webhook
# subscribers. Each extra statement costs about a tenth of the throughput measured by
# bench/notification_ingest.py.
EXPECTED = ("INSERT INTO records", "INSERT INTO search_persons", "INSERT INTO search_terms",
            "INSERT INTO search_vocabulary", "INSERT INTO record_actions",
            "SELECT search_vocabulary.id, search_vocabulary.term",
            ("SELECT search_terms.record_id", "WITH postings AS MATERIALIZED"),
            "INSERT INTO events",
            "SELECT webhook_subscriptions.id")


@pytest.fixture(autouse=True)
def _caches_held(ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the caller's cached standing and the location tree for the whole test: counted
    here is the work of a notification, not the once-a-second re-checks of those caches that
    a slow machine makes between two requests."""
    monkeypatch.setattr(cutoff, "ACTIVE_CACHE_SECONDS", 600.0)
    monkeypatch.setattr(ctx.location_cache, "ttl", 600.0)




def test_a_notification_is_nine_statements(client: TestClient, ctx: AppContext) -> None:
    token = health_token(ctx)
    assert post(client, token, fresh_ids(example("birth-full"))).status_code == 200  # warm

    def send() -> None:
        assert post(client, token, fresh_ids(example("death-full"))).status_code == 200

    seen = statements(ctx, send)
    assert len(seen) == len(EXPECTED), seen
    for statement, start in zip(seen, EXPECTED, strict=True):
        assert statement.startswith(start), seen


def test_a_retry_with_a_key_adds_only_the_key_lookup(client: TestClient, ctx: AppContext) -> None:
    token = health_token(ctx)
    bundle = fresh_ids(example("birth-minimal"))
    assert post(client, token, bundle, **{"Idempotency-Key": "cost-1"}).status_code == 200

    def send() -> None:
        replay = post(client, token, bundle, **{"Idempotency-Key": "cost-1"})
        assert replay.headers["idempotent-replayed"] == "true"

    seen = statements(ctx, send)
    assert len(seen) == 2, seen  # the key, then the record it names
    assert seen[0].startswith("SELECT idempotency_keys.")
