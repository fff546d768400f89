"""Webhook delivery benchmark: registrations fanned out to N subscribers on a local receiver.

Measures deliveries per second with one and two `crvshub worker` processes, the commit-to-first-
attempt delay under a steady event rate, and, as a baseline in the same run, the raw database
insert + select of the same delivery rows.

    .venv/bin/python bench/webhooks.py [--database-url URL] [--subscribers 10] [--events 300]
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import uvicorn
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import delete, func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.helpers import free_port
from tests.webhook.factories import emit_event, make_record

from crvshub.auth import crypto
from crvshub.auth.clients import create_client
from crvshub.auth.seed import load_users
from crvshub.composition import build_context
from crvshub.context import AppContext
from crvshub.db import new_id, utcnow
from crvshub.location.seed import load_country
from crvshub.migrate import upgrade
from crvshub.outbox.models import WorkerHeartbeat
from crvshub.settings import BUILTIN_COUNTRY_DIR, Settings
from crvshub.webhook import domain
from crvshub.webhook.models import Attempt, Delivery, Subscription

console = Console(width=140)
# The workers refuse to run without an operator key; a benchmark makes a throwaway one.
os.environ.setdefault("CRVSHUB_SECRET_KEY", secrets.token_urlsafe(48))


async def receiver_app(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
    """Accept every webhook with 200 and an empty body."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})


def start_receiver() -> str:
    port = free_port()
    config = uvicorn.Config(receiver_app, host="127.0.0.1", port=port, log_level="error",
                            access_log=False, lifespan="off", backlog=4096)
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}/hook"


def prepare(url: str, subscribers: int, callback: str) -> AppContext:
    upgrade(url)
    settings = Settings(database_url=url, environment="test", log_level="WARNING")
    ctx = build_context(settings)
    with ctx.db.transaction() as session:
        load_country(session, BUILTIN_COUNTRY_DIR, "FAR")
        load_users(session, BUILTIN_COUNTRY_DIR, "test")
        ctx.keys.ensure(session)
        creds = create_client(session, settings, name="bench", client_type="WEBHOOK",
                              created_by="bench", webhook_permissions=[
                                  {"event": "birth", "permissions": ["child-details"]}])
        secret = crypto.encrypt(creds.sha_secret.encode(), settings.derived_key("encryption"),
                                context=domain.SECRET_CONTEXT)
        for i in range(subscribers):
            session.add(Subscription(
                client_id=creds.client.id, callback=f"{callback}?s={i}", topic="BIRTH_REGISTERED",
                style="opencrvs", payload_kind="full", secret_enc=secret, status="active",
                created_at=utcnow(), last_sequence=0, consecutive_failures=0))
    return ctx


def emit_births(ctx: AppContext, count: int, rate: float | None = None) -> None:
    for _ in range(count):
        start = time.perf_counter()
        emit_event(ctx, make_record(ctx), "BIRTH_REGISTERED")
        if rate:
            time.sleep(max(0.0, 1 / rate - (time.perf_counter() - start)))


def counts(ctx: AppContext) -> tuple[int, int]:
    with ctx.db.transaction() as session:
        delivered = session.scalar(select(func.count()).select_from(Delivery)
                                   .where(Delivery.status == "delivered")) or 0
        total = session.scalar(select(func.count()).select_from(Delivery)) or 0
    return int(delivered), int(total)


