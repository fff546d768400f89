"""Benchmark what the duplicate check adds to creating a record, on a database of generated events.

Loads a generated population (births and deaths with planted duplicates) through the one
creation path (`record.creation.create_record`, as notifications and declarations do), then
times `record.dedup.check` (the candidate reads, the comparisons, and the flag when one is found)
for the last events created, and the whole creation for comparison. It then reads the flags
the server stored and scores them against the planted duplicates: the precision and recall of
the whole check as deployed (SQL candidate search and matcher together), where `bench/dedup.py`
scores the matcher alone.

    .venv/bin/python bench/dedup_check.py [--database-url URL] [--births 10000] [--deaths 2000]

On a database already filled (for example 1,000,000 records made by `crvshub generate`), the
population is added on top, so the check is timed against every record already there.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import track
from rich.table import Table
from sqlalchemy import select

from crvshub.auth import repository as auth_repository
from crvshub.auth.seed import load_users
from crvshub.composition import build_context
from crvshub.location.seed import load_country
from crvshub.migrate import upgrade
from crvshub.record import creation, dedup
from crvshub.record.domain import Action, Event, Status
from crvshub.record.models import RecordDuplicate
from crvshub.record.service import Actor
from crvshub.settings import BUILTIN_COUNTRY_DIR, Settings
from crvshub.synthetic.bundles import bundle
from crvshub.synthetic.population import Place, population

console = Console()
REGISTRAR = "r.olusinde"


def _p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 1 else 0.0


def main() -> None:
    """Load the population, then print the duplicate check's latency percentiles."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--births", type=int, default=10000)
    parser.add_argument("--deaths", type=int, default=2000)
    parser.add_argument("--measured", type=int, default=1000, help="last events timed")
    parser.add_argument("--seed", type=int, default=1,
                        help="population seed (on a database `crvshub generate` filled, use "
                             "another seed than its own, or its people come again)")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'dedup.db'}"
    upgrade(url)
    os.environ.setdefault("CRVSHUB_SECRET_KEY", secrets.token_urlsafe(48))  # a throwaway DB
    ctx = build_context(Settings(database_url=url, environment="test", embedded_worker=False,
                                 log_level="WARNING"))
    with ctx.db.transaction() as session:
        load_country(session, BUILTIN_COUNTRY_DIR, "FAR")
        load_users(session, BUILTIN_COUNTRY_DIR, "test")
        user = auth_repository.user_by_username(session, REGISTRAR)
        assert user is not None
        assert user.office_id
        actor = Actor("user", user.id, "Bench", user.role, user.office_id,
                      scopes=frozenset({"register", "declare"}))
    places = [Place(f"facility-{i}", actor.office_id or "") for i in range(324)]
    events = list(population(args.seed, places, args.births, args.deaths, 0.05))
    check_times: list[float] = []
    create_times: list[float] = []
    flagged = 0
    real_check = dedup.check

    def timed_check(*a: Any, **k: Any) -> list[Any]:
        start = time.perf_counter()
        found = real_check(*a, **k)
        check_times.append(time.perf_counter() - start)
        return found

    dedup.check = timed_check  # type: ignore[assignment]  # the creation path calls it by name
    first_timed = len(events) - args.measured
    ids: dict[str, str] = {}
    for index, event in enumerate(track(events, description="Creating records")):
        new = creation.NewRecord(Event(event.event), Status.DECLARED, Action.DECLARE,
                                 actor.office_id or "", f"{event.event}-notification", "staff")
        if index == first_timed:
            check_times.clear()
        start = time.perf_counter()
        with ctx.db.transaction() as session:
            ids[event.key] = creation.create_record(
                session, new, lambda _r, _t, e=event: bundle(e), actor).id
        if index >= first_timed:
            create_times.append(time.perf_counter() - start)
            flagged += 1 if event.duplicate_of else 0
    table = Table(title=f"{len(events)} records, last {args.measured} timed "
                        f"({ctx.db.engine.dialect.name})")
    for column in ("", "p50 ms", "p95 ms", "p99 ms"):
        table.add_column(column)
    for label, values in (("duplicate check", check_times), ("whole creation", create_times)):
        table.add_row(label, *(f"{_p(values, q):.2f}" for q in (50, 95, 99)))
    console.print(table)
    console.print(f"planted duplicates among the timed events: {flagged}")
    _score(ctx, events, ids)


def _score(ctx: Any, events: list[Any], ids: dict[str, str]) -> None:
    """Print the precision and recall of the flags stored, against the planted duplicates."""
    root = {ids[e.key]: ids.get(e.duplicate_of or e.key, ids[e.key]) for e in events}
    with ctx.db.transaction() as session:
        pairs = session.execute(select(RecordDuplicate.record_id, RecordDuplicate.candidate_id))
        candidates: dict[str, set[str]] = {}
        for record_id, candidate_id in pairs:
            if record_id in root:  # records of this population (not of a filled database)
                candidates.setdefault(record_id, set()).add(candidate_id)
    true_flags = {r for r, found in candidates.items()
                  if any(root.get(c) == root[r] for c in found)}
    planted = {ids[e.key] for e in events if e.duplicate_of}
    caught = planted & true_flags
    table = Table(title="Flags stored by the server, against the planted duplicates")
    for column in ("flagged records", "true", "false", "planted", "caught", "precision",
                   "recall"):
        table.add_column(column)
    precision = len(true_flags) / len(candidates) if candidates else 0.0
    recall = len(caught) / len(planted) if planted else 0.0
    table.add_row(str(len(candidates)), str(len(true_flags)),
                  str(len(candidates) - len(true_flags)), str(len(planted)), str(len(caught)),
                  f"{precision:.3f}", f"{recall:.3f}")
    console.print(table)


if __name__ == "__main__":
    main()
