"""Benchmark the DCI registry API: sync search by identifier, predicate search, a 1,000 batch.

Generates N records into a fresh database (`crvshub migrate`, `seed`, `generate`), unless
--reuse, starts `crvshub serve` on a free port, creates a RECORD_SEARCH client and takes its
token from `POST /oauth2/client/token`. Then, one client at a time:

* sync search by birth registration number (`idtype-value` BRN), one per request;
* predicate search (date-of-birth range of 30 days + sex), one per request;
* one message of 1,000 BRN `idtype-value` items (time to the whole answer);

and, as the baseline measured in the same run, the same BRN question through GraphQL
`searchEvents` (`registrationNumber`) by the same client: the same engine behind another API.
Every message is signed with the client's Ed25519 key (registered with `crvshub dci set-key`),
outside the timed part.

With --notify-database-url (a database of its own, made afresh: the records database is not
written), it also measures notifies: N DCI subscribers of births and, as the baseline, N webhook
subscribers of `BIRTH_REGISTERED` on the same local receiver; E births are fanned out to each
kind in turn and one `crvshub worker` drains them (deliveries per second, first attempt to last
delivery, and the HTTP attempt latency).

    .venv/bin/python bench/dci.py --records 20000
    .venv/bin/python bench/dci.py --reuse --database-url URL --notify-database-url URL2
"""

from __future__ import annotations

import argparse
import base64
import hashlib
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
import jwt
from _server import CRVSHUB, start_serve  # bench/_server.py
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from notification_ingest import free_port
from rich.console import Console
from rich.table import Table
from sqlalchemy import bindparam, create_engine, text

from search import fresh_database, pct, triple

SIGNING_KEY = Ed25519PrivateKey.generate()

console = Console(width=160)
GRAPHQL = """query ($p: AdvancedSearchParametersInput!) {
  searchEvents(advancedSearchParameters: $p, count: 10) { totalItems results { id } } }"""


def now() -> str:
    """Return the current instant, ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def envelope(sender: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Return a signed sync search envelope."""
    header = {"version": "1.0.0", "message_id": str(uuid.uuid4()), "message_ts": now(),
              "action": "search", "sender_id": sender, "total_count": len(items)}
    message = {"transaction_id": uuid.uuid4().hex[:20], "search_request": items}
    covered = json.dumps({"header": header, "message": message}, sort_keys=True,
                         separators=(",", ":"), ensure_ascii=False).encode()
    digest = "SHA-256=" + base64.b64encode(hashlib.sha256(covered).digest()).decode()
    moment = int(time.time())
    signature = jwt.encode({"digest": digest, "iat": moment, "exp": moment + 300},
                           SIGNING_KEY, algorithm="EdDSA")
    return {"signature": signature, "header": header, "message": message}


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


def name_item(name: str, born: date) -> dict[str, Any]:
    """Return one predicate item: a child's name, born within 15 days either side of a day."""
    return {"reference_id": "n", "timestamp": now(), "search_criteria": {
        "reg_event_type": "spdci-common:RegistryEventType:LiveBirth",
        "query_type": "predicate", "query": [
            {"seq_num": 1, "expression1": {"attribute_name": "name", "operator": "eq",
                                           "attribute_value": name}},
            {"seq_num": 2, "expression1": {"attribute_name": "birthdate", "operator": "ge",
                                           "attribute_value": (born - timedelta(15)).isoformat()},
             "condition": "and",
             "expression2": {"attribute_name": "birthdate", "operator": "le",
                             "attribute_value": (born + timedelta(15)).isoformat()}}],
        "pagination": {"page_size": 10, "page_number": 1}}}


def client_credentials(url: str) -> tuple[str, str]:
    """Create a RECORD_SEARCH client with a large quota; return (client_id, secret)."""
    env = {**os.environ, "CRVSHUB_DATABASE_URL": url, "CRVSHUB_LOG_LEVEL": "WARNING"}
    out = subprocess.run([CRVSHUB, "client", "create", "--type", "RECORD_SEARCH", "--name",
                          f"bench-dci-{uuid.uuid4().hex[:6]}", "--daily-quota", "10000000",
                          "--json"], env=env, check=True, capture_output=True, text=True)
    found = json.loads(out.stdout)
    jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(SIGNING_KEY.public_key()))
    key_file = Path("var") / f"bench-dci-{found['client_id']}.jwk.json"
    key_file.write_text(json.dumps({**jwk, "kid": "bench"}))
    subprocess.run([CRVSHUB, "dci", "set-key", str(found["client_id"]), str(key_file)],
                   env=env, check=True, capture_output=True, text=True)
    key_file.unlink()
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


