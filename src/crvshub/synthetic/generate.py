"""Fill a database with a generated population: records, audit entries and their index.

Offices and health facilities come from the country's locations; events from
`synthetic.population`. Rows are written in batches, one committed transaction each, so
memory stays constant whatever the number of records. Generated records emit no webhooks
and no events: they describe the past, nobody is to be told about them.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import IO, Any

from crvshub.db import Database
from crvshub.location.domain import LocationType, LocationView
from crvshub.record import repository as records
from crvshub.search import repository as index
from crvshub.synthetic.population import Place, population
from crvshub.synthetic.records import Rows, build, label

Progress = Callable[[int, int], None]  # (done, total)
DEATH_SHARE = 0.2
HOME_BIRTHS = 0.1  # events with no health facility (at home, elsewhere)


class NoOffices(ValueError):
    """The database has no registration office to generate records for (run `crvshub seed`)."""


@dataclass(frozen=True)
class Plan:
    """What to generate."""

    records: int
    seed: int = 1
    duplicate_share: float = 0.02
    batch: int = 5000


def places_of(locations: Sequence[LocationView], seed: int) -> list[Place]:
    """Return the places of events: each facility with an office of its area, and offices."""
    offices = [v for v in locations if v.type == LocationType.CRVS_OFFICE and v.status == "active"]
    if not offices:
        raise NoOffices("no registration office: load the country first (crvshub seed)")
    by_area: dict[str | None, list[str]] = {}
    for office in offices:
        by_area.setdefault(office.part_of_id, []).append(office.id)
    rnd = random.Random(seed)  # noqa: S311 (reproducible test data)
    found = []
    for facility in (v for v in locations if v.type == LocationType.HEALTH_FACILITY):
        nearby = by_area.get(facility.part_of_id) or [rnd.choice(offices).id]
        found.append(Place(facility.id, rnd.choice(nearby)))
    homes = max(1, int(len(found) * HOME_BIRTHS))
    found += [Place(None, rnd.choice(offices).id) for _ in range(homes)]
    return found


def _rows(plan: Plan, places: Sequence[Place], now: datetime,
          ) -> Iterator[tuple[Rows, dict[str, Any] | None]]:
    deaths = round(plan.records * DEATH_SHARE)
    births = plan.records - deaths
    # Duplicates are extra declarations: ask for fewer originals, with a margin for chance
    # (the last deaths are cut off so that the total is exactly as asked).
    scale = 1 / (1 + plan.duplicate_share)
    margin = 10 + 4 * int(math.sqrt(plan.records * plan.duplicate_share))
    events = population(plan.seed, places, round(births * scale) + margin,
                        round(deaths * scale) + margin, plan.duplicate_share)
    rnd = random.Random(plan.seed * 31 + 7)  # noqa: S311 (reproducible test data)
    for number, gen in enumerate(islice(events, plan.records)):
        yield build(gen, number, plan.seed, rnd, now), label(gen, plan.seed)


def _write(db: Database, batch: list[Rows], known: set[str]) -> None:
    with db.transaction() as session:
        records.insert_many(session, [r.record for r in batch], [r.action for r in batch])
        index.write_entries(session, [(r.record["id"], r.entry) for r in batch], known)


def generate(db: Database, locations: Sequence[LocationView], plan: Plan,
             labels: IO[str] | None = None, progress: Progress | None = None) -> int:
    """Generate and store the records of a plan; return how many were written."""
    places = places_of(locations, plan.seed)
    now = datetime.now(UTC)
    known: set[str] = set()
    batch: list[Rows] = []
    done = 0
    for rows, line in _rows(plan, places, now):
        batch.append(rows)
        if line is not None and labels is not None:
            labels.write(json.dumps(line) + "\n")
        if len(batch) >= plan.batch:
            _write(db, batch, known)
            done += len(batch)
            batch = []
            if progress:
                progress(done, plan.records)
    if batch:
        _write(db, batch, known)
        done += len(batch)
    if progress:
        progress(done, plan.records)
    with db.transaction() as session:  # the planner must know the new sizes
        records.analyze(session)
        index.analyze(session)
    return done


def generate_to(db: Database, locations: Sequence[LocationView], plan: Plan,
                labels: Path | None, progress: Progress | None = None) -> int:
    """Generate a plan, writing the duplicate labels to a file when one is named."""
    if labels is None:
        return generate(db, locations, plan, None, progress)
    with labels.open("w", encoding="utf-8") as out:
        return generate(db, locations, plan, out, progress)
