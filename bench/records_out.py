"""Benchmark FHIR reads of records: read by id and Task?identifier=, against raw SQL.

Generates N records into a fresh database (`crvshub migrate`, `seed`, `generate`), unless
--reuse, starts `crvshub serve` on a free port and, as a national registrar (every office),
reads random Tasks by id (`GET /fhir/Task/<id>`) and searches them by registration number
(`GET /fhir/Task?identifier=<number>`), one client, keep-alive. The baseline is the same
question asked as hand-written SQL straight to the database, bundle JSON decoded included
(the lookup the server makes, no policy, no audit, no rendering). Every sampled record is read
once before measuring, so both sides find it in the database's cache.

    .venv/bin/python bench/records_out.py --records 5000
    .venv/bin/python bench/records_out.py --records 20000 \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/crvshub_records_bench
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from crvshub.fhir.ids import entry_id
from search import serve_and_report, triple  # bench/search.py

console = Console(width=160)


def samples(engine: Engine, count: int, seed: int) -> list[tuple[str, str, str]]:
    """Return (record id, Task id, registration number) of random registered records."""
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT id, registration_number, bundle FROM records "
            "WHERE registration_number IS NOT NULL ORDER BY id LIMIT :n"), {"n": count * 20}).all()
    picked = random.Random(seed).sample(list(rows), min(count, len(rows)))
    out = []
    for record_id, number, bundle in picked:
        data = bundle if isinstance(bundle, dict) else json.loads(bundle)
        out.append((record_id, entry_id(record_id, data["entry"][1]), number))
    return out


def timed(call: Callable[[str], Any], values: list[str]) -> tuple[list[float], float]:
    """Call once per value; return latencies (s) and the throughput (calls/s)."""
    times = []
    started = time.perf_counter()
    for value in values:
        begin = time.perf_counter()
        call(value)
        times.append(time.perf_counter() - begin)
    return times, len(values) / (time.perf_counter() - started)


def main() -> None:
    """Run the benchmark and print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--database-url",
                        default="sqlite:////tmp/crvshub-records-out-bench.sqlite3")
    parser.add_argument("--reuse", action="store_true", help="Keep the database as it is.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    serve_and_report(parser.parse_args(), report)


def report(url: str, base: str, token: str, args: argparse.Namespace, size: str,
           generated: float | None) -> None:
    """Measure both operations over HTTP and in raw SQL, and print the table."""
    engine = create_engine(url)
    picked = samples(engine, args.samples, args.seed)
    http = httpx.Client(base_url=base, headers={"authorization": f"Bearer {token}"}, timeout=30)

    def read(task_id: str) -> None:
        answer = http.get(f"/fhir/Task/{task_id}")
        assert answer.status_code == 200, answer.text

    def search(number: str) -> None:
        answer = http.get("/fhir/Task", params={"identifier": number})
        assert answer.status_code == 200, answer.text
        assert len(answer.json()["entry"]) == 1, answer.text

    conn = engine.connect()

    def sql_read(task_id: str) -> None:
        record_id = conn.execute(text(
            "SELECT record_id FROM search_terms WHERE term = :t AND role = 'resource'"),
            {"t": "#" + task_id}).scalar_one()
        bundle = conn.execute(text("SELECT bundle FROM records WHERE id = :id"),
                              {"id": record_id}).scalar_one()
        json.loads(bundle) if isinstance(bundle, str) else bundle

    def sql_search(number: str) -> None:
        bundle = conn.execute(text("SELECT bundle FROM records WHERE registration_number = :n"),
                              {"n": number}).scalar_one()
        json.loads(bundle) if isinstance(bundle, str) else bundle

    # Warm up: the server's code paths, and every sampled record in the database's cache, so
    # that neither the first operation measured nor the baseline pays for cold pages.
    timed(read, [task for _, task, _ in picked[:20]])
    timed(sql_read, [task for _, task, _ in picked])
    title = (f"FHIR reads of records, {args.records:,} records, "
             f"{make_url(url).get_backend_name()}, database {size}"
             + (f", generated in {generated:.0f} s" if generated else "")
             + f", {len(picked)} requests each, 1 client")
    table = Table(title=title)
    for column in ("operation", "HTTP p50/p95/p99 ms", "HTTP req/s",
                   "raw SQL p50/p95/p99 ms", "raw SQL q/s"):
        table.add_column(column)
    for name, over_http, in_sql, key in (
            ("GET /fhir/Task/<id>", read, sql_read, 1),
            ("GET /fhir/Task?identifier=<BRN>", search, sql_search, 2)):
        values = [sample[key] for sample in picked]
        latencies, rate = timed(over_http, values)
        base_latencies, base_rate = timed(in_sql, values)
        table.add_row(name, triple(latencies), f"{rate:.0f}", triple(base_latencies),
                      f"{base_rate:.0f}")
    conn.close()
    http.close()
    engine.dispose()
    console.print(table)


if __name__ == "__main__":
    main()
