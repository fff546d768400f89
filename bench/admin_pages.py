"""Benchmark the admin pages: users list and search, a user's page with a long audit, a client page.

Builds a throwaway SQLite database (migrate, seed with the demo users), adds `--users` staff users
and `--actions` record actions by one registrar, then times each page through the ASGI app
(no network), signed in with a session cookie, against GET /healthz as the baseline of the same
run.

    .venv/bin/python bench/admin_pages.py [--users 5000] [--actions 200000] [--requests 200]
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text

os.environ.setdefault("CRVSHUB_SECRET_KEY", secrets.token_urlsafe(48))

from crvshub.app import create_app
from crvshub.settings import Settings

CRVSHUB = str(Path(sys.executable).parent / "crvshub")
console = Console(width=140)
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]*)"')


def prepare(url: str, users: int, actions: int) -> None:
    env = {**os.environ, "CRVSHUB_DATABASE_URL": url, "CRVSHUB_LOG_LEVEL": "WARNING"}
    for step in (["migrate"], ["seed", "--demo"]):
        subprocess.run([CRVSHUB, *step], env=env, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    engine = create_engine(url)
    now = datetime.now(UTC).replace(tzinfo=None)

    def stamp(at: datetime) -> str:
        return at.strftime("%Y-%m-%d %H:%M:%S.%f")  # how SQLAlchemy stores times in SQLite
    with engine.begin() as conn:
        template = conn.execute(text(
            "SELECT password_hash, office_id FROM users WHERE username = 'r.olusinde'")).one()
        registrar = conn.execute(text(
            "SELECT id FROM users WHERE username = 'r.olusinde'")).scalar_one()
        conn.execute(text(
            "INSERT INTO users (id, username, given_names, family_name, role, office_id, "
            "password_hash, status, must_change_password, created_at, updated_at) VALUES "
            "(:id, :username, 'Bench', :family, 'FIELD_AGENT', :office, :hash, 'active', 0, "
            ":at, :at)"),
            [{"id": str(uuid.uuid4()), "username": f"bench.{i:06d}", "family": f"User{i}",
              "office": template.office_id, "hash": template.password_hash, "at": stamp(now)}
             for i in range(users)])
        record_id = str(uuid.uuid4())
        conn.execute(text(
            "INSERT INTO records (id, tracking_id, event, status, office_id, composition_type, "
            "source, version, bundle, created_at, updated_at) VALUES (:id, 'BBENCH1', 'birth', "
            "'REGISTERED', :office, 'birth-registration', 'staff', 1, '{}', :at, :at)"),
            {"id": record_id, "office": template.office_id, "at": stamp(now)})
        conn.execute(text(
            "INSERT INTO record_actions (id, record_id, action, at, actor_type, actor_id, "
            "actor_name, actor_role, data) VALUES (:id, :record, 'viewed', :at, 'user', :actor, "
            "'Ruth Olusinde', 'LOCAL_REGISTRAR', '{}')"),
            [{"id": str(uuid.uuid4()), "record": record_id, "actor": registrar,
              "at": stamp(now - timedelta(seconds=i))} for i in range(actions)])
    engine.dispose()


def sign_in(client: TestClient, username: str) -> None:
    form = CSRF_FIELD.search(client.get("/").text)
    assert form
    response = client.post("/login", data={"username": username, "password": "test",
                                           "csrf": form.group(1)}, follow_redirects=False)
    assert response.status_code == 303, response.text


def timed(client: TestClient, path: str, requests: int) -> tuple[float, float, float, float]:
    for _ in range(5):
        assert client.get(path).status_code == 200, path
    samples = []
    start = time.perf_counter()
    for _ in range(requests):
        began = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, path
    elapsed = time.perf_counter() - start
    cuts = statistics.quantiles(samples, n=100)
    return requests / elapsed, statistics.median(samples), cuts[94], cuts[98]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--actions", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        began = time.perf_counter()
        prepare(url, args.users, args.actions)
        console.print(f"prepared {args.users} users and {args.actions} record actions in "
                      f"{time.perf_counter() - began:.1f} s")
        settings = Settings(database_url=url, environment="test", embedded_worker=False,
                            log_level="WARNING", api_rate_per_second=1e6, api_rate_burst=1e6)
        with TestClient(create_app(settings)) as client:
            sign_in(client, "h.sewanti")
            client_id = "bench-client"
            page = client.get("/integrations")
            csrf = CSRF_FIELD.search(page.text)
            assert csrf
            created = client.post("/integrations", data={
                "csrf": csrf.group(1), "name": "Bench bus", "type": "WEBHOOK",
                "perm": "birth:child-details"}, follow_redirects=False)
            client_id = created.headers["location"].split("/")[2]
            registrar = client.get("/users?q=olusinde").text
            user_id = re.search(r'href="/users/([^"]+)">Ruth', registrar)
            assert user_id
            paths = {
                "GET /healthz (baseline)": "/healthz",
                f"GET /users (national admin, {args.users + 18} users)": "/users",
                "GET /users?q=user4999 (search)": "/users?q=user4999",
                f"GET /users/{{id}} (audit of {args.actions} actions)":
                    f"/users/{user_id.group(1)}",
                "GET /integrations/{client_id}": f"/integrations/{client_id}",
                "GET /integrations": "/integrations",
            }
            table = Table(title="Admin pages, in process (ASGI), SQLite, one client")
            for column in ("page", "req/s", "p50 ms", "p95 ms", "p99 ms"):
                table.add_column(column, justify="right" if column != "page" else "left")
            for label, path in paths.items():
                rate, p50, p95, p99 = timed(client, path, args.requests)
                table.add_row(label, f"{rate:.0f}", f"{p50:.1f}", f"{p95:.1f}", f"{p99:.1f}")
            console.print(table)


if __name__ == "__main__":
    main()
