"""Benchmark vital statistics and bulk export on generated records, with raw-SQL baselines.

(Not named statistics.py: a module of that name in bench/ would hide the standard library
`statistics` module from the other benchmarks.)

Generates N records into a fresh database (`crvshub migrate`, `seed`, `generate`) unless
--reuse, then, in this process through the ASGI application (authentication and JSON
included), asks every statistics question for last year and the whole country R times as the
performance manager: with --compare first with no monthly counts kept (every figure counted
from the records), then after the worker's full recount of the monthly counts (timed). The
baseline is the simplest SQL that answers a count for the same rows (one GROUP BY, no place
resolution). Then it runs a full FHIR NDJSON export and a CSV
export to a temporary folder (the worker's code, in one go) and reports records/s,
resources/s and the growth of peak RSS; the baseline reads the same bundles with one raw
SELECT and writes their resources to /dev/null.

    .venv/bin/python bench/vital_statistics.py --records 100000 --database-url postgresql+psycopg://...
    flock /work/bench.lock .venv/bin/python bench/vital_statistics.py --reuse --compare \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/crvshub_1m_rec
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from _server import CRVSHUB  # bench/_server.py
from rich.console import Console
from rich.table import Table
from sqlalchemy import text

from search import database_size, fresh_database  # bench/search.py

console = Console(width=160)
REGISTERED = "('REGISTERED','CERTIFIED','ISSUED','CORRECTION_REQUESTED')"


def _times(call: Callable[[], Any], repeat: int) -> list[float]:
    call()  # warm caches and plans
    found = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        found.append((time.perf_counter() - started) * 1000)
    return found


def _row(table: Table, name: str, ms: list[float]) -> None:
    ordered = sorted(ms)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    table.add_row(name, f"{1000 * len(ms) / sum(ms):.1f}", f"{pick(0.5):.1f}",
                  f"{pick(0.95):.1f}", f"{pick(0.99):.1f}")


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def forget_kept_counts(ctx: Any) -> None:
    """Drop the worker's monthly counts: every figure is then counted from the records."""
    with ctx.db.transaction() as session:
        session.execute(text("DELETE FROM statistics_state"))
        session.execute(text("DELETE FROM statistics_monthly"))


def recount(ctx: Any) -> float:
    """Run the worker's full recount of the monthly counts; return its seconds."""
    from crvshub.db import utcnow
    from crvshub.statistics import aggregates

    started = time.monotonic()
    with ctx.db.transaction() as session:
        aggregates.refresh(session, utcnow(), full=True)
    return time.monotonic() - started


def queries(client: Any, ctx: Any, token: str, year: int, repeat: int, how: str) -> Table:
    """Time every statistics route, and the raw-SQL baseline."""
    table = Table(title=f"Statistics for {year}, whole country, {how} ({repeat} runs each)")
    for col in ("question", "per s", "p50 ms", "p95 ms", "p99 ms"):
        table.add_column(col, justify="right" if col != "question" else "left")
    headers = {"Authorization": f"Bearer {token}"}
    asks = [("counts by month", "/api/statistics/counts", {"by": "month"}),
            ("counts by district", "/api/statistics/counts", {"by": "place"}),
            ("counts by sex", "/api/statistics/counts", {"by": "sex"}),
            ("counts by place type", "/api/statistics/counts", {"by": "place-type"}),
            ("counts by mother's age", "/api/statistics/counts", {"by": "mother-age"}),
            ("counts by time to reg.", "/api/statistics/counts", {"by": "time-to-registration"}),
            ("completeness by district", "/api/statistics/completeness", {}),
            ("timeliness by district", "/api/statistics/timeliness", {}),
            ("backlog of offices", "/api/statistics/backlog", {})]
    for name, path, params in asks:
        def ask(path: str = path, params: dict[str, Any] = params) -> None:
            answer = client.get(path, params={"year": year, **params}, headers=headers)
            assert answer.status_code == 200, answer.text
        _row(table, name, _times(ask, repeat))
    start, end = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    sql = text(f"SELECT event, count(*) FROM records WHERE status IN {REGISTERED} "
               "AND registered_at >= :a AND registered_at < :b GROUP BY event")

    def baseline() -> None:
        with ctx.db.engine.connect() as conn:
            conn.execute(sql, {"a": start, "b": end}).all()
    _row(table, "baseline: raw SQL count by event", _times(baseline, repeat))
    return table


