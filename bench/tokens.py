"""Benchmark the token endpoint and the cost of authenticating a request.

Starts `crvshub serve` on a free port against the given database (migrated and seeded first),
then measures, over real HTTP:

* POST /token (client credentials) tokens issued per second and latency;
* GET /healthz (no authentication) against GET /api/auth/me (Bearer token verified, subject
  checked) so the difference is the authentication overhead;

and, as a baseline in the same run, the same token work done directly in this process (select the
client, check the secret, sign the JWT) without HTTP.

    .venv/bin/python bench/tokens.py [--database-url URL] [--seconds 5] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

# The server refuses to run without an operator key; a benchmark makes a throwaway one.
os.environ.setdefault("CRVSHUB_SECRET_KEY", secrets.token_urlsafe(48))

ROOT = Path(__file__).resolve().parents[1]
console = Console(width=140)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(database_url: str) -> dict[str, str]:
    # Limits far above what the benchmark sends, so it measures the work and not the limiter.
    return {
        **os.environ,
        "CRVSHUB_DATABASE_URL": database_url,
        "CRVSHUB_ENVIRONMENT": "production",
        "CRVSHUB_LOG_LEVEL": "WARNING",
        "CRVSHUB_TOKEN_RATE_PER_SECOND": "1000000",
        "CRVSHUB_TOKEN_RATE_BURST": "1000000",
        "CRVSHUB_API_RATE_PER_SECOND": "1000000",
        "CRVSHUB_API_RATE_BURST": "1000000",
    }


def prepare(database_url: str, workdir: Path) -> None:
    env = server_env(database_url)
    for command in (["migrate"], ["seed"]):
        subprocess.run([sys.executable, "-m", "crvshub", *command], env=env, cwd=workdir,
                       check=True, capture_output=True)


def make_clients(database_url: str, count: int) -> list[tuple[str, str]]:
    from crvshub.auth.clients import create_client
    from crvshub.composition import build_context
    from crvshub.settings import Settings

    ctx = build_context(Settings(database_url=database_url, environment="production"))
    with ctx.db.transaction() as session:
        made = [create_client(session, ctx.settings, name=f"bench {i} {time.time_ns()}",
                              client_type="HEALTH", created_by="bench") for i in range(count)]
        pairs = [(c.client.client_id, c.client_secret) for c in made]
    ctx.db.dispose()
    return pairs


def direct_baseline(database_url: str, pairs: list[tuple[str, str]], seconds: float,
                    progress: Progress) -> list[float]:
    """Do the token work in-process: select the client, check the secret, sign a JWT."""
    from crvshub.auth import crypto, repository, service
    from crvshub.composition import build_context
    from crvshub.settings import Settings

    ctx = build_context(Settings(database_url=database_url, environment="production"))
    with ctx.db.transaction() as session:
        ctx.keys.ensure(session)
    pepper = ctx.settings.derived_key("client-secret")
    task = progress.add_task("baseline (no HTTP)", total=seconds)
    latencies: list[float] = []
    start = time.perf_counter()
    while (now := time.perf_counter()) - start < seconds:
        client_id, secret = pairs[len(latencies) % len(pairs)]
        with ctx.db.transaction() as session:
            client = repository.client_by_client_id(session, client_id)
            assert client is not None
            assert crypto.secret_matches(secret, client.secret_hash, pepper)
            service.issue_client_token(ctx.settings, ctx.keys, client)
        latencies.append(time.perf_counter() - now)
        progress.update(task, completed=min(seconds, now - start))
    ctx.db.dispose()
    return latencies


async def load(call: Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]],
               base: str, seconds: float, concurrency: int, progress: Progress,
               label: str) -> tuple[list[float], float]:
    """Run `call` from `concurrency` tasks for `seconds`; return latencies and elapsed time."""
    latencies: list[float] = []
    task = progress.add_task(label, total=seconds)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as http:
        start = time.perf_counter()

        async def worker(index: int) -> None:
            while time.perf_counter() - start < seconds:
                began = time.perf_counter()
                response = await call(http, index)
                if response.status_code != 200:
                    raise RuntimeError(f"{label}: HTTP {response.status_code} {response.text}")
                latencies.append(time.perf_counter() - began)

        async def ticker() -> None:
            while (elapsed := time.perf_counter() - start) < seconds:
                progress.update(task, completed=elapsed)
                await asyncio.sleep(0.2)
            progress.update(task, completed=seconds)

        await asyncio.gather(ticker(), *(worker(i) for i in range(concurrency)))
        elapsed = time.perf_counter() - start
    return latencies, elapsed


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def row(table: Table, name: str, latencies: list[float], elapsed: float, note: str = "") -> None:
    table.add_row(name, f"{len(latencies)}", f"{len(latencies) / elapsed:,.0f}",
                  f"{pct(latencies, 0.50):.2f}", f"{pct(latencies, 0.95):.2f}",
                  f"{pct(latencies, 0.99):.2f}", note)


def start_server(database_url: str, workdir: Path, workers: int) -> tuple[subprocess.Popen[bytes],
                                                                            str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "crvshub", "serve", "--port", str(port), "--workers",
         str(workers)],
        env=server_env(database_url), cwd=workdir,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("server did not start")


async def run_http(base: str, pairs: list[tuple[str, str]], args: argparse.Namespace,
                   progress: Progress) -> dict[str, tuple[list[float], float]]:
    async def token(http: httpx.AsyncClient, index: int) -> httpx.Response:
        client_id, secret = pairs[index % len(pairs)]
        return await http.post("/token", data={"client_id": client_id, "client_secret": secret,
                                               "grant_type": "client_credentials"})

    async with httpx.AsyncClient(base_url=base) as http:
        bearer = (await token(http, 0)).json()["access_token"]
    headers = {"Authorization": f"Bearer {bearer}"}

    async def healthz(http: httpx.AsyncClient, _index: int) -> httpx.Response:
        return await http.get("/healthz")

    async def me(http: httpx.AsyncClient, _index: int) -> httpx.Response:
        return await http.get("/api/auth/me", headers=headers)

    results = {}
    for label, call in (("POST /token", token), ("GET /healthz", healthz),
                        ("GET /api/auth/me", me)):
        results[label] = await load(call, base, args.seconds, args.concurrency, progress, label)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temp folder")
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each phase")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent HTTP requests")
    parser.add_argument("--workers", type=int, default=2, help="API processes of the server")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        database_url = args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
        console.print(f"preparing {database_url.split('@')[-1]} ...")
        prepare(database_url, workdir)
        pairs = make_clients(database_url, 8)
        proc, base = start_server(database_url, workdir, args.workers)
        try:
            with Progress(TextColumn("{task.description}"), BarColumn(), TimeRemainingColumn(),
                          console=console) as progress:
                results = asyncio.run(run_http(base, pairs, args, progress))
                baseline = direct_baseline(database_url, pairs, args.seconds, progress)
        finally:
            proc.terminate()
            proc.wait(30)
    backend = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
    table = Table(title=f"Tokens and authentication, {backend}, {args.workers} API processes, "
                        f"concurrency {args.concurrency}, {os.cpu_count()} CPUs")
    for column in ("scenario", "requests", "per second", "p50 ms", "p95 ms", "p99 ms", "note"):
        table.add_column(column, justify="left" if column in ("scenario", "note") else "right")
    row(table, "baseline: select + verify + sign (no HTTP, 1 thread)", baseline,
        sum(baseline), "same work as /token, in-process")
    for label, (latencies, elapsed) in results.items():
        row(table, label, latencies, elapsed)
    auth = results["GET /api/auth/me"][0]
    plain = results["GET /healthz"][0]
    table.add_row("authentication overhead", "", "", f"{pct(auth, .5) - pct(plain, .5):.2f}",
                  f"{pct(auth, .95) - pct(plain, .95):.2f}", "",
                  "/api/auth/me minus /healthz")
    token_latencies, token_elapsed = results["POST /token"]
    ratio = (len(token_latencies) / token_elapsed) / (len(baseline) / sum(baseline))
    table.caption = (f"/token throughput = {ratio:.2f} x the single-thread baseline; "
                     f"mean /token latency {statistics.mean(token_latencies) * 1000:.1f} ms")
    console.print(table)


if __name__ == "__main__":
    main()
