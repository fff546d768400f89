"""Benchmark duplicate detection: precision and recall on a generated, labelled population.

Generates births and deaths (several cultures and scripts, families sharing mothers, twins)
with a share declared twice with realistic errors (typos, swapped names, other spellings
or scripts, a left-out middle name, a date a day off or with day and month swapped). Each
event is checked against the earlier events of the same type whose date could be the same
date written wrongly, exactly as the server's candidate search does, then:

* CRVS Hub's matcher (`crvshub.search.dedup.compare`) decides;
* the baseline decides "same normalised name and same date" (what an exact index finds).

    .venv/bin/python bench/dedup.py [--births 40000] [--deaths 10000] [--share 0.05] [--seed 1]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from rich.console import Console
from rich.progress import track
from rich.table import Table

from crvshub.search import dedup
from crvshub.search.names import terms
from crvshub.synthetic.population import Event, Place, population

console = Console(width=150)


def summary(event: Event) -> dedup.EventSummary:
    """Return what the matcher sees of a generated event."""
    mother = event.mother
    return dedup.EventSummary(
        event.key, event.event,
        dedup.Person(tuple(terms(event.subject.given)), tuple(terms(event.subject.family))),
        event.event_date, event.subject.gender,
        dedup.Person(tuple(terms(mother.given)), tuple(terms(mother.family)), mother.birth_date)
        if mother else None,
        event.place.facility_id)


def candidate_dates(day: date) -> list[date]:
    """Return the dates a wrongly written date could have been (the candidate window)."""
    found = [day, day - timedelta(days=1), day + timedelta(days=1)]
    if day.day <= 12 and day.day != day.month:
        found.append(date(day.year, day.day, day.month))
    return found


@dataclass
class Score:
    """Confusion counts of one matcher."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    missed: Counter[tuple[str, ...]] = field(default_factory=Counter)
    micros: list[float] = field(default_factory=list)

    @property
    def precision(self) -> float:
        """Share of flagged pairs that are real duplicates."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """Share of real duplicates that were flagged."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def _exact(new: dedup.EventSummary, old: dedup.EventSummary) -> bool:
    return (sorted(new.subject.name_terms) == sorted(old.subject.name_terms)
            and new.event_date == old.event_date)


def _crvshub(new: dedup.EventSummary, old: dedup.EventSummary) -> bool:
    return dedup.compare(new, old).is_duplicate


def run(events: list[Event], decide: Callable[[dedup.EventSummary, dedup.EventSummary], bool],
        label: str) -> Score:
    """Check every event against its candidates and count right and wrong decisions."""
    seen: dict[tuple[str, date], list[dedup.EventSummary]] = defaultdict(list)
    score = Score()
    for event in track(events, description=label, console=console, transient=True):
        new = summary(event)
        started = time.perf_counter()
        found = {old.record_id for day in candidate_dates(event.event_date)
                 for old in seen.get((event.event, day), ()) if decide(new, old)}
        score.micros.append((time.perf_counter() - started) * 1e6)
        if event.duplicate_of:
            if event.duplicate_of in found:
                score.tp += 1
            else:
                score.fn += 1
                score.missed[event.mutations] += 1
        score.fp += len(found - {event.duplicate_of})
        seen[(event.event, event.event_date)].append(new)
    return score


def _pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else 0.0


def main() -> None:
    """Generate, measure, print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--births", type=int, default=40000)
    parser.add_argument("--deaths", type=int, default=10000)
    parser.add_argument("--share", type=float, default=0.05, help="share declared twice")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    places = [Place(f"facility-{i}", f"office-{i % 17}") for i in range(324)]
    events = list(population(args.seed, places, args.births, args.deaths, args.share))
    planted = sum(1 for e in events if e.duplicate_of)
    table = Table(title=f"Duplicate detection: {len(events):,} events, {planted:,} planted "
                        f"duplicates (seed {args.seed})")
    for column in ("matcher", "precision", "recall", "true pos.", "false pos.", "missed",
                   "checks/s", "p50 µs", "p95 µs", "p99 µs"):
        table.add_column(column, justify="right" if column != "matcher" else "left")
    results = {}
    for label, decide in (("exact name + date (baseline)", _exact),
                          ("CRVS Hub matcher", _crvshub)):
        score = results[label] = run(events, decide, label)
        rate = len(score.micros) / (sum(score.micros) / 1e6) if score.micros else 0.0
        table.add_row(label, f"{score.precision:.3f}", f"{score.recall:.3f}", str(score.tp),
                      str(score.fp), str(score.fn), f"{rate:,.0f}",
                      f"{_pct(score.micros, 50):.0f}", f"{_pct(score.micros, 95):.0f}",
                      f"{_pct(score.micros, 99):.0f}")
    console.print(table)
    missed = results["CRVS Hub matcher"].missed.most_common(6)
    console.print("Missed by CRVS Hub, by planted error: " +
                  ", ".join(f"{'+'.join(k)} {v}" for k, v in missed))


if __name__ == "__main__":
    main()
