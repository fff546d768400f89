"""Test fixtures: a real database (SQLite and PostgreSQL) built by the migrations, per test.

Each backend gets one template database per test session (migrated and seeded with the
default country); every test gets a fresh copy of it, so tests never see each other's data.
"""

from __future__ import annotations

import os
import secrets
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from crvshub.app import create_app
from crvshub.auth.seed import load_users
from crvshub.composition import build_context
from crvshub.context import AppContext
from crvshub.location.seed import load_country
from crvshub.migrate import upgrade
from crvshub.settings import BUILTIN_COUNTRY_DIR, Settings
from tests.helpers import LiveServer, free_port

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
# The server refuses to run without an operator key: every test process and every `crvshub`
# subprocess the tests start (they inherit the environment) shares this one.
os.environ.setdefault("CRVSHUB_SECRET_KEY", secrets.token_urlsafe(48))
_pg_skip_reason: list[str] = []


def _pg_admin_url() -> str | None:
    url = os.environ.get("CRVSHUB_TEST_DATABASE_URL") or DEFAULT_PG
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 2})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        if os.environ.get("CRVSHUB_TEST_DATABASE_URL"):
            raise RuntimeError(f"CRVSHUB_TEST_DATABASE_URL is set but unreachable: {exc}") from exc
        _pg_skip_reason.append(f"PostgreSQL not reachable at {url}")
        return None
    return url


PG_ADMIN_URL = _pg_admin_url()


def pytest_report_header() -> str:
    """Say which databases the suite runs on."""
    if PG_ADMIN_URL:
        return f"databases: SQLite and PostgreSQL ({make_url(PG_ADMIN_URL).host})"
    return "databases: SQLite only (PostgreSQL half SKIPPED: not reachable)"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print loudly when the PostgreSQL half was skipped."""
    if not PG_ADMIN_URL:
        terminalreporter.write_line(
            "NOTE: the PostgreSQL half of the suite was SKIPPED "
            "(set CRVSHUB_TEST_DATABASE_URL or start PostgreSQL on 127.0.0.1:5432)",
            yellow=True, bold=True,
        )


def _admin_exec(sql: str) -> None:
    assert PG_ADMIN_URL
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()


def _pg_url(name: str) -> str:
    assert PG_ADMIN_URL
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def _seed(url: str) -> None:
    upgrade(url)
    settings = Settings(database_url=url, environment="test")
    ctx = build_context(settings)
    with ctx.db.transaction() as session:
        load_country(session, BUILTIN_COUNTRY_DIR, "FAR")
        load_users(session, BUILTIN_COUNTRY_DIR, "test")
        ctx.keys.ensure(session)
    ctx.db.dispose()


@dataclass
class Template:
    """A migrated, seeded database that tests copy."""

    backend: str
    url: str
    path: Path | None = None


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """Build the SQLite template database once per test session."""
    path = tmp_path_factory.mktemp("tmpl") / "template.sqlite3"
    url = f"sqlite:///{path}"
    _seed(url)
    return Template("sqlite", url, path)


@pytest.fixture(scope="session")
def pg_template() -> Iterator[Template]:
    """Build the PostgreSQL template database once per test session."""
    if not PG_ADMIN_URL:
        pytest.skip(_pg_skip_reason[0] if _pg_skip_reason else "PostgreSQL not reachable")
    name = f"crvshub_tmpl_{uuid.uuid4().hex[:10]}"
    _admin_exec(f'CREATE DATABASE "{name}"')
    url = _pg_url(name)
    _seed(url)
    yield Template("postgresql", url)
    _admin_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """Run the test once per database backend."""
    return str(request.param)


@pytest.fixture
def database_url(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[str]:
    """Return the URL of a fresh copy of the seeded template database."""
    if backend == "sqlite":
        template: Template = request.getfixturevalue("sqlite_template")
        assert template.path
        target = tmp_path / "crvshub.sqlite3"
        shutil.copyfile(template.path, target)
        yield f"sqlite:///{target}"
        return
    template = request.getfixturevalue("pg_template")
    name = f"crvshub_t_{uuid.uuid4().hex[:12]}"
    template_name = make_url(template.url).database
    _admin_exec(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"')
    yield _pg_url(name)
    _admin_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings for one test: its own database, no embedded worker or warm start, loopback
    webhooks allowed (a test app serves a few requests: preparing all routes would cost more).

    The opt-ins the tests rely on are explicit here; tests/test_production_checklist.py runs
    the server with none of them.
    """
    return Settings(
        database_url=database_url, environment="test", embedded_worker=False,
        log_level="WARNING", webhook_allow_private=True, outbox_poll_interval=0.05,
        token_query_credentials=True, public_docs=True, public_metrics=True,
        warm_start=False,
    )


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    """The application under test."""
    return create_app(settings, start_worker=False)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """An HTTP client that talks to the application through ASGI (lifespan included)."""
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def ctx(app: FastAPI, client: TestClient) -> AppContext:
    """The application context (database, keys) of the running test app."""
    context: AppContext = app.state.ctx
    return context


@pytest.fixture
def db(ctx: AppContext) -> Iterator[Session]:
    """A session for arranging and checking data directly; committed at the end of each use."""
    with ctx.db.sessionmaker() as session:
        yield session


@pytest.fixture
def live_server(settings: Settings) -> Iterator[LiveServer]:
    """Start the application on a free loopback port (with its outbox worker)."""
    port = free_port()
    live_settings = settings.model_copy(update={"port": port, "public_url": "",
                                                "warm_start": True})
    application = create_app(live_settings, start_worker=True)
    config = uvicorn.Config(application, host="127.0.0.1", port=port, log_level="warning",
                            lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200 and server.started:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    else:
        raise RuntimeError("live server did not start")
    yield LiveServer(url, application, server)
    server.should_exit = True
    thread.join(15)
