"""Benchmark POST /notification: sustained throughput, latency at a fixed load, raw-insert baseline.

Starts CRVS Hub the README way (`crvshub migrate`, `crvshub seed`, `crvshub serve`) on a free
port against the given database, posts valid birth and death notifications from concurrent
clients, then inserts the same bundles straight into the same database for comparison.

    .venv/bin/python bench/notification_ingest.py [--database-url URL] [--duration 15]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import socket
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from _server import start_serve  # bench/_server.py
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import insert

from crvshub.synthetic.names import CULTURES

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "docs" / "integrations" / "examples"
console = Console()


def free_port() -> int:
    """Return a free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bundles(count: int) -> list[bytes]:
    """Return `count` distinct valid notifications (births and deaths, minimal and full)."""
    names = ("birth-full", "death-full", "birth-minimal", "death-minimal")
    templates = [(EXAMPLES / f"{n}.json").read_text() for n in names]
    out = []
    for i in range(count):
        text = templates[i % len(templates)]
        bundle = json.loads(text)
        for entry in bundle["entry"]:
            text = text.replace(entry["fullUrl"], f"urn:uuid:{uuid.uuid4()}")
        fresh = json.loads(text)
        fresh["entry"][0]["resource"].pop("identifier", None)
        _other_people(fresh, random.Random(i))
        out.append(json.dumps(fresh).encode())
    return out


def _other_people(bundle: dict[str, Any], rnd: random.Random) -> None:
    """Give every person of a bundle another name, and the event another date, as real traffic has.

    Otherwise every notification would repeat the same four people, and the duplicate check
    would compare each one with up to 50 earlier copies of itself.
    """
    patients = [e["resource"] for e in bundle["entry"]
                if e["resource"].get("resourceType") == "Patient"]
    for patient in patients:
        culture = rnd.choice(CULTURES)
        pool = culture.female if patient.get("gender") == "female" else culture.male
        patient["name"] = [{"use": "en", "given": [rnd.choice(pool)],
                            "family": rnd.choice(culture.family)}]
    when = (datetime.now(UTC).date() - timedelta(days=1 + rnd.randrange(300))).isoformat()
    subject = patients[0] if patients else {}
    if "deceasedDateTime" in subject:
        subject["deceasedDateTime"] = when
    elif subject:
        subject["birthDate"] = when


def health_token(database_url: str) -> str:
    """Create a HEALTH client in the benchmark database and return its token."""
    from crvshub.auth import service as auth_service
    from crvshub.auth.clients import create_client
    from crvshub.composition import build_context
    from crvshub.settings import Settings

    ctx = build_context(Settings(database_url=database_url))
    with ctx.db.transaction() as session:
        ctx.keys.ensure(session)
        creds = create_client(session, ctx.settings, name="Bench hospital", client_type="HEALTH",
                              created_by="bench")
        token, _ = auth_service.issue_client_token(ctx.settings, ctx.keys, creds.client)
    ctx.db.dispose()
    return token


def _session(url: str, token: str, connections: int) -> aiohttp.ClientSession:
    """Return the load generator's HTTP client.

    aiohttp spends about a third of the CPU per request that httpx does; the load generator
    shares the machine's two cores with the server under test, so a cheaper client leaves more
    of them to CRVS Hub.
    """
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"}
    return aiohttp.ClientSession(
        base_url=url, headers=headers, timeout=aiohttp.ClientTimeout(total=60),
        connector=aiohttp.TCPConnector(limit=connections),
    )


async def _post(http: aiohttp.ClientSession, body: bytes, lat: list[float],
                errors: list[int]) -> None:
    start = time.perf_counter()
    async with http.post("/notification", data=body) as response:
        await response.read()
    lat.append(time.perf_counter() - start)
    if response.status != 200:
        errors.append(response.status)


async def sustained(url: str, token: str, payloads: list[bytes], clients: int, seconds: float,
                    progress: Progress) -> dict[str, Any]:
    """Post as fast as `clients` concurrent clients can for `seconds`."""
    lat: list[float] = []
    errors: list[int] = []
    task = progress.add_task(f"sustained, {clients} clients", total=seconds)
    deadline = time.perf_counter() + seconds
    counter = iter(range(10**9))

    async def client_loop(http: aiohttp.ClientSession) -> None:
        while time.perf_counter() < deadline:
            await _post(http, payloads[next(counter) % len(payloads)], lat, errors)

    async with _session(url, token, clients) as http:
        began = time.perf_counter()
        runner = asyncio.gather(*(client_loop(http) for _ in range(clients)))
        while not runner.done():
            await asyncio.sleep(0.25)
            progress.update(task, completed=min(seconds, time.perf_counter() - began))
        await runner
        elapsed = time.perf_counter() - began
    return {"n": len(lat), "rate": len(lat) / elapsed, "lat": lat, "errors": len(errors)}


