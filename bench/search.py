"""Benchmark record search at scale: ten query types over HTTP, one and eight clients, raw SQL.

Generates N records into a fresh database (`crvshub migrate`, `seed`, `generate`), unless
--reuse, starts `crvshub serve` on a free port and asks OpenCRVS `searchEvents` over
/graphql as the national registrar (every office). Each query type runs with one client,
then with eight concurrent clients; the same question asked as hand-written SQL straight to
the database (the index lookup the engine makes, one page, no count or ranking) is the
baseline. "found" is the share of answers holding the record the sample was taken from.

    .venv/bin/python bench/search.py --records 100000 --database-url postgresql+psycopg://...
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
from _search_queries import QUERY_TYPES, Sample, samples, sql_baseline
from _server import CRVSHUB, start_serve  # bench/_server.py
from notification_ingest import free_port
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

console = Console(width=160)
FIND = """query ($p: AdvancedSearchParametersInput!) {
  searchEvents(advancedSearchParameters: $p, count: 10) { totalItems results { id } } }"""


def fresh_database(url: str, records: int, seed: int) -> float:
    """Recreate the database, migrate, seed, generate; return the generation time in s."""
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[1])
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        name = make_url(url).database
        admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    env = {**os.environ, "CRVSHUB_DATABASE_URL": url, "CRVSHUB_LOG_LEVEL": "WARNING"}
    for step in (["migrate"], ["seed"]):
        subprocess.run([CRVSHUB, *step], env=env, check=True, stdout=subprocess.DEVNULL)
    started = time.monotonic()
    subprocess.run([CRVSHUB, "generate", "--records", str(records), "--seed", str(seed)],
                   env=env, check=True)
    return time.monotonic() - started


def database_size(url: str) -> str:
    """Return the size of the database on disk."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1]
        size = sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p))
    else:
        engine = create_engine(url)
        with engine.connect() as conn:
            size = int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar()
                       or 0)
        engine.dispose()
    return f"{size / 2**30:.2f} GiB" if size > 2**30 else f"{size / 2**20:.0f} MiB"


def registrar_token(url: str) -> str:
    """Create a national registrar and return an access token (sees every office)."""
    from crvshub.auth import repository, service
    from crvshub.composition import build_context
    from crvshub.settings import Settings

    ctx = build_context(Settings(database_url=url))
    with ctx.db.transaction() as session:
        ctx.keys.ensure(session)
        user = repository.user_by_username(session, "bench.registrar")
        if user is None:
            office = ctx.location_cache.snapshot()
            office_id = next(v.id for v in office.ordered if v.type == "CRVS_OFFICE")
            user = service.create_user(session, username="bench.registrar", given_names="Bench",
                                       family_name="Registrar", role="NATIONAL_REGISTRAR",
                                       office=office_id, password="bench-password-1234")
        token, _ = service.issue_user_token(ctx.settings, ctx.keys, user)
    ctx.db.dispose()
    return token


async def _ask(http: aiohttp.ClientSession, url: str, params: dict[str, Any],
               ) -> tuple[float, list[str] | None]:
    """Ask one question; the ids found, or None when the server answered with an error."""
    started = time.perf_counter()
    async with http.post(url, json={"query": FIND, "variables": {"p": params}}) as answer:
        body = await answer.json()
    took = time.perf_counter() - started
    if answer.status != 200 or "errors" in body:
        console.print(f"[red]search failed: {answer.status} {str(body)[:160]}")
        return took, None
    return took, [r["id"] for r in body["data"]["searchEvents"]["results"]]


async def run_http(base: str, token: str, work: list[Sample], clients: int,
                   ) -> tuple[list[float], float, int]:
    """Ask every sample from `clients` concurrent clients: latencies, found share, errors."""
    headers = {"authorization": f"Bearer {token}"}
    queue = list(work)
    times: list[float] = []
    found = failed = 0
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(headers=headers, connector=connector) as http:
        async def client() -> None:
            nonlocal found, failed
            while queue:
                sample = queue.pop()
                took, ids = await _ask(http, base + "/graphql", sample.params)
                times.append(took)
                failed += ids is None
                found += sample.record_id in (ids or ())
        await asyncio.gather(*(client() for _ in range(clients)))
    return times, found / max(1, len(work)), failed


def pct(values: list[float], q: float) -> float:
    """Return the q-quantile of latencies, in ms."""
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def triple(values: list[float]) -> str:
    """Return "p50 / p95 / p99" in ms."""
    return " / ".join(f"{pct(values, q):.1f}" for q in (0.5, 0.95, 0.99))


def main() -> None:
    """Run the benchmark and print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--database-url", default="sqlite:////tmp/crvshub-search-bench.sqlite3")
    parser.add_argument("--reuse", action="store_true", help="Keep the database as it is.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-type", type=int, default=60, help="Queries per type and mode.")
    parser.add_argument("--workers", type=int, default=2)
    serve_and_report(parser.parse_args(), report)


Report = Callable[[str, str, str, argparse.Namespace, str, float | None], None]


def serve_and_report(args: argparse.Namespace, report: Report) -> None:
    """Fill (or reuse) the database, serve it with `crvshub serve`, and run `report` on it.

    `report(url, base_url, token, args, size, generated_seconds)`; the token is a national
    registrar's. Used by the record-search and records-out benchmarks.
    """
    url = args.database_url
    generated = None if args.reuse else fresh_database(url, args.records, args.seed)
    size = database_size(url)
    token = registrar_token(url)
    port = free_port()
    server = start_serve({"CRVSHUB_DATABASE_URL": url, "CRVSHUB_LOG_LEVEL": "WARNING",
                          "CRVSHUB_EMBEDDED_WORKER": "false"}, port, args.workers)
    try:
        report(url, f"http://127.0.0.1:{port}", token, args, size, generated)
    finally:
        server.terminate()
        server.wait(timeout=30)


def report(url: str, base: str, token: str, args: argparse.Namespace, size: str,
           generated: float | None) -> None:
    """Measure every query type and print the table."""
    engine = create_engine(url)
    picked = samples(engine, args.per_type, args.seed)
    title = (f"Record search, {args.records:,} records, {make_url(url).get_backend_name()}, "
             f"database {size}" + (f", generated in {generated:.0f} s" if generated else ""))
    table = Table(title=title)
    for column in ("query type", "HTTP 1 client p50/p95/p99 ms", "found",
                   "HTTP 8 clients p50/p95/p99 ms", "errors", "raw SQL p50/p95/p99 ms"):
        table.add_column(column)
    asyncio.run(run_http(base, token, picked[QUERY_TYPES[0]][:5], 1))  # warm up
    for kind in QUERY_TYPES:
        work = picked[kind]
        single, found, failed = asyncio.run(run_http(base, token, work, 1))
        many, _, failed_many = asyncio.run(run_http(base, token, work * 2, 8))
        baseline = sql_baseline(engine, work)
        table.add_row(kind, triple(single), f"{found:.0%}", triple(many),
                      str(failed + failed_many), triple(baseline))
    engine.dispose()
    console.print(table)


if __name__ == "__main__":
    main()