def start_workers(url: str, n: int, tmp: Path) -> list[subprocess.Popen[bytes]]:
    env = {**os.environ, "CRVSHUB_DATABASE_URL": url, "CRVSHUB_ENVIRONMENT": "test",
           "CRVSHUB_WEBHOOK_ALLOW_PRIVATE": "true", "CRVSHUB_LOG_LEVEL": "WARNING"}
    return [subprocess.Popen([sys.executable, "-m", "crvshub", "worker"], env=env, cwd=tmp,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(n)]


def stop(workers: list[subprocess.Popen[bytes]]) -> None:
    for proc in workers:
        proc.terminate()
    for proc in workers:
        proc.wait(30)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def drain_run(ctx: AppContext, url: str, workers: int, events: int, tmp: Path,
              progress: Progress) -> tuple[float, list[float]]:
    with ctx.db.transaction() as session:
        session.execute(delete(Attempt))
        session.execute(delete(Delivery))
    task = progress.add_task(f"fan-out {events} births", total=events)
    for _ in range(events):
        emit_events_one(ctx)
        progress.advance(task)
    _, total = counts(ctx)
    drain = progress.add_task(f"deliver with {workers} worker(s)", total=total)
    procs = start_workers(url, workers, tmp)
    start = time.perf_counter()
    try:
        while True:
            delivered, _ = counts(ctx)
            progress.update(drain, completed=delivered)
            if delivered >= total:
                break
            time.sleep(0.1)
    finally:
        elapsed = time.perf_counter() - start
        stop(procs)
    with ctx.db.transaction() as session:
        latencies = [float(v) for v in session.scalars(select(Attempt.latency_ms))]
        first, last = session.execute(
            select(func.min(Delivery.first_attempt_at), func.max(Delivery.delivered_at))).one()
    # Timed from the first attempt to the last delivery: process start-up is not delivery.
    busy = (last - first).total_seconds() if first and last else elapsed
    return total / max(busy, 1e-6), latencies


def wait_started(ctx: AppContext, timeout: float = 120.0) -> None:
    """Wait for the worker's first heartbeat: a loaded machine can take seconds to start it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with ctx.db.transaction() as session:
            if session.scalar(select(func.count()).select_from(WorkerHeartbeat)):
                break
        time.sleep(0.1)
    time.sleep(1.0)  # its first rounds (and its LISTEN connection) are done


def emit_events_one(ctx: AppContext) -> None:
    emit_event(ctx, make_record(ctx), "BIRTH_REGISTERED")


def latency_run(ctx: AppContext, url: str, tmp: Path, progress: Progress,
                rate: float, seconds: float) -> tuple[float, list[float], list[float]]:
    """Emit births at a steady rate; return deliveries/s and, per delivery, commit -> first
    attempt and fan-out -> first attempt."""
    with ctx.db.transaction() as session:
        session.execute(delete(Attempt))
        session.execute(delete(Delivery))
    with ctx.db.transaction() as session:
        session.execute(delete(WorkerHeartbeat))
    procs = start_workers(url, 1, tmp)
    wait_started(ctx)
    n = int(rate * seconds)
    task = progress.add_task(f"steady {rate:.0f} births/s, 1 worker", total=n)
    committed: dict[str, datetime] = {}
    try:
        for _ in range(n):
            start = time.perf_counter()
            record = make_record(ctx)
            emit_event(ctx, record, "BIRTH_REGISTERED")
            committed[record.id] = utcnow()  # the commit has returned
            progress.advance(task)
            time.sleep(max(0.0, 1 / rate - (time.perf_counter() - start)))
        deadline = time.monotonic() + 30
        while counts(ctx)[0] < counts(ctx)[1] and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop(procs)
    with ctx.db.transaction() as session:
        rows = session.execute(select(Delivery.record_id, Delivery.created_at,
                                      Delivery.first_attempt_at)).all()
    # The commit time is taken when the emitting transaction's commit returned (a worker may
    # attempt a delivery a little before that: PostgreSQL tells the listener first).
    # created_at is set at the start of the fan-out, inside the emitting transaction.
    delays = [(first - committed[rid]).total_seconds() * 1000 for rid, _, first in rows if first]
    from_fanout = [(first - created).total_seconds() * 1000 for _, created, first in rows if first]
    attempted = [first for _, _, first in rows if first]
    span = (max(attempted) - min(created for _, created, _ in rows)).total_seconds() if rows else 0
    return len(attempted) / max(span, 1e-6), delays, from_fanout


def baseline(ctx: AppContext, rows: int, body: str) -> tuple[float, list[float]]:
    """Insert then select `rows` delivery rows with the same body: the database floor."""
    with ctx.db.transaction() as session:
        sub_id = session.scalars(select(Subscription.id)).first()
        session.execute(delete(Attempt))
        session.execute(delete(Delivery))
    timings = []
    start = time.perf_counter()
    for chunk in range(0, rows, 200):
        t0 = time.perf_counter()
        with ctx.db.transaction() as session:
            now = utcnow()
            session.execute(insert(Delivery), [
                {"id": new_id(), "subscription_id": sub_id, "topic": "BIRTH_REGISTERED",
                 "sequence": chunk + i, "body": body, "status": "pending", "attempts": 0,
                 "retry_step": 0, "next_attempt_at": now, "created_at": now}
                for i in range(min(200, rows - chunk))])
        with ctx.db.transaction() as session:
            list(session.scalars(select(Delivery.body).limit(200)))
        timings.append((time.perf_counter() - t0) * 1000 / 200)
    return rows / (time.perf_counter() - start), timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--subscribers", type=int, default=10)
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--rate", type=float, default=20.0, help="births/s in the latency run")
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="crvshub-bench-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.sqlite3'}"
    callback = start_receiver()
    ctx = prepare(url, args.subscribers, callback)
    table = Table(title=f"Webhook delivery ({ctx.db.engine.url.drivername}, "
                        f"{args.subscribers} subscribers, {args.events} births)")
    for col in ("run", "throughput", "p50 ms", "p95 ms", "p99 ms", "what the latency is"):
        table.add_column(col)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True) as progress:
        rates = {}
        for workers in (1, 2):
            rate, lat = drain_run(ctx, url, workers, args.events, tmp, progress)
            rates[workers] = rate
            table.add_row(f"{workers} worker(s), backlog drain", f"{rate:,.0f} deliveries/s",
                          f"{pct(lat, .5):.1f}", f"{pct(lat, .95):.1f}", f"{pct(lat, .99):.1f}",
                          "HTTP attempt")
        steady, commit, fanned = latency_run(ctx, url, tmp, progress, args.rate, args.seconds)
        with ctx.db.transaction() as session:
            body = session.scalars(select(Delivery.body)).first() or "{}"
        base_rate, base = baseline(ctx, args.events * args.subscribers, body)
    table.add_row(f"1 worker, steady {args.rate:.0f} births/s", f"{steady:,.0f} deliveries/s",
                  f"{pct(commit, .5):.0f}",
                  f"{pct(commit, .95):.0f}", f"{pct(commit, .99):.0f}",
                  "commit -> first attempt")
    table.add_row("  the same, from the fan-out", "",
                  f"{pct(fanned, .5):.0f}", f"{pct(fanned, .95):.0f}", f"{pct(fanned, .99):.0f}",
                  "fan-out start -> first attempt")
    table.add_row("baseline: raw insert+select of the same rows", f"{base_rate:,.0f} rows/s",
                  f"{statistics.median(base):.2f}", f"{pct(base, .95):.2f}",
                  f"{pct(base, .99):.2f}", "per row (batches of 200)")
    console.print(table)
    console.print(f"scaling 1 -> 2 workers: x{rates[2] / rates[1]:.2f}; "
                  f"poll interval {ctx.settings.outbox_poll_interval} s (the fallback)")
    ctx.db.dispose()


if __name__ == "__main__":
    main()