def names(url: str, numbers: list[str]) -> dict[str, str]:
    """Return the child's name of each registration number (given, then family names)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT registration_number, subject_given, subject_family FROM records "
            "WHERE registration_number IN :n").bindparams(bindparam("n", expanding=True)),
            {"n": numbers}).all()
    engine.dispose()
    return {str(r[0]): " ".join(p for p in (r[1], r[2]) if p) for r in rows}


def timed(http: httpx.Client, path: str, body: dict[str, Any]) -> tuple[float, Any]:
    """POST and return (seconds, JSON answer); fail on a non-200."""
    started = time.perf_counter()
    answer = http.post(path, json=body)
    took = time.perf_counter() - started
    if answer.status_code != 200:
        raise SystemExit(f"{path}: {answer.status_code} {answer.text[:300]}")
    return took, answer.json()


def notify_table(args: argparse.Namespace) -> None:
    """Measure and print the notify table."""
    runs = notify_runs(args.notify_database_url, args.subscribers, args.events)
    backend = args.notify_database_url.split(":", 1)[0]
    table = Table(title=f"Notifies through the webhook engine, {backend}, {args.subscribers} "
                        f"subscribers x {args.events} births, 1 worker")
    for column in ("subscribers", "deliveries", "deliveries/s", "attempt p50 / p95 / p99 ms"):
        table.add_column(column)
    for name, rate, latencies in runs:
        table.add_row(name, str(len(latencies)), f"{rate:,.0f}",
                      triple([v / 1000 for v in latencies]))
    console.print(table)


def main() -> None:
    """Run the benchmark and print one table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--database-url", default="sqlite:///./var/bench-dci.sqlite3")
    parser.add_argument("--reuse", action="store_true", help="keep the database as it is")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--predicates", type=int, default=0,
                        help="predicate questions (default: as many as --queries)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--notify-database-url", default="",
                        help="also measure notifies, in this database (made afresh)")
    parser.add_argument("--subscribers", type=int, default=10)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--skip-search", action="store_true")
    args = parser.parse_args()
    Path("var").mkdir(exist_ok=True)
    if args.notify_database_url:
        notify_table(args)
    if args.skip_search:
        return
    if not args.reuse:
        took = fresh_database(args.database_url, args.records, args.seed)
        console.print(f"generated {args.records} records in {took:.0f} s")
    port = free_port()
    # One client asks as fast as it can: lift the per-client request rate for the run.
    server = start_serve({"CRVSHUB_DATABASE_URL": args.database_url,
                          "CRVSHUB_LOG_LEVEL": "WARNING",
                          "CRVSHUB_API_RATE_PER_SECOND": "100000"}, port, workers=2,
                         timeout=180)  # a loaded machine can take a minute to start it
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
            console.print(f"{rows[-1][0]}: {triple(times)} ms ({rows[-1][2]})")
            times = []
            for _number, born, sex in work[:args.predicates or len(work)]:
                took, _ = timed(http, "/registry/sync/search",
                                envelope(client_id, [predicate_item(born, sex)]))
                times.append(took)
            rows.append(("DCI sync search, predicate (DoB 30 days + sex)", times, ""))
            console.print(f"{rows[-1][0]}: {triple(times)} ms")
            times, found = [], 0
            named = names(args.database_url, [n for n, _b, _s in work])
            for number, born, _sex in work[:args.predicates or len(work)]:
                took, body = timed(http, "/registry/sync/search",
                                   envelope(client_id, [name_item(named[number], born)]))
                times.append(took)
                found += number in json.dumps(body["message"]["search_response"][0]["data"])
            rows.append(("DCI sync search, predicate (name + DoB ±15 days)", times,
                         f"record on page 1: {found}/{len(times)}"))
            console.print(f"{rows[-1][0]}: {triple(times)} ms ({rows[-1][2]})")
            batch = [brn_item(number, str(i)) for i, (number, _b, _s) in
                     enumerate((work * (1000 // max(1, len(work)) + 1))[:1000])]
            took, body = timed(http, "/registry/sync/search", envelope(client_id, batch))
            answered = sum(len(a["data"]["reg_records"])
                           for a in body["message"]["search_response"])
            rows.append(("DCI batch of 1,000 BRN items (one message)", [took],
                         f"{answered} records"))
            console.print(f"{rows[-1][0]}: {took * 1000:.0f} ms ({answered} records)")
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


# --- Notifies: DCI subscribers against webhook subscribers, through the same engine -----------

def notify_database(url: str) -> None:
    """Make the notify database afresh (SQLite file removed, PostgreSQL dropped and created)."""
    if url.startswith("sqlite"):
        Path(url.split("///", 1)[1]).unlink(missing_ok=True)
        return
    engine = create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    name = url.rsplit("/", 1)[1]
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def notify_setup(url: str, subscribers: int, callback: str) -> tuple[Any, list[str], list[str]]:
    """Prepare the webhook subscribers (bench/webhooks.py) and as many DCI subscriptions of
    births (through `dci.service`, as `POST /registry/subscribe` stores them); return the
    context, the webhook subscription ids and the DCI subscription codes."""
    from webhooks import prepare  # bench/webhooks.py

    from crvshub.auth.clients import create_client
    from crvshub.db import new_id, utcnow
    from crvshub.dci import service as dci_service
    from crvshub.dci.models import DciSubscription
    from crvshub.webhook import service as webhook_service
    from crvshub.webhook.models import Subscription

    ctx = prepare(url, subscribers, callback)
    with ctx.db.transaction() as session:
        hooks = [str(i) for i in session.scalars(select_ids(Subscription))]
        creds = create_client(session, ctx.settings, name="bench-dci-notify",
                              client_type="RECORD_SEARCH", created_by="bench")
        codes = []
        base = callback.rsplit("/", 1)[0]
        for i in range(subscribers):
            code = new_id()
            info = {"version": "1.0.0", "code": code, "status": "subscribe",
                    "timestamp": now(), "reg_type": "ns:org:RegistryType:Civil",
                    "reg_event_type": "spdci-common:RegistryEventType:LiveBirth",
                    "filter_type": "predicate", "filter": [],
                    "notify_record_type": "spdci-extensions-dci:CRVSPerson", "locale": "eng"}
            session.add(DciSubscription(code=code, client_id=creds.client.id, event="birth",
                                        status="subscribe", info=info,
                                        sender_uri=f"{base}/dci{i}", created_at=utcnow()))
            session.flush()
            webhook_service.open_channel(
                session, ctx.settings, client_id=creds.client.id,
                callback=f"{base}/dci{i}/notify", topic=dci_service.NOTIFY_TOPIC,
                style=dci_service.STYLE, channel_id=code)
            codes.append(code)
    return ctx, hooks, codes


def select_ids(model: Any) -> Any:
    """Return `SELECT id FROM <model>` (webhook subscriptions made by bench/webhooks.py)."""
    from sqlalchemy import select

    return select(model.id)


def only(ctx: Any, live: list[str], ended: list[str], dci_live: bool) -> None:
    """Let only some subscribers collect: the others are unsubscribed for this run."""
    from sqlalchemy import delete, update

    from crvshub.dci.models import DciSubscription
    from crvshub.webhook.models import Attempt, Delivery, Subscription

    with ctx.db.transaction() as session:
        session.execute(delete(Attempt))
        session.execute(delete(Delivery))
        session.execute(update(Subscription).where(Subscription.id.in_(live))
                        .values(status="active"))
        session.execute(update(Subscription).where(Subscription.id.in_(ended))
                        .values(status="unsubscribed"))
        session.execute(update(DciSubscription).values(
            status="subscribe" if dci_live else "unsubscribe"))


def notify_runs(url: str, subscribers: int, events: int) -> list[tuple[str, float, list[float]]]:
    """Fan out `events` births to each kind of subscriber in turn; drain with one worker."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from webhooks import drain_run, start_receiver  # bench/webhooks.py

    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        url = f"sqlite:///{Path(url[len('sqlite:///'):]).resolve()}"  # workers run elsewhere
    notify_database(url)
    ctx, hooks, codes = notify_setup(url, subscribers, start_receiver())
    tmp = Path("var")
    found = []
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=console, transient=True) as progress:
        for name, live, ended, dci_live in (
                ("baseline: webhook subscribers (BIRTH_REGISTERED)", hooks, codes, False),
                ("DCI notify subscribers (births)", codes, hooks, True)):
            only(ctx, live, ended, dci_live)
            rate, latencies = drain_run(ctx, url, 1, events, tmp, progress)
            found.append((name, rate, latencies))
    ctx.db.dispose()
    return found


if __name__ == "__main__":
    main()
