"""Benchmark location reads over HTTP: the OpenCRVS facility list and a FHIR subtree search.

Starts `crvshub serve` (one API process) on a free port against the given database (migrated
and seeded first), sends requests from a few client threads, and prints one table with
throughput and latency percentiles, next to a baseline: the raw database query of the same
rows, so the ratio shows what the HTTP layer and the cache cost.

    .venv/bin/python bench/locations.py [--database-url URL] [--requests N] [--concurrency C]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from _server import start_serve  # bench/_server.py
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import text

from crvshub.db import make_engine
from crvshub.location.domain import stable_location_id

ROOT = Path(__file__).resolve().parents[1]
STATE_SID = "M0XvqZjxTW3"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(url: str) -> None:
    env = {**os.environ, "CRVSHUB_DATABASE_URL": url}
    for command in (["migrate"], ["seed"]):
        subprocess.run([sys.executable, "-m", "crvshub", *command], env=env, check=True,
                       capture_output=True)


def start_server(url: str, port: int) -> subprocess.Popen[bytes]:
    return start_serve({"CRVSHUB_DATABASE_URL": url, "CRVSHUB_LOG_LEVEL": "WARNING",
                        "CRVSHUB_EMBEDDED_WORKER": "false"}, port, 1, timeout=30)


def measure(call: Callable[[], None], total: int, threads: int,
            progress: Progress, label: str) -> tuple[float, list[float]]:
    latencies: list[float] = []
    lock = threading.Lock()
    task = progress.add_task(label, total=total)
    per_thread = total // threads

    def run() -> None:
        for _ in range(per_thread):
            start = time.perf_counter()
            call()
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
            progress.advance(task)

    began = time.perf_counter()
    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.perf_counter() - began, latencies


def row(table: Table, name: str, wall: float, latencies: list[float], size: str) -> None:
    ordered = sorted(latencies)

    def pct(p: float) -> str:
        return f"{ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000:.2f}"

    table.add_row(name, str(len(ordered)), f"{len(ordered) / wall:.0f}", pct(0.50), pct(0.95),
                  pct(0.99), f"{statistics.mean(ordered) * 1000:.2f}", size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a new SQLite file in a temp folder")
    parser.add_argument("--requests", type=int, default=1000, help="requests per scenario")
    parser.add_argument("--concurrency", type=int, default=4, help="client threads")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="crvshub-bench-")
    url = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
    prepare(url)
    port = free_port()
    server = start_server(url, port)
    base = f"http://127.0.0.1:{port}"
    state_id = stable_location_id("FAR", STATE_SID)
    engine = make_engine(url)
    client = httpx.Client(base_url=base, timeout=30,
                          limits=httpx.Limits(max_connections=args.concurrency * 2))
    facility_sql = text("SELECT * FROM locations WHERE type = 'HEALTH_FACILITY' "
                        "AND status = 'active' ORDER BY name_norm")
    subtree_sql = text("SELECT * FROM locations WHERE path LIKE :p AND id != :i "
                       "ORDER BY name_norm LIMIT 50")
    sizes: dict[str, str] = {}

    def facilities() -> None:
        response = client.get("/location?type=HEALTH_FACILITY&_count=0&status=active")
        assert response.status_code == 200
        sizes.setdefault("facilities", f"{len(response.content) // 1024} KiB")

    def subtree() -> None:
        response = client.get(f"/fhir/Location?partof:below=Location/{state_id}")
        assert response.status_code == 200
        sizes.setdefault("subtree", f"{len(response.content) // 1024} KiB")

    def raw(sql: object, **params: str) -> Callable[[], None]:
        def call() -> None:
            with engine.connect() as conn:
                conn.execute(sql, params).fetchall()  # type: ignore[call-overload]
        return call

    scenarios = [
        ("GET /location?type=HEALTH_FACILITY&_count=0", facilities, "facilities"),
        ("  baseline: raw SELECT of the same rows", raw(facility_sql), ""),
        ("GET /fhir/Location?partof:below=<state>", subtree, "subtree"),
        ("  baseline: raw SELECT path LIKE (first page)",
         raw(subtree_sql, p=f"%/{state_id}/%", i=state_id), ""),
    ]
    title = f"Location reads, {engine.dialect.name}, {args.concurrency} client threads"
    table = Table(title=title)
    columns = ("scenario", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "mean ms", "body")
    for column in columns:
        table.add_column(column, justify="left" if column in ("scenario", "body") else "right")
    console = Console(width=150)
    try:
        facilities()
        subtree()  # warm the cache and the connection pool
        with Progress(console=console, transient=True) as progress:
            for name, call, size_key in scenarios:
                wall, latencies = measure(call, args.requests, args.concurrency, progress, name)
                row(table, name, wall, latencies, sizes.get(size_key, "-"))
    finally:
        client.close()
        engine.dispose()
        server.terminate()
        server.wait(20)
    console.print(table)


if __name__ == "__main__":
    main()
