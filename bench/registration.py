"""Benchmark: register actions per second through HTTP, against the raw database update.

    .venv/bin/python bench/registration.py [--database-url URL] [--records 400] [--concurrency 8]

Declared records are created directly, then a local registrar registers each one through
`POST /api/records/{id}/actions/register` on a real uvicorn server (no registration hook:
registration number, bundle update, audit row and event in one transaction). The baseline
is the same status update plus audit row written with plain SQL, one transaction each.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from _server import start_serve  # bench/_server.py
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import insert, update

from crvshub.auth import repository as auth_repository
from crvshub.auth import service as auth_service
from crvshub.auth.seed import load_users
from crvshub.composition import build_context
from crvshub.context import AppContext
from crvshub.db import new_id, utcnow
from crvshub.location.seed import load_country
from crvshub.migrate import upgrade
from crvshub.record import declarations
from crvshub.record.models import Record, RecordAction
from crvshub.record.service import Actor
from crvshub.settings import BUILTIN_COUNTRY_DIR, Settings

# The declaration bundle builder and free-port helper are shared with the test suite.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.helpers import free_port
from tests.record.helpers import birth_bundle

REGISTRAR = "r.olusinde"


def prepare(url: str, count: int) -> tuple[AppContext, list[str], list[str], str]:
    """Migrate, seed, and create `count` declared records for HTTP and as many for the baseline."""
    upgrade(url)
    settings = Settings(database_url=url, environment="test", embedded_worker=False,
                        log_level="WARNING")
    ctx = build_context(settings)
    with ctx.db.transaction() as session:
        load_country(session, BUILTIN_COUNTRY_DIR, "FAR")
        load_users(session, BUILTIN_COUNTRY_DIR, "test")
        ctx.keys.ensure(session)
        user = auth_repository.user_by_username(session, REGISTRAR)
        assert user is not None
        token, _ = auth_service.issue_user_token(settings, ctx.keys, user)
        actor = Actor("user", user.id, "Bench Registrar", user.role, user.office_id,
                      scopes=frozenset({"register", "declare"}))
        # A child of another name each: identical births would be flagged as duplicates.
        ids = [declarations.create(session, birth_bundle(given=uuid.uuid4().hex[:10]), actor,
                                   incomplete=False).id for _ in range(2 * count)]
    return ctx, ids[:count], ids[count:], token


def measure(label: str, work: list[str], run: Callable[[str], bool], workers: int,
            progress: Progress) -> tuple[str, int, float, list[float], int]:
    """Run `run` over the work with a thread pool; return timings."""
    task = progress.add_task(label, total=len(work))
    latencies: list[float] = []
    failures = 0

    def one(item: str) -> None:
        nonlocal failures
        start = time.perf_counter()
        ok = run(item)
        latencies.append(time.perf_counter() - start)
        failures += 0 if ok else 1
        progress.advance(task)

    began = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, work))
    return label, len(work), time.perf_counter() - began, latencies, failures


def raw_register(ctx: AppContext) -> Callable[[str], bool]:
    """Return the baseline: the status update and audit row in plain SQL."""
    def run(record_id: str) -> bool:
        with ctx.db.transaction() as session:
            session.execute(update(Record).where(Record.id == record_id).values(
                status="REGISTERED", version=Record.version + 1, updated_at=utcnow(),
                registration_number="R" + record_id))
            session.execute(insert(RecordAction).values(
                id=new_id(), record_id=record_id, action="registered", at=utcnow(),
                actor_type="user", actor_id="bench", actor_name="bench", data={}))
        return True
    return run


def http_register(base: str, token: str) -> Callable[[str], bool]:
    """Return the HTTP register action."""
    local = threading.local()

    def run(record_id: str) -> bool:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"})
        response = local.client.post(f"/api/records/{record_id}/actions/register")
        return response.status_code == 200
    return run


def start_server(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    """Start `crvshub serve` the README way (its own processes, no outbox worker needed)."""
    return start_serve({"CRVSHUB_DATABASE_URL": url, "CRVSHUB_EMBEDDED_WORKER": "false",
                        "CRVSHUB_LOG_LEVEL": "WARNING"}, port, workers)


def row(result: tuple[str, int, float, list[float], int]) -> list[str]:
    """Format one result line."""
    label, n, elapsed, lat, failures = result
    q = statistics.quantiles([x * 1000 for x in lat], n=100)
    return [label, str(n), f"{n / elapsed:,.0f}", f"{q[49]:.1f}", f"{q[94]:.1f}", f"{q[98]:.1f}",
            str(failures)]


def main() -> None:
    """Run the benchmark and print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--records", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="API processes of the server")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    console = Console(width=110)
    console.print(f"preparing {2 * args.records} declared records on {url.split(':')[0]} ...")
    ctx, http_ids, raw_ids, token = prepare(url, args.records)
    port = free_port()
    server = start_server(url, port, args.workers)
    with Progress(console=console, transient=True) as progress:
        base = measure("raw SQL update + audit row (baseline)", raw_ids, raw_register(ctx),
                       args.concurrency, progress)
        http = measure("POST .../actions/register (HTTP)", http_ids,
                       http_register(f"http://127.0.0.1:{port}", token), args.concurrency,
                       progress)
    server.terminate()
    server.wait(30)
    table = Table(title=f"Register actions, {url.split(':')[0]}, concurrency {args.concurrency}")
    for col in ("scenario", "n", "ops/s", "p50 ms", "p95 ms", "p99 ms", "failures"):
        table.add_column(col)
    for result in (base, http):
        table.add_row(*row(result))
    ratio = (base[1] / base[2]) / (http[1] / http[2])
    table.caption = f"HTTP register is {ratio:.1f}x slower than the raw update"
    console.print(table)
    ctx.db.dispose()


if __name__ == "__main__":
    main()
