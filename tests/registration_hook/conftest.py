"""Fixtures: settings with a registration hook, and the national ID simulator on a free port."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn

from crvshub.auth import repository as auth_repository
from crvshub.auth.service import issue_record_token
from crvshub.context import AppContext
from crvshub.registration_hook.nid_sim import NidSimulator, SimConfig
from crvshub.settings import Settings
from tests.helpers import LOCAL_REGISTRAR, LiveServer, free_port


@pytest.fixture
def sim_port() -> int:
    """The port the national ID simulator listens on."""
    return free_port()


@pytest.fixture
def settings(database_url: str, sim_port: int) -> Settings:
    """Settings whose registration hook is the simulator."""
    return Settings(
        database_url=database_url, environment="test", embedded_worker=False,
        log_level="WARNING", webhook_allow_private=True, outbox_poll_interval=0.05,
        registration_hook_url=f"http://127.0.0.1:{sim_port}/event-registration",
        registration_hook_max_attempts=3, registration_hook_timeout=5,
    )


def serve(app: Any, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    """Run an ASGI app on a loopback port in a thread until it answers."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    return server, thread


@pytest.fixture
def nid_sim(live_server: LiveServer, sim_port: int) -> Iterator[NidSimulator]:
    """The reference national ID system, answering the live server after 0.2 s."""
    simulator = NidSimulator(SimConfig(live_server.url, delay=0.2))
    server, thread = serve(simulator.app, sim_port)
    assert httpx.get(f"http://127.0.0.1:{sim_port}/healthz").status_code == 200
    yield simulator
    server.should_exit = True
    thread.join(10)


def record_token(ctx: AppContext, rid: str) -> str:
    """Return the record token the hook worker would hand over for this record."""
    with ctx.db.transaction() as session:
        user = auth_repository.user_by_username(session, LOCAL_REGISTRAR)
        assert user
        return issue_record_token(ctx.settings, ctx.keys, user_id=user.id, record_id=rid)
