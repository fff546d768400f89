"""The composition: the API, the worker and the CLI wire the same listeners, handlers, pollers."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from typer.testing import CliRunner

from crvshub import cli
from crvshub.auth import crypto
from crvshub.auth.clients import create_client
from crvshub.certificate import service as certificate_service
from crvshub.context import AppContext
from crvshub.db import utcnow
from crvshub.outbox.worker import Worker
from crvshub.record.domain import Action, Event, Status, applies_to, event_topic
from crvshub.settings import Settings, get_settings
from crvshub.webhook import domain, fanout
from crvshub.webhook.delivery import DeliveryEngine
from crvshub.webhook.models import Delivery, Subscription
from tests.webhook.factories import emit_event, make_record


def _name(obj: Any) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


def _wired(ctx: AppContext, runner: Worker) -> dict[str, Any]:
    """Describe what a process runs: by qualified name, as its context and worker see it."""
    return {
        "listeners": [_name(listener) for listener in ctx.wiring.listeners.listeners],
        "handlers": {kind: _name(handler) for kind, handler in runner.handlers.items()},
        "pollers": sorted(_name(type(poller)) for poller in runner.pollers),
        "capabilities": sorted(cap.type for cap in ctx.wiring.capabilities),
        "delivery_bodies": {style: _name(make)
                            for style, make in ctx.wiring.delivery_bodies.items()},
    }


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point the CLI at the test database, as `CRVSHUB_*` variables do for an operator."""
    monkeypatch.setenv("CRVSHUB_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CRVSHUB_ENVIRONMENT", "test")
    monkeypatch.setenv("CRVSHUB_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("CRVSHUB_WEBHOOK_ALLOW_PRIVATE", "true")
    get_settings.cache_clear()  # a CLI process reads its settings once
    yield
    get_settings.cache_clear()


def _worker_command_wiring(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Run `crvshub worker` in this process; describe the worker it runs (without looping)."""
    built: list[dict[str, Any]] = []
    monkeypatch.setattr(Worker, "run_forever", lambda self: built.append(_wired(self.ctx, self)))
    monkeypatch.setattr(signal, "signal", lambda *_args: None)  # keep pytest's own handlers
    result = CliRunner().invoke(cli.app, ["worker"])
    assert result.exit_code == 0, result.output
    assert len(built) == 1
    return built[0]


@pytest.mark.usefixtures("cli_env")
def test_api_worker_and_cli_wire_the_same(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    api_ctx: AppContext = app.state.ctx
    api_worker = Worker(api_ctx)  # the embedded worker of `crvshub serve`
    worker = _worker_command_wiring(monkeypatch)
    with cli.cli_session() as (_session, cli_ctx):
        cli_worker = Worker(cli_ctx)
    wired = [_wired(api_ctx, api_worker), worker, _wired(cli_ctx, cli_worker)]
    for runner in (api_worker, cli_worker):
        runner.close()
    assert cli_ctx.settings.database_url == api_ctx.settings.database_url
    assert wired[0] == wired[1] == wired[2]
    assert wired[0] == {
        "listeners": [_name(fanout.fan_out), _name(certificate_service.supersede_on_correction),
                      "crvshub.dci.service.notify_subscribers"],
        "handlers": {"registration-hook": "crvshub.registration_hook.worker.call_hook",
                     "dci-search": "crvshub.dci.worker.run_search",
                     "statistics-export": "crvshub.statistics.worker.run_export_step"},
        "pollers": ["crvshub.statistics.worker.Housekeeping", _name(DeliveryEngine)],
        "capabilities": ["Composition", "Encounter", "Location", "Observation", "Patient",
                         "Practitioner", "RelatedPerson", "Task"],
        "delivery_bodies": {"dci": "crvshub.dci.worker.sign_delivery"},
    }


def test_every_emitted_topic_reaches_the_webhook_fan_out(ctx: AppContext) -> None:
    # Notifications emit <EVENT>_NOTIFIED; record actions emit event_topic(...).
    emitted = {f"{event.name}_NOTIFIED" for event in Event}
    for event in Event:
        for action in Action:
            if not applies_to(action, event.value):
                continue
            for status in (Status.REGISTERED, Status.WAITING_VALIDATION):
                topic = event_topic(event.value, action, status)
                if topic is not None:
                    emitted.add(topic)
    # The fan-out listens to every topic: each one can be subscribed to and is matched.
    assert emitted <= domain.TOPICS, emitted - domain.TOPICS
    assert fanout.fan_out in ctx.wiring.listeners.listeners


def _subscribe(ctx: AppContext, topic: str) -> str:
    with ctx.db.transaction() as session:
        creds = create_client(session, ctx.settings, name="cli wiring", client_type="WEBHOOK",
                              created_by="tests", webhook_permissions=[
                                  {"event": "birth", "permissions": ["child-details"]}])
        secret = crypto.encrypt(creds.sha_secret.encode(),
                                ctx.settings.derived_key("encryption"),
                                context=domain.SECRET_CONTEXT)
        sub = Subscription(
            client_id=creds.client.id, callback="http://127.0.0.1:9/hook", topic=topic,
            style="opencrvs", payload_kind="full", secret_enc=secret, status="active",
            created_at=utcnow(), last_sequence=0, consecutive_failures=0)
        session.add(sub)
        session.flush()
        return sub.id


@pytest.mark.usefixtures("cli_env")
def test_event_emitted_by_a_cli_process_writes_its_webhook_delivery(ctx: AppContext) -> None:
    subscription_id = _subscribe(ctx, "BIRTH_REGISTERED")
    with cli.cli_session() as (_session, cli_ctx):
        pass
    assert cli_ctx.settings.database_url == ctx.settings.database_url
    record = make_record(cli_ctx)
    emit_event(cli_ctx, record, "BIRTH_REGISTERED")
    cli_ctx.db.dispose()
    with ctx.db.transaction() as session:
        deliveries = session.scalars(
            select(Delivery).where(Delivery.record_id == record.id)).all()
    assert [d.subscription_id for d in deliveries] == [subscription_id]
    assert deliveries[0].topic == "BIRTH_REGISTERED"
