"""Benchmark certificates: PDFs per second, time to first byte of a print, verifications/s.

    .venv/bin/python bench/certificates.py [--database-url URL] [--records 200] [--verify 3000]

Registered records are made directly; then, on a real `crvshub serve`:
* PDF rendering in one process (the certificate of a stored record, template to bytes), with a
  one-line fpdf2 page as the baseline;
* `POST /api/records/{id}/certificates` with `Accept: application/pdf`, one request at a time
  (the record is certified, the payload signed, the PDF rendered): time to first byte;
* `GET /api/verify/{payload}` with 8 concurrent connections (aiohttp, one process), first
  every payload once (each check a signature check and a database read), then the payloads
  over and over (as at a school gate), and the same for wallet credentials (SD-JWT VC);
  against `GET /healthz` with the same client as baseline;
* the size of the signed payloads and of the QR code's text.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import aiohttp
import httpx
from _server import start_serve  # bench/_server.py
from fpdf import FPDF
from rich.console import Console
from rich.table import Table

from crvshub.auth import repository as auth_repository
from crvshub.auth import service as auth_service
from crvshub.auth.seed import load_users
from crvshub.certificate import service as certificates
from crvshub.composition import build_context
from crvshub.context import AppContext
from crvshub.location.seed import load_country
from crvshub.migrate import upgrade
from crvshub.record import actions, declarations
from crvshub.record.domain import Action
from crvshub.record.service import Actor, Change, apply
from crvshub.settings import BUILTIN_COUNTRY_DIR, Settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.helpers import free_port
from tests.record.helpers import birth_bundle

REGISTRAR = "r.olusinde"


def prepare(url: str, count: int) -> tuple[AppContext, list[str], str]:
    """Migrate, seed, create and register `count` records; return them and a registrar token."""
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
                      scopes=frozenset({"register", "declare", "certify"}))
        ids = []
        for _ in range(count):
            bundle = birth_bundle(given=uuid.uuid4().hex[:10], family=uuid.uuid4().hex[:8])
            record = declarations.create(session, bundle, actor, incomplete=False)
            # Registered as `register` does, without the duplicate check (same-day test births).
            number = actions.new_registration_number(session, settings, record)
            apply(session, record, actor, Change(Action.REGISTER),
                  edit=actions.set_registered(number))
            ids.append(record.id)
    return ctx, ids, token


def quantiles(latencies: list[float]) -> tuple[float, float, float]:
    """Return p50, p95, p99 in milliseconds."""
    q = statistics.quantiles([x * 1000 for x in latencies], n=100)
    return q[49], q[94], q[98]


def timed(n: int, workers: int, one: Callable[[int], None]) -> tuple[float, list[float]]:
    """Run `one(i)` n times over `workers` threads; return elapsed seconds and latencies."""
    latencies: list[float] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        started = time.perf_counter()
        one(i)
        with lock:
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(run, range(n)))
    return time.perf_counter() - started, latencies


def load(base: str, paths: list[str], n: int, concurrency: int = 8,
         want: str | None = "valid") -> tuple[float, list[float]]:
    """GET `n` paths (cycling) over `concurrency` keep-alive connections; time each."""
    latencies: list[float] = []

    async def run() -> float:
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(base, connector=connector) as session:
            counter = iter(range(n))

            async def worker() -> None:
                for i in counter:
                    started = time.perf_counter()
                    async with session.get(paths[i % len(paths)]) as answer:
                        body = await answer.json()
                    latencies.append(time.perf_counter() - started)
                    assert answer.status == 200, body
                    assert want is None or body["outcome"] == want, body

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return time.perf_counter() - started

    return asyncio.run(run()), latencies


def main() -> None:
    """Run the benchmark and print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--records", type=int, default=200)
    parser.add_argument("--verify", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=2, help="API processes of the server")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    console = Console(width=120)
    console.print(f"preparing {args.records} registered records on {url.split(':')[0]} ...")
    ctx, ids, token = prepare(url, args.records)
    port = free_port()
    server = start_serve({"CRVSHUB_DATABASE_URL": url, "CRVSHUB_EMBEDDED_WORKER": "false",
                          "CRVSHUB_LOG_LEVEL": "WARNING", "CRVSHUB_PORT": str(port),
                          "CRVSHUB_VERIFY_RATE_PER_SECOND": "1000000",
                          "CRVSHUB_VERIFY_RATE_BURST": "1000000"}, port, args.workers)
    rows: list[list[str]] = []
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {token}"}
    try:
        # Prints over HTTP, one at a time: time to first byte of the PDF.
        ttfb: list[float] = []
        payloads: list[str] = []
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            for rid in ids:
                started = time.perf_counter()
                with client.stream("POST", f"/api/records/{rid}/certificates",
                                   json={"collector": "MOTHER"},
                                   headers={"Accept": "application/pdf"}) as response:
                    chunks = response.iter_raw()
                    first = next(chunks, b"")
                    ttfb.append(time.perf_counter() - started)
                    assert response.status_code == 201
                    assert first.startswith(b"%PDF")
                    for _rest in chunks:
                        pass
                    cid = response.headers["location"].rsplit("/", 1)[1]
                summary = client.get(f"/api/certificates/{cid}").json()
                payloads.append(summary["payload"])
        total = sum(ttfb)
        rows.append(["print over HTTP (PDF, 1 client)", str(len(ttfb)),
                     f"{len(ttfb) / total:,.1f}", *(f"{x:.1f}" for x in quantiles(ttfb))])

        # PDF rendering alone, in this process.
        with ctx.db.sessionmaker() as session:
            stored = certificates.for_staff(session, cid, Actor("user", "bench", "Bench",
                                                                national=True))
            session.expunge(stored)
        elapsed, lat = timed(len(ids), 1, lambda _i: certificates.render_pdf(ctx.settings, stored))
        rows.append(["render certificate PDF (in process)", str(len(ids)),
                     f"{len(ids) / elapsed:,.1f}", *(f"{x:.1f}" for x in quantiles(lat))])

        def blank(_i: int) -> None:
            pdf = FPDF()
            pdf.add_page()
            pdf.set_font("Helvetica", size=12)
            pdf.cell(100, 10, "Baseline")
            pdf.output()

        elapsed, lat = timed(len(ids), 1, blank)
        rows.append(["baseline: fpdf2 one-line page", str(len(ids)),
                     f"{len(ids) / elapsed:,.1f}", *(f"{x:.1f}" for x in quantiles(lat))])

        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            credentials = [client.post(f"/api/records/{rid}/credentials").json()["credential"]
                           for rid in ids]
        verify_paths = [f"/api/verify/{p}" for p in payloads]
        wallet_paths = [f"/api/verify/{c}" for c in credentials]
        scenarios = (
            ("GET /api/verify/{payload}, each once (lookup)", verify_paths, len(ids)),
            ("GET /api/verify/{payload}, repeated", verify_paths, args.verify),
            ("GET /api/verify/{SD-JWT VC}, each once (lookup)", wallet_paths, len(ids)),
            ("GET /api/verify/{SD-JWT VC}, repeated", wallet_paths, args.verify),
            ("baseline: GET /healthz", ["/healthz"], args.verify),
        )
        for label, paths, n in scenarios:
            elapsed, lat = load(base, paths, n, want=None if "healthz" in label else "valid")
            rows.append([f"{label} (8 conn.)", str(n), f"{n / elapsed:,.0f}",
                         *(f"{x:.1f}" for x in quantiles(lat))])
    finally:
        server.terminate()
        server.wait(30)
    table = Table(title=f"Certificates, {url.split(':')[0]}, {args.workers} API processes")
    for col in ("scenario", "n", "per s", "p50 ms", "p95 ms", "p99 ms"):
        table.add_column(col)
    for r in rows:
        table.add_row(*r)
    sizes = [len(p.encode()) for p in payloads]
    vc = [len(c.encode()) for c in credentials]
    qr = len(f"{base}/verify/".encode()) + max(sizes)
    table.caption = (f"signed payload {min(sizes)}-{max(sizes)} bytes "
                     f"(mean {statistics.mean(sizes):.0f}); QR text up to {qr} bytes; "
                     f"SD-JWT VC {min(vc)}-{max(vc)} bytes")
    console.print(table)
    ctx.db.dispose()


if __name__ == "__main__":
    main()
