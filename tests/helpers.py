"""Helpers for tests: tokens, clients, the demo users and places, polling, a live server."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from typing import Any

import uvicorn
from fastapi import FastAPI

from crvshub.auth import repository as auth_repository
from crvshub.auth import service as auth_service
from crvshub.auth.clients import IssuedCredentials, create_client
from crvshub.context import AppContext


def user_token(ctx: AppContext, username: str) -> str:
    """Return an access token for a seeded staff user."""
    with ctx.db.transaction() as session:
        user = auth_repository.user_by_username(session, username)
        assert user is not None, username
        token, _ = auth_service.issue_user_token(ctx.settings, ctx.keys, user)
    return token


def new_client(ctx: AppContext, client_type: str, name: str | None = None,
               **kwargs: Any) -> tuple[IssuedCredentials, str]:
    """Create an integration client and return its credentials and an access token."""
    with ctx.db.transaction() as session:
        creds = create_client(
            session, ctx.settings, name=name or f"{client_type} test client",
            client_type=client_type, created_by="tests", **kwargs,
        )
        token, _ = auth_service.issue_client_token(ctx.settings, ctx.keys, creds.client)
    return creds, token


def bearer(token: str) -> dict[str, str]:
    """Return an Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


# Demo users of the built-in country (employees.csv).
NATLSYSADMIN = "h.sewanti"
FIELD_AGENT = "a.kipsoni"
REGISTRATION_AGENT = "j.mbeluke"
LOCAL_REGISTRAR = "r.olusinde"
LOCAL_REGISTRAR_OTHER_OFFICE = "g.lwendeza"
NATIONAL_REGISTRAR = "j.ndekwa"
HQ_OFFICE_SID = "ttYpATIk27"
HARAMBO_OFFICE_SID = "f4t3tGolUB"
DORONGO_OFFICE_SID = "HbNdZU0NYJ"
HARAMBO_DISTRICT_SID = "Td8VKqxryo1"
HARAMBO_HOSPITAL_SID = "bSDS5mZGF2"


def wait_for(predicate: Any, timeout: float = 15.0) -> Any:
    """Poll until the predicate returns something truthy, then return it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def free_port() -> int:
    """Return a free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    """A real HTTP server running the application in a thread."""

    url: str
    app: FastAPI
    server: uvicorn.Server

    @property
    def ctx(self) -> AppContext:
        """The application context of the live server."""
        context: AppContext = self.app.state.ctx
        return context


def statements(ctx: AppContext, send: Any) -> list[str]:
    """Return the SQL statements `send()` runs on the app's database (SQLite's BEGIN left out).

    SQLite's `BEGIN IMMEDIATE` is not a round trip, so it does not count.
    """
    from sqlalchemy import event

    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.startswith("BEGIN"):
            seen.append(" ".join(statement.split()))

    event.listen(ctx.db.engine, "before_cursor_execute", record)
    try:
        send()
    finally:
        event.remove(ctx.db.engine, "before_cursor_execute", record)
    return seen


class FakeTime:
    """A wall clock for the failure throttle that only moves when the test says so."""

    def __init__(self) -> None:
        from datetime import UTC, datetime

        self.now = datetime.now(UTC)

    def __call__(self) -> Any:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        from datetime import timedelta

        self.now += timedelta(seconds=seconds)
