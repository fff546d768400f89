"""Benchmark the staff web pages on a large database: every page an office uses, over HTTP.

Serves an existing database with `crvshub serve` (2 workers, as `make serve` does), signs in
staff users of the busiest office and national ones (created once, `bench.*`), then asks each
page `--requests` times from one client and prints p50/p95/p99 with GET /healthz as the
baseline of the same run. Pages: home, workqueue list, every workqueue (first and a deep page),
a record of each kind, review, correction and certificate steps, the search box with a tracking
ID and a common name, performance dashboard, users, a user's page, integrations.

    CRVSHUB_SECRET_KEY=... .venv/bin/python bench/web_pages.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/crvshub_1m [--requests 30]
"""

from __future__ import annotations

import argparse
import time

import httpx
from _server import start_serve  # bench/_server.py
from notification_ingest import free_port
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from search import database_size, triple  # bench/search.py

console = Console(width=150)
QUEUES = ("in-progress-health-system", "in-progress-field-agents", "ready-for-review",
          "requires-updates", "in-external-validation", "ready-to-print", "ready-to-issue")


def session_token(url: str, username: str, role: str, office_id: str | None) -> str:
    """Create (once) a staff user and return a session token for the web cookie."""
    from crvshub.auth import repository, service
    from crvshub.composition import build_context
    from crvshub.settings import Settings

    ctx = build_context(Settings(database_url=url))
    with ctx.db.transaction() as session:
        ctx.keys.ensure(session)
        user = repository.user_by_username(session, username)
        if user is None:
            office = office_id or next(v.id for v in ctx.location_cache.snapshot().ordered
                                       if v.type == "CRVS_OFFICE")
            user = service.create_user(session, username=username, given_names="Bench",
                                       family_name=role.title(), role=role, office=office,
                                       password="bench-password-1234")
        token, _ = service.issue_user_token(ctx.settings, ctx.keys, user)
    ctx.db.dispose()
    return token


def pick(url: str) -> dict[str, str]:
    """Return the busiest office and sample records and names of it (raw SQL, read only)."""
    engine = create_engine(url)
    with engine.connect() as db:
        office = db.execute(text(
            "SELECT office_id FROM records GROUP BY office_id ORDER BY count(*) DESC LIMIT 1"
        )).scalar_one()

        def one(where: str) -> str:
            found = db.execute(text(f"SELECT id FROM records WHERE office_id = :o AND {where} "
                                    "ORDER BY created_at DESC LIMIT 1"), {"o": office}).scalar()
            return str(found or "")

        registered = one("status = 'REGISTERED'")
        tracking = db.execute(text("SELECT tracking_id FROM records WHERE id = :i"),
                              {"i": registered}).scalar_one()
        family = db.execute(text(
            "SELECT subject_family FROM records WHERE subject_family IS NOT NULL "
            "GROUP BY subject_family ORDER BY count(*) DESC LIMIT 1")).scalar_one()
        picked = {"office": str(office), "registered": registered, "tracking": str(tracking),
                  "validated": one("status = 'VALIDATED'"), "declared": one("status = 'DECLARED'"),
                  "in_progress": one("status = 'IN_PROGRESS'"), "family": str(family)}
    engine.dispose()
    return picked


def pages(p: dict[str, str]) -> list[tuple[str, str, str]]:
    """Return (label, who, path) of every page measured."""
    local = [("workqueue list", "registrar", "/workqueues")]
    local += [(f"workqueue {q}", "registrar", f"/workqueues/{q}") for q in QUEUES]
    return [
        ("home", "registrar", "/"),
        *local,
        ("workqueue ready-to-print, page 20", "registrar", "/workqueues/ready-to-print?page=20"),
        ("workqueue ready-for-review, all offices", "national",
         "/workqueues/ready-for-review?office=all"),
        ("record, registered", "registrar", f"/records/{p['registered']}"),
        ("record, declared", "registrar", f"/records/{p['declared'] or p['validated']}"),
        ("record, in progress", "registrar", f"/records/{p['in_progress'] or p['declared']}"),
        ("review before registering", "registrar",
         f"/records/{p['validated'] or p['declared']}/review/register"),
        ("correction form", "registrar", f"/records/{p['registered']}/correction"),
        ("declaration form, new birth", "registrar", "/records/new?event=birth"),
        ("declaration form, completing", "registrar",
         f"/records/{p['in_progress'] or p['declared']}/edit"),
        ("certificate form", "registrar", f"/records/{p['registered']}/certificate"),
        ("search: tracking ID", "registrar", f"/search?q={p['tracking']}"),
        ("search: common family name", "registrar", f"/search?q={p['family']}"),
        ("performance dashboard", "national", "/performance"),
        ("users", "admin", "/users"),
        ("user page", "admin", "/users/bench.registrar.local"),
        ("integrations", "admin", "/integrations"),
    ]


def measure(http: httpx.Client, cookie: str, path: str, requests: int) -> tuple[list[float], int]:
    """Ask a page `requests` times after two warm-ups; times in s and the last status."""
    cookies = {"crvshub_session": cookie}
    status = 0
    for _ in range(2):
        status = http.get(path, cookies=cookies).status_code
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        status = http.get(path, cookies=cookies).status_code
        times.append(time.perf_counter() - started)
    return times, status


def refresh_statistics(url: str) -> None:
    """Recount every kept monthly figure (the performance dashboard reads them)."""
    from crvshub.composition import build_context
    from crvshub.db import utcnow
    from crvshub.settings import Settings
    from crvshub.statistics import aggregates

    ctx = build_context(Settings(database_url=url))
    started = time.perf_counter()
    with ctx.db.transaction() as session:
        aggregates.refresh(session, utcnow(), full=True)
    console.print(f"kept monthly figures recounted in {time.perf_counter() - started:.1f} s")


def main() -> None:
    """Serve the database and time every page."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database-url", required=True, help="An existing, filled database.")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--refresh-statistics", action="store_true",
                        help="Recount the kept monthly figures first, as the worker does every "
                             "minute in production (a generated database has none).")
    args = parser.parse_args()
    url = args.database_url
    if args.refresh_statistics:
        refresh_statistics(url)
    picked = pick(url)
    cookies = {
        "registrar": session_token(url, "bench.registrar.local", "LOCAL_REGISTRAR",
                                   picked["office"]),
        "national": session_token(url, "bench.registrar.national", "NATIONAL_REGISTRAR", None),
        "admin": session_token(url, "bench.sysadmin", "NATIONAL_SYSTEM_ADMIN", None),
    }
    port = free_port()
    server = start_serve({"CRVSHUB_DATABASE_URL": url, "CRVSHUB_LOG_LEVEL": "WARNING",
                          "CRVSHUB_EMBEDDED_WORKER": "false"}, port, args.workers)
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=60, follow_redirects=False) as http:
            baseline, _ = measure(http, "", "/healthz", args.requests)
            table = Table(title=f"Staff pages, {make_url(url).get_backend_name()}, database "
                                f"{database_size(url)}, {args.requests} requests each")
            for column in ("page", "as", "status", "p50 / p95 / p99 ms"):
                table.add_column(column)
            table.add_row("baseline: GET /healthz", "-", "200", triple(baseline))
            for label, who, path in pages(picked):
                times, status = measure(http, cookies[who], path, args.requests)
                table.add_row(label, who, str(status), triple(times))
        console.print(table)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