def exports(ctx: Any, records: int, formats: list[str], baseline: bool,
            limit: float | None) -> Table:
    """Run a full NDJSON and a CSV export, and the raw-SQL read-and-write baseline.

    With `limit` (seconds), each export stops after its first step of that length (the
    worker's own time slicing) and the rates are those of the part written.
    """
    from crvshub.statistics import exports as jobs

    cut = f", each stopped after {limit:.0f} s" if limit else ""
    table = Table(title=f"Bulk export of {records} records{cut}")
    for col in ("export", "seconds", "records/s", "resources/s", "peak RSS growth MiB",
                "our CPU s"):
        table.add_column(col, justify="right" if col != "export" else "left")
    for fmt in formats:
        with ctx.db.transaction() as session:
            job = jobs.kick_off_local(session, jobs.ExportRequest(
                fmt, "system", jobs.parse_types(None, "system") if fmt == "ndjson" else (),
                None, "bench", "bench"))
        with tempfile.TemporaryDirectory() as folder:
            before, started, cpu = _peak_mib(), time.monotonic(), time.process_time()
            jobs.run_export(ctx, job, Path(folder), limit)
            seconds, cpu = time.monotonic() - started, time.process_time() - cpu
            lines = sum(sum(1 for _ in p.open("rb")) for p in Path(folder).iterdir())
            lines -= 1 if fmt == "csv" else 0
        with ctx.db.transaction() as session:
            done = jobs.job_for(session, job, "bench").records_done
        table.add_row(f"{fmt} (worker code), {done:,} records", f"{seconds:.1f}",
                      f"{done / seconds:,.0f}",
                      f"{lines / seconds:,.0f}" if fmt == "ndjson" else "",
                      f"{_peak_mib() - before:.0f}", f"{cpu:.1f}")
    if not baseline:
        return table
    before, started, count, read = _peak_mib(), time.monotonic(), 0, 0
    with open("/dev/null", "wb") as sink, ctx.db.engine.connect() as conn:
        rows = conn.execution_options(yield_per=1000).execute(text("SELECT bundle FROM records"))
        for (bundle,) in rows:
            data = bundle if isinstance(bundle, dict) else orjson.loads(bundle)
            for entry in data["entry"]:
                sink.write(orjson.dumps(entry["resource"]) + b"\n")
                count += 1
            read += 1
            if limit and read % 1000 == 0 and time.monotonic() - started >= limit:
                break
    seconds = time.monotonic() - started
    table.add_row(f"baseline: raw SELECT + dumps, {read:,} records", f"{seconds:.1f}",
                  f"{read / seconds:,.0f}",
                  f"{count / seconds:,.0f}", f"{_peak_mib() - before:.0f}")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--database-url", default="sqlite:///bench-statistics.sqlite3")
    parser.add_argument("--reuse", action="store_true", help="Keep the database as it is.")
    parser.add_argument("--compare", action="store_true",
                        help="First time the routes counting from the records (no kept counts).")
    parser.add_argument("--formats", default="ndjson,csv", help="Exports to run ('' for none).")
    parser.add_argument("--no-export-baseline", action="store_true")
    parser.add_argument("--exports-only", action="store_true",
                        help="Skip the statistics questions and the recount.")
    parser.add_argument("--export-seconds", type=float, default=None,
                        help="Stop each export after this long (rates of the part written).")
    args = parser.parse_args()
    if not args.reuse:
        seconds = fresh_database(args.database_url, args.records, args.seed)
        console.print(f"generated {args.records} records in {seconds:.0f} s")
        subprocess.run([CRVSHUB, "seed", "--demo"], check=True, stdout=subprocess.DEVNULL,
                       env={**os.environ, "CRVSHUB_DATABASE_URL": args.database_url,
                            "CRVSHUB_LOG_LEVEL": "WARNING"})
    where = args.database_url.split("@")[-1]
    console.print(f"database: {where} ({database_size(args.database_url)})")

    from fastapi.testclient import TestClient

    from crvshub.app import create_app
    from crvshub.auth import repository, service
    from crvshub.settings import Settings

    app = create_app(Settings(database_url=args.database_url, log_level="WARNING",
                              embedded_worker=False), start_worker=False)
    with TestClient(app) as client:
        ctx = app.state.ctx
        with ctx.db.transaction() as session:
            user = repository.user_by_username(session, "d.okpaleni")
            if user is None:
                raise SystemExit("seed the demo users first (crvshub seed --demo)")
            token, _ = service.issue_user_token(ctx.settings, ctx.keys, user)
        year = datetime.now(UTC).year - 1
        if args.compare and not args.exports_only:
            forget_kept_counts(ctx)
            console.print(queries(client, ctx, token, year, args.repeat, "counted from records"))
        if not args.exports_only:
            console.print(f"worker's full recount of the monthly counts: {recount(ctx):.1f} s")
            console.print(queries(client, ctx, token, year, args.repeat, "monthly counts kept"))
        with ctx.db.engine.connect() as conn:
            total = int(conn.execute(text("SELECT count(*) FROM records")).scalar() or 0)
        formats = [f for f in args.formats.split(",") if f]
        if formats or not args.no_export_baseline:
            console.print(exports(ctx, total, formats, not args.no_export_baseline,
                                  args.export_seconds))


if __name__ == "__main__":
    main()
