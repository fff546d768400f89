"""Monthly registration counts kept by the worker, so a year's figures read a few thousand rows.

The worker recounts, every `statistics_refresh_seconds`, the months of the records changed since
its last watermark (and every month once a day, `FULL_EVERY`), and moves the watermark to the
start of the refresh minus `MARGIN` (a transaction that was open during the refresh commits
changes stamped before it started). A question reads the kept counts of the whole months in
its period except those holding a record changed after the watermark, and counts the rest (the
partial months at either end, and the changed months) from the records. So an answer is always
exact; the refresh only decides how much of it is read from the kept counts.

This relies on two facts of the record workflow: every change of a record stamps its
`updated_at`, and a record's `registered_at` is set once, when it is registered. Records loaded
with old `updated_at` stamps after a refresh (`crvshub generate`) are counted by the next full
recount, or at once with `crvshub statistics refresh`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from crvshub.record.domain import WORKQUEUES
from crvshub.statistics import repository
from crvshub.statistics.domain import Period

# Each month's rows, and per year the sum of its months (`month` = "YYYY"), read when a
# question covers the whole year. Kept per month: "month" (no value: month, year, place, place
# type and event figures read it), the subject's sex, the mother's age group, the
# time-to-registration group.
DIMENSIONS = ("month", "sex", "mother-age", "ttr")
MARGIN = timedelta(minutes=5)
FULL_EVERY = timedelta(hours=24)
Row = tuple[Any, ...]
# The statuses of records waiting in a workqueue (not yet registered): the backlog.
WAITING = {name: (statuses, source) for name, (statuses, source) in WORKQUEUES.items()
           if not statuses & {"REGISTERED", "CERTIFIED"}}
WAITING_STATUSES = sorted({s.value for statuses, _src in WAITING.values() for s in statuses})


def dimension_of(by: str) -> str:
    """Return the kept dimension that answers a `by` of the statistics API."""
    if by == "sex":
        return "sex"
    if by == "mother-age":
        return "mother-age"
    if by in ("time-to-registration", "timeliness"):
        return "ttr"
    return "month"


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """Return the UTC instants [start, end) of a month written YYYY-MM."""
    year, number = int(month[:4]), int(month[5:7])
    after = (year + 1, 1) if number == 12 else (year, number + 1)
    return datetime(year, number, 1, tzinfo=UTC), datetime(*after, 1, tzinfo=UTC)


def whole_months(period: Period) -> list[str]:
    """Return the months that lie wholly inside a period, in order."""
    months: list[str] = []
    first = date(period.start.year, period.start.month, 1)
    if first < period.start:
        first = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    while True:
        after = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
        if after > period.end:
            return months
        months.append(f"{first.year:04d}-{first.month:02d}")
        first = after


def rows(session: Session, by: str, event: str | None, period: Period) -> Sequence[Row]:
    """Return registrations of a period by (event, office, event place, month, value)."""
    dimension = dimension_of(by)
    start, end = period.bounds()
    state = repository.aggregate_state(session)
    whole = whole_months(period)
    if state is None or state.watermark is None or not whole:
        return repository.registration_counts(session, dimension, event, [(start, end)])
    first, last = month_bounds(whole[0])[0], month_bounds(whole[-1])[1]
    stale = repository.changed_months(session, state.watermark, first, last)
    live = [(a, b) for a, b in ((start, first), (last, end)) if a < b]
    live += [month_bounds(m) for m in whole if m in stale]
    kept = [m for m in whole if m not in stale]
    if by != "month":  # a whole year kept: its one yearly row instead of twelve months
        full = {m[:4] for m in kept if sum(1 for k in kept if k[:4] == m[:4]) == 12}
        kept = sorted(full) + [m for m in kept if m[:4] not in full]
    by_month = by in ("month", "year")
    return [*repository.monthly_counts(session, dimension, event, kept, by_month=by_month),
            *repository.registration_counts(session, dimension, event, live)]


def refresh(session: Session, now: datetime, *, full: bool = False) -> str:
    """Recount the months changed since the watermark (or all); return "full" or "changed"."""
    state = repository.aggregate_state(session, lock=True)
    watermark = now - MARGIN
    if (full or state is None or state.watermark is None or state.refreshed_at is None
            or now - state.refreshed_at >= FULL_EVERY):
        repository.rebuild_months(session, DIMENSIONS, None, None)
        repository.rebuild_years(session, None)
        repository.rebuild_backlog(session, WAITING_STATUSES)
        repository.save_aggregate_state(session, watermark, now)
        return "full"
    months = sorted(repository.changed_months_all(session, state.watermark))
    if months:
        repository.rebuild_months(session, DIMENSIONS, [month_bounds(m) for m in months],
                                  months)
        repository.rebuild_years(session, sorted({m[:4] for m in months}))
    repository.rebuild_backlog(session, WAITING_STATUSES)  # as of this refresh, every time
    repository.save_aggregate_state(session, watermark, None)
    return "changed"
