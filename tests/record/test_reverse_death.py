"""Reverse a death registration: registrars only, with a reason, deaths only, audited."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from crvshub.context import AppContext
from crvshub.outbox.models import DomainEvent
from crvshub.record.models import RecordAction
from tests.dci.helpers import death_bundle, registered_birth
from tests.helpers import LOCAL_REGISTRAR, REGISTRATION_AGENT, user_token
from tests.record.graphql_helpers import notify, register
from tests.record.helpers import act, issue_code


def test_a_registrar_reverses_a_registered_death_with_a_reason(
        client: TestClient, ctx: AppContext) -> None:
    registrar = user_token(ctx, LOCAL_REGISTRAR)
    death = notify(client, ctx, death_bundle("Alive", "5555333000"))
    early = act(client, registrar, death, "reverse-death", reason="not registered yet")
    assert early.status_code == 409, "only a registered death can be reversed"
    register(client, ctx, death)
    no_reason = act(client, registrar, death, "reverse-death")
    assert no_reason.status_code == 400, no_reason.text
    agent = act(client, user_token(ctx, REGISTRATION_AGENT), death, "reverse-death",
                reason="seen alive")
    assert agent.status_code == 403, "registrars only"
    done = act(client, registrar, death, "reverse-death",
               reason="The person came to the office alive")
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "ARCHIVED"
    with ctx.db.transaction() as session:
        audit = session.scalars(select(RecordAction).where(
            RecordAction.record_id == death, RecordAction.action == "death-reversed")).one()
        assert audit.reason == "The person came to the office alive"
        topics = session.scalars(select(DomainEvent.topic).where(
            DomainEvent.record_id == death)).all()
        assert "DEATH_REVERSED" in topics
    again = act(client, registrar, death, "reverse-death", reason="twice")
    assert again.status_code == 409
    # Reinstated, it goes back in progress, to be registered again through the usual review.
    back = act(client, registrar, death, "reinstate")
    assert back.status_code == 200 and back.json()["status"] == "IN_PROGRESS"


def test_a_birth_cannot_be_reversed(client: TestClient, ctx: AppContext) -> None:
    birth = registered_birth(client, ctx, child="Born")
    answer = act(client, user_token(ctx, LOCAL_REGISTRAR), birth, "reverse-death",
                 reason="wrong record")
    assert answer.status_code == 409
    assert "death records only" in answer.text
    assert issue_code(answer).startswith("REC-409")