async def fixed_rate(url: str, token: str, payloads: list[bytes], rate: float, seconds: float,
                     progress: Progress) -> dict[str, Any]:
    """Offer `rate` notifications per second (open loop) and measure latency."""
    lat: list[float] = []
    errors: list[int] = []
    total = int(rate * seconds)
    task = progress.add_task(f"{rate:.0f}/s offered load", total=total)
    async with _session(url, token, 200) as http:
        began = time.perf_counter()
        pending = []
        for i in range(total):
            await asyncio.sleep(max(0.0, began + i / rate - time.perf_counter()))
            pending.append(asyncio.create_task(_post(http, payloads[i % len(payloads)], lat,
                                                     errors)))
            progress.update(task, completed=i + 1)
        await asyncio.gather(*pending)
        elapsed = time.perf_counter() - began
    return {"n": len(lat), "rate": len(lat) / elapsed, "lat": lat, "errors": len(errors)}


def raw_inserts(database_url: str, payloads: list[bytes], progress: Progress) -> dict[str, Any]:
    """Insert the same bundles straight into `records`, one transaction each."""
    from crvshub.db import Database
    from crvshub.location.domain import stable_location_id
    from crvshub.record.models import Record

    db = Database(database_url, pool_size=2)
    office = stable_location_id("FAR", "f4t3tGolUB")
    lat: list[float] = []
    task = progress.add_task("raw insert baseline", total=len(payloads))
    began = time.perf_counter()
    for i, body in enumerate(payloads):
        start = time.perf_counter()
        now = datetime.now(UTC)
        with db.engine.begin() as conn:
            conn.execute(insert(Record).values(
                id=str(uuid.uuid4()), tracking_id=f"X{uuid.uuid4().hex[:12]}", event="birth",
                status="IN_PROGRESS", office_id=office, composition_type="birth-notification",
                bundle=json.loads(body), version=1, source="bench", created_at=now,
                updated_at=now))
        lat.append(time.perf_counter() - start)
        progress.update(task, completed=i + 1)
    elapsed = time.perf_counter() - began
    db.dispose()
    return {"n": len(lat), "rate": len(lat) / elapsed, "lat": lat, "errors": 0}


def pct(values: list[float], q: float) -> float:
    """Return the q-th percentile in milliseconds."""
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] * 1000


def report(database: str, rows: dict[str, dict[str, Any]]) -> None:
    """Print the one result table."""
    table = Table(title=f"POST /notification ingest ({database})")
    for column in ("scenario", "requests", "per second", "p50 ms", "p95 ms", "p99 ms", "errors"):
        table.add_column(column, justify="left" if column == "scenario" else "right")
    for name, row in rows.items():
        table.add_row(name, str(row["n"]), f"{row['rate']:.1f}", f"{pct(row['lat'], 50):.1f}",
                      f"{pct(row['lat'], 95):.1f}", f"{pct(row['lat'], 99):.1f}",
                      str(row["errors"]))
    console.print(table)
    base, http = rows["raw insert baseline"]["rate"], rows["HTTP sustained"]["rate"]
    console.print(f"HTTP sustained throughput is {http / base:.2f}x the raw-insert baseline.")


def main() -> None:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds per HTTP phase")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (sustained)")
    parser.add_argument("--rate", type=float, default=50.0, help="offered load for latency")
    parser.add_argument("--workers", type=int, default=2, help="API processes")
    parser.add_argument("--baseline", type=int, default=1000, help="raw inserts")
    parser.add_argument("--warmup", type=float, default=5.0,
                        help="seconds of load before measuring (connection pools, prepared "
                        "statements and the database's statistics settle)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="crvshub-bench-"))
    url = args.database_url or f"sqlite:///{work / 'bench.sqlite3'}"
    port = free_port()
    # One benchmark client stands for many hospitals: lift the per-client API rate limit.
    env = {"CRVSHUB_DATABASE_URL": url, "CRVSHUB_PORT": str(port),
           "CRVSHUB_API_RATE_PER_SECOND": "1000000", "CRVSHUB_API_RATE_BURST": "1000000"}
    server = start_serve(env, port, args.workers, cwd=work, prepare=True)
    try:
        token = health_token(url)
        payloads = bundles(400)
        base_url = f"http://127.0.0.1:{port}"
        rows: dict[str, dict[str, Any]] = {}
        with Progress(console=console, transient=True) as progress:
            asyncio.run(sustained(base_url, token, payloads, args.clients, args.warmup, progress))
            rows["HTTP sustained"] = asyncio.run(sustained(
                base_url, token, payloads, args.clients, args.duration, progress))
            rows[f"HTTP at {args.rate:.0f}/s offered"] = asyncio.run(fixed_rate(
                base_url, token, payloads, args.rate, args.duration, progress))
        server.terminate()
        server.wait(30)
        with Progress(console=console, transient=True) as progress:
            repeated = (payloads * (args.baseline // len(payloads) + 1))[: args.baseline]
            rows["raw insert baseline"] = raw_inserts(url, repeated, progress)
        report(url.split("://")[0].split("+")[0], rows)
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(30)


if __name__ == "__main__":
    main()
