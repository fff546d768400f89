"""Benchmark the DCI registry API: sync search by identifier, predicate search, a 1,000 batch.

Generates N records into a fresh database (`crvshub migrate`, `seed`, `generate`), unless
--reuse, starts `crvshub serve` on a free port, creates a RECORD_SEARCH client and takes its
token from `POST /oauth2/client/token`. Then, one client at a time:

* sync search by birth registration number (`idtype-value` BRN), one per request;
* predicate search (date-of-birth range of 30 days + sex), one per request;
* one message of 1,000 BRN `idtype-value` items (time to the whole answer);

and, as the baseline measured in the same run, the same BRN question through GraphQL
`searchEvents` (`registrationNumber`) by the same client: the same engine behind another API.

    .venv/bin/python bench/dci.py --records 20000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from _server import CRVSHUB, start_serve  # bench/_server.py
from notification_ingest import free_port
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text

from search import fresh_database, pct, triple

console = Console(width=160)
GRAPHQL = """query ($p: AdvancedSearchParametersInput!) {
  searchEvents(advancedSearchParameters: $p, count: 10) { totalItems results { id } } }"""


def now() -> str:
    """Return the current instant, ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def envelope(sender: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Return a sync search envelope."""
    return {"header": {"version": "1.0.0", "message_id": str(uuid.uuid4()), "message_ts": now(),
                       "action": "search", "sender_id": sender, "total_count": len(items)},
            "message": {"transaction_id": uuid.uuid4().hex[:20], "search_request": items}}


def brn_item(number: str, reference: str = "r") -> dict[str, Any]:
    """Return one BRN search item."""
    return {"reference_id": reference, "timestamp": now(), "search_criteria": {
        "query_type": "idtype-value", "query": {"type": "BRN", "value": number}}}


def predicate_item(born: date, sex: str) -> dict[str, Any]:
    """Return one predicate item: born within 30 days from a day, of a sex."""
    end = born + timedelta(days=30)
    return {"reference_id": "p", "timestamp": now(), "search_criteria": {
        "reg_event_type": "spdci-common:RegistryEventType:LiveBirth",
        "query_type": "predicate", "query": [
            {"seq_num": 1, "expression1": {"attribute_name": "birthdate", "operator": "ge",
                                           "attribute_value": born.isoformat()},
             "condition": "and",
             "expression2": {"attribute_name": "birthdate", "operator": "lt",
                             "attribute_value": end.isoformat()}},
            {"seq_num": 2, "expression1": {"attribute_name": "sex", "operator": "eq",
                                           "attribute_value": sex}}],
        "pagination": {"page_size": 10, "page_number": 1}}}


def client_credentials(url: str) -> tuple[str, str]:
    """Create a RECORD_SEARCH client with a large quota; return (client_id, secret)."""
    env = {**os.environ, "CRVSHUB_DATABASE_URL": url, "CRVSHUB_LOG_LEVEL": "WARNING"}
    out = subprocess.run([CRVSHUB, "client", "create", "--type", "RECORD_SEARCH", "--name",
                          f"bench-dci-{uuid.uuid4().hex[:6]}", "--daily-quota", "10000000",
                          "--json"], env=env, check=True, capture_output=True, text=True)
    found = json.loads(out.stdout)
    return str(found["client_id"]), str(found["client_secret"])


def samples(url: str, count: int, seed: int) -> list[tuple[str, date, str]]:
    """Return (registration number, date of birth, sex) of registered births."""
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT registration_number, event_date, subject_gender FROM records "
            "WHERE event = 'birth' AND registration_number IS NOT NULL "
            "AND status IN ('REGISTERED', 'CERTIFIED', 'ISSUED') AND event_date IS NOT NULL "
            "ORDER BY id LIMIT :n"), {"n": count * 5}).all()
    engine.dispose()
    rnd = random.Random(seed)
    picked = rnd.sample(list(rows), min(count, len(rows)))
    return [(str(r[0]), r[1] if isinstance(r[1], date) else date.fromisoformat(str(r[1])),
             str(r[2] or "female")) for r in picked]


def timed(http: httpx.Client, path: str, body: dict[str, Any]) -> tuple[float, Any]:
    """POST and return (seconds, JSON answer); fail on a non-200."""
    started = time.perf_counter()
    answer = http.post(path, json=body)
    took = time.perf_counter() - started
    if answer.status_code != 200:
        raise SystemExit(f"{path}: {answer.status_code} {answer.text[:300]}")
    return took, answer.json()


def main() -> None:
    """Run the benchmark and print one table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--database-url", default="sqlite:///./var/bench-dci.sqlite3")
    parser.add_argument("--reuse", action="store_true", help="keep the database as it is")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    Path("var").mkdir(exist_ok=True)
    if not args.reuse:
        took = fresh_database(args.database_url, args.records, args.seed)
        console.print(f"generated {args.records} records in {took:.0f} s")
    port = free_port()
    # One client asks as fast as it can: lift the per-client request rate for the run.
    server = start_serve({"CRVSHUB_DATABASE_URL": args.database_url,
                          "CRVSHUB_LOG_LEVEL": "WARNING",
                          "CRVSHUB_API_RATE_PER_SECOND": "100000"}, port, workers=2)
    try:
        client_id, secret = client_credentials(args.database_url)
        base = f"http://127.0.0.1:{port}"
        token = httpx.post(f"{base}/oauth2/client/token", data={
            "grant_type": "client_credentials", "client_id": client_id,
            "client_secret": secret}).json()["access_token"]
        work = samples(args.database_url, args.queries, args.seed)
        rows: list[tuple[str, list[float], str]] = []
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"},
                          timeout=60) as http:
            for number, _born, _sex in work[:20]:  # warm up both APIs
                timed(http, "/registry/sync/search", envelope(client_id, [brn_item(number)]))
                timed(http, "/graphql", {"query": GRAPHQL,
                                         "variables": {"p": {"registrationNumber": number}}})
            times: list[float] = []
            found = 0
            for number, _born, _sex in work:
                took, body = timed(http, "/registry/sync/search",
                                   envelope(client_id, [brn_item(number)]))
                times.append(took)
                found += len(body["message"]["search_response"][0]["data"]["reg_records"])
            rows.append(("DCI sync search, BRN (idtype-value)", times,
                         f"found {found}/{len(work)}"))
            times = []
            for _number, born, sex in work:
                took, _ = timed(http, "/registry/sync/search",
                                envelope(client_id, [predicate_item(born, sex)]))
                times.append(took)
            rows.append(("DCI sync search, predicate (DoB 30 days + sex)", times, ""))
            batch = [brn_item(number, str(i)) for i, (number, _b, _s) in
                     enumerate((work * (1000 // max(1, len(work)) + 1))[:1000])]
            took, body = timed(http, "/registry/sync/search", envelope(client_id, batch))
            answered = sum(len(a["data"]["reg_records"])
                           for a in body["message"]["search_response"])
            rows.append(("DCI batch of 1,000 BRN items (one message)", [took],
                         f"{answered} records"))
            times = []
            for number, _born, _sex in work:
                took, _ = timed(http, "/graphql", {
                    "query": GRAPHQL, "variables": {"p": {"registrationNumber": number}}})
                times.append(took)
            rows.append(("baseline: GraphQL searchEvents, registrationNumber", times, ""))
    finally:
        server.terminate()
        server.wait(20)
    backend = args.database_url.split(":", 1)[0]
    table = Table(title=f"DCI registry API, {args.records} records, {backend}, one client")
    for column in ("question", "requests", "req/s", "p50 / p95 / p99 ms", "note"):
        table.add_column(column)
    for name, values, note in rows:
        rate = len(values) / sum(values) if values else 0
        table.add_row(name, str(len(values)), f"{rate:.0f}",
                      triple(values) if len(values) > 1 else f"{pct(values, 0.5):.0f} (total)",
                      note)
    console.print(table)


if __name__ == "__main__":
    main()
