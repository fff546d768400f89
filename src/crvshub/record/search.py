"""Find records: one query model for OpenCRVS `searchEvents`, the staff search and later DCI.

Record-level criteria (status, dates, offices, places, numbers) filter the `records` table;
names and identifiers of people are matched through the search index (`crvshub.search`),
which expands each name term to its sound-alikes and typos. When names are asked for and no
sort is, results are ranked by how well the names match, then newest first.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_
from sqlalchemy.orm import Session

from crvshub.record import repository
from crvshub.record.models import Record
from crvshub.search import service as search
from crvshub.search.service import NameQuery, VocabularyCache

SUBJECT_ROLES = ("child", "deceased")
RANK_WINDOW = 1000  # candidates ranked by name similarity when results are ranked
COUNT_CAP = 10_000  # totals are counted up to here (OpenCRVS's Elasticsearch stops there too)
NAMED_POSTINGS = 60_000  # postings of one name's key set read to rank every record found
# A one-word name has one key set: past this many postings its ranking would read the
# declaration time of tens of thousands of records, and the candidate window is cheaper.
WORD_POSTINGS = 20_000
RANK_BATCH = 50  # names read at least at once when ranking from the postings
EXACT_FIRST = True  # a page from the people who have the names exactly, newest first
SORT_KEYS = {
    "dateOfDeclaration": "created_at", "createdAt": "created_at",
    "modifiedAt": "updated_at", "lastStatusChangedAt": "updated_at",
    "dateOfBirth": "event_date", "dateOfDeath": "event_date", "dateOfEvent": "event_date",
    "trackingId": "tracking_id", "registrationNumber": "registration_number",
    "name": "name",
}


@dataclass(frozen=True)
class PersonCriteria:
    """What is asked about one person of a record (child, mother, deceased...)."""

    role: str
    name: str | None = None
    birth_from: date | None = None
    birth_to: date | None = None
    identifier: str | None = None
    gender: str | None = None


@dataclass(frozen=True)
class DateRange:
    """An inclusive range of days or instants (either end may be open)."""

    start: date | datetime | None = None
    end: date | datetime | None = None


@dataclass(frozen=True)
class RecordQuery:
    """Every criterion a record search may use; empty fields do not filter."""

    events: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    event_date: DateRange = DateRange()
    declared: DateRange = DateRange()
    registered: DateRange = DateRange()
    changed_since: datetime | None = None
    tracking_id: str | None = None
    registration_number: str | None = None
    record_id: str | None = None
    national_id: str | None = None
    subject_identifier: str | None = None  # the child's or deceased's own identifier
    contact_number: str | None = None
    contact_email: str | None = None
    office_ids: tuple[str, ...] | None = None  # None: any office
    event_location_ids: tuple[str, ...] | None = None
    composition_types: tuple[str, ...] = ()
    created_by: str | None = None
    any_name: str | None = None
    people: tuple[PersonCriteria, ...] = ()

    def is_empty(self) -> bool:
        """Tell whether nothing at all is asked for."""
        return self == RecordQuery()


@dataclass(frozen=True)
class Scope:
    """What a caller may find: forced statuses and offices (None = no limit)."""

    statuses: frozenset[str] | None = None
    office_ids: frozenset[str] | None = None


@dataclass(frozen=True)
class Order:
    """Sort columns (`SORT_KEYS` values) with their direction; empty = rank, then newest."""

    columns: tuple[tuple[str, bool], ...] = ()  # (column, descending)


@dataclass
class Page:
    """One page of found records, with how many there are in all and their name scores."""

    total: int
    records: list[Record]
    scores: dict[str, float] = field(default_factory=dict)


def _name_queries(query: RecordQuery) -> list[NameQuery]:
    names = [NameQuery(p.name, (p.role,)) for p in query.people if p.name and p.name.strip()]
    if query.any_name and query.any_name.strip():
        names.append(NameQuery(query.any_name))
    return [n for n in names if n.terms]


def _precise(query: RecordQuery) -> bool:
    """Tell whether a criterion more precise than a name is asked for."""
    return any(p.birth_from or p.birth_to or p.identifier for p in query.people) or any((
        query.national_id, query.subject_identifier, query.tracking_id,
        query.registration_number, query.record_id, query.contact_number, query.contact_email))


def _conditions(session: Session, cache: VocabularyCache, query: RecordQuery, scope: Scope,
                *, names: bool = True) -> list[ColumnElement[bool]] | None:
    """Return the SQL conditions (those of the names too unless told not to), or None when
    the query can match nothing."""
    conditions = repository.record_conditions(query, scope)
    if conditions is None:
        return None
    # Another precise criterion (a person's birth date or identifier, a number) finds fewer
    # records than a name: the name is then left to the planner as a subquery, tested on those.
    precise = _precise(query)
    for name in _name_queries(query) if names else []:
        if precise:
            conditions.extend(search.term_conditions(session, cache, name, Record.id))
            continue
        named = search.named_records(session, cache, name)
        if isinstance(named, list) and not named:
            return None
        conditions.append(Record.id.in_(named))
    if query.national_id:
        conditions.append(Record.id.in_(search.identifier_filter(query.national_id)))
    if query.subject_identifier:
        conditions.append(Record.id.in_(search.identifier_filter(
            query.subject_identifier, SUBJECT_ROLES)))
    for person in query.people:
        if person.identifier:
            conditions.append(Record.id.in_(
                search.identifier_filter(person.identifier, (person.role,))))
        if person.birth_from or person.birth_to:
            conditions.append(Record.id.in_(search.born_between(
                person.role, person.birth_from, person.birth_to)))
    return conditions


def find(session: Session, cache: VocabularyCache, query: RecordQuery, scope: Scope,
         order: Order, *, count: int, skip: int) -> Page:
    """Return one page of the records matching a query within a caller's scope.

    The total is counted only when the page (or the ranking window) is full, and then no
    further than `COUNT_CAP`: a page that is not full already says how many there are.
    """
    with cache.steady(session):
        return _find(session, cache, query, scope, order, count=count, skip=skip)


def _find(session: Session, cache: VocabularyCache, query: RecordQuery, scope: Scope,
          order: Order, *, count: int, skip: int) -> Page:
    names = _name_queries(query)
    if (EXACT_FIRST and names and not order.columns and not _precise(query)
            and all(search.exactly_findable(n) for n in names)):
        first = _exact_first(session, cache, query, scope, names, count=count, skip=skip)
        if first is not None:
            return first
    if names and not order.columns and not _precise(query):
        ranked = _ranked(session, cache, query, scope, names, count=count, skip=skip)
        if ranked is not None:
            return ranked
    conditions = _conditions(session, cache, query, scope)
    if conditions is None:
        return Page(0, [])
    if not names or order.columns:
        records = repository.matching(session, conditions, order.columns, count, skip)
        if len(records) < count and (records or skip == 0):
            total = skip + len(records)
        else:
            total = repository.count_matching(session, conditions, COUNT_CAP)
        return Page(total, records, search.rank(session, [r.id for r in records], names))
    # Rank ids only; load whole records (with their bundles) for the page alone.
    window = repository.matching_ids(session, conditions, RANK_WINDOW)
    if len(window) < RANK_WINDOW:
        total = len(window)
    else:
        total = repository.count_matching(session, conditions, COUNT_CAP)
    scores = search.rank(session, [rid for rid, _ in window], names)
    ranked_ids = sorted(window, key=lambda r: (-scores.get(r[0], 0.0), -r[1].timestamp(), r[0]))
    page_ids = [rid for rid, _ in ranked_ids[skip:skip + count]]
    loaded = repository.by_ids(session, page_ids)
    return Page(total, [loaded[rid] for rid in page_ids if rid in loaded], scores)


def _exact_first(session: Session, cache: VocabularyCache, query: RecordQuery, scope: Scope,
                 names: list[NameQuery], *, count: int, skip: int) -> Page | None:
    """Return the page from the people who have the names best, or None when that cannot
    settle it (every variant is then ranked).

    Only a person whose terms are the name's own terms, no more, scores 1
    (`names.query_similarity`; a one-word name: any person holding the word) and every such
    person has the name's exact keys (the word, or the pair keys of its neighbouring words).
    One name of up to `search.TIERED_WORDS` words is paged tier by tier from those keys, then
    its nearest variants' (`_tiered`). Several names, or one within some offices or places:
    the newest records found by the exact keys alone that meet the other criteria are read,
    their names scored, and when enough of them score 1 the page is theirs, newest first: no
    variant can rank before them. That reads tens of names, not the postings of every variant
    of a name thousands of people share at a million records. The total still counts every
    record a variant of the names finds (up to `COUNT_CAP`), in the database.
    """
    conditions = _conditions(session, cache, query, scope, names=False)
    if conditions is None:
        return Page(0, [])
    need = skip + count
    # Every holder of a one-word name's word scores 1; of a longer name, those without an
    # extra word: twice the page, and at least `RANK_BATCH`, is read and scored (reading more
    # later reads the postings again).
    words = all(len(set(name.terms)) == 1 for name in names)
    read = need if words else max(2 * need, RANK_BATCH)
    # The names' record-id conditions (any variant), built only when a branch needs them: a
    # name without other criteria is counted from its postings.
    variants = functools.cache(lambda: [Record.id.in_(search.name_filter(session, cache, name))
                                        for name in names])
    total: int | None = None
    by_place = _by_place(query, scope)
    tiers = None if by_place or len(names) > 1 else search.name_tiers(session, cache, names[0])
    if by_place:
        # Within some offices or places the newest holders of a name may be far apart in any
        # index: every record the name's variants find there is read instead (the place's
        # records matched to the postings by hash), flagged when it has the names exactly.
        exact = [Record.id.in_(search.exact_filter(session, name)) for name in names]
        found = repository.flagged_ids(session, [*conditions, *variants()], and_(*exact),
                                       COUNT_CAP + 1)
        total = min(len(found), COUNT_CAP)
        rows = _newest_first([(rid, at) for rid, at, flag in found if flag], read)
        scores = _exact_scores(session, rows, names, words)
        best = [rid for rid, _ in rows if scores[rid] == 1.0]
    elif tiers is not None and conditions:
        # Other criteria: every record that meets them and that a variant finds is listed
        # (by hash, as the total would count them). A few are scored outright; more are
        # paged tier by tier, checked against the list instead of the database.
        listed = {rid: _micros(at) for rid, at, _ in repository.flagged_ids(
            session, [*conditions, *variants()], None, COUNT_CAP + 1)}
        total = min(len(listed), COUNT_CAP)
        if len(listed) <= SCORE_ALL:
            scores = search.score_named(session, list(listed), names[0],
                                        search.name_keys(session, cache, names[0]))
            best = sorted(listed, key=lambda rid: (-scores[rid], -listed[rid], rid))[:need]
        else:
            best, scores = _tiered(session, cache, conditions, names[0], tiers, need, read,
                                   listed if total < COUNT_CAP else None)
    elif tiers is not None:
        total = _total(session, cache, conditions, variants, names)
        best, scores = _tiered(session, cache, conditions, names[0], tiers, need, read,
                               None, total if total < COUNT_CAP else None)
    else:
        holders = [search.exact_holders(session, name) for name in names]
        rows = _newest(session, conditions, holders, read)
        scores = _exact_scores(session, rows, names, words)
        best = [rid for rid, _ in rows if scores[rid] == 1.0]
    if len(best) < need and tiers is None:
        return None  # too few people have the names exactly: every variant is ranked
    page_ids = best[skip:need]
    if total is None:
        total = _total(session, cache, conditions, variants, names)
    loaded = repository.by_ids(session, page_ids)
    return Page(total, [loaded[rid] for rid in page_ids if rid in loaded],
                {rid: scores[rid] for rid in page_ids})


def _total(session: Session, cache: VocabularyCache, conditions: list[ColumnElement[bool]],
           variants: Callable[[], Sequence[ColumnElement[bool]]], names: list[NameQuery],
           ) -> int:
    """Return how many records meet the conditions and have the names (any variant), up to
    `COUNT_CAP`: with nothing but names, from their postings alone."""
    if conditions:
        return repository.count_matching(session, [*conditions, *variants()], COUNT_CAP)
    return min(search.count_named(session, cache, names), COUNT_CAP)


Rows = list[tuple[str, datetime]]
Dated = Select[str, datetime | None]  # a query of (record id, declaration time)
Key = tuple[float, int, str]  # how ranking orders records: best score, newest, id


def _tiered(session: Session, cache: VocabularyCache, conditions: list[ColumnElement[bool]],
            name: NameQuery, tiers: Iterable[search.Tier], need: int, read: int,
            allowed: Mapping[str, int] | None, total: int | None = None,
            ) -> tuple[list[str], dict[str, float]]:
    """Return the `need` best records found by a name (fewer when there are fewer) and the
    scores of the records read, reading the name's tiers (`search.name_tiers`) best first,
    each newest first.

    Each tier's newest records that meet the conditions are read and scored, `read` of them,
    then twice as many, until the tier is read whole or the `need`-th best record read ranks
    before any record left in it (one left scores at most the tier's bound, and is older
    than the last one read). The next tier is read only when its bound may still beat that
    record's score. A misspelt name is paged from its nearest variants' people, a common one
    from its exact holders: tens of names read, not the postings of every variant. `allowed`,
    when given, is every record that meets the conditions (see `_newest_rows`); `total`, when
    known, how many records there are in all: once they are all read, no tier is.
    """
    if allowed is not None:
        total = len(allowed)
    key_sets: list[set[str]] | None = None
    scores: dict[str, float] = {}
    created: dict[str, int] = {}

    def key(rid: str) -> Key:
        return (-scores[rid], -created[rid], rid)

    def kth() -> Key | None:
        return sorted(map(key, scores))[need - 1] if len(scores) >= need else None

    for tier in tiers if need > 0 else ():
        bound = tier[0]
        worst = kth()
        if (worst is not None and -worst[0] > bound) or len(scores) == total:
            break  # no record of this tier or the next can enter the page
        holders = search.tier_holders(session, cache, name, tier)
        size = read
        while True:
            rows, complete = _newest_rows(session, conditions, [holders], size, allowed)
            fresh = [rid for rid, _ in rows if rid not in scores]
            created.update((rid, _micros(at)) for rid, at in rows)
            if search.scored_by_bound(name, bound):
                scores.update(dict.fromkeys(fresh, bound))
            elif fresh:
                if key_sets is None:
                    key_sets = search.name_keys(session, cache, name)
                scores.update(search.score_named(session, fresh, name, key_sets))
            if complete:
                break  # the tier is read whole
            worst, last = kth(), rows[-1][0]
            if worst is not None and worst <= (-bound, -created[last], last):
                return sorted(scores, key=key)[:need], scores
            size = 2 * max(size, len(rows))
    return sorted(scores, key=key)[:need], scores


def _exact_scores(session: Session, rows: Rows, names: list[NameQuery], words: bool,
                  ) -> dict[str, float]:
    """Score records found by the names' exact keys: every holder of a one-word name's word
    scores 1; a longer name's holders are scored (an extra word lowers the score)."""
    if words:
        return dict.fromkeys((rid for rid, _ in rows), 1.0)
    return search.rank(session, [rid for rid, _ in rows], names)


def _newest_first(rows: Rows, read: int) -> Rows:
    """Return the `read` newest of some records, ties in id order (as ranking orders them)."""
    return sorted(rows, key=lambda r: (-r[1].timestamp(), r[0]))[:read]


SCORE_ALL = 500  # records a name finds among those meeting other criteria, scored outright
HOLDERS_FIRST = 10_000  # postings of a name's keys ordered by declaration time in the database
CHECK_FIRST = 200  # of those, the newest checked at once against the other criteria


def _newest(session: Session, conditions: list[ColumnElement[bool]], found: Sequence[Dated],
            read: int) -> Rows:
    """Return the `read` newest records found by every one of some (record id, declaration
    time) queries that meet the conditions (see `_newest_rows`)."""
    return _newest_rows(session, conditions, found, read)[0][:read]


def _newest_rows(session: Session, conditions: list[ColumnElement[bool]],
                 found: Sequence[Dated], read: int, allowed: Mapping[str, int] | None = None,
                 ) -> tuple[Rows, bool]:
    """Return the newest records found by every one of some (record id, declaration time)
    queries that meet the conditions, `read` of them at least (more when more were checked
    at once), and whether that is every one of them. `allowed`, when given, holds every
    record that meets the conditions: the records are checked against it, not the database.

    When the queries hold at most `HOLDERS_FIRST` postings, the newest records are taken
    from the postings alone, ordered by the declaration time they carry
    (`search.newest_found`), and checked against the other criteria by id: the newest few
    hundred, then, when too few of them meet the criteria, all the others at once. More
    than that are dense enough among the records to be met soon walking
    the declaration-time index from the newest. (Asked as one ordered, limited query
    joined to the records, PostgreSQL walks that index for a name held by a few thousand
    people too, probing each record's postings: seconds for a name whose holders are far
    apart.)
    """
    kept: Rows = []
    checked = bool(conditions) or allowed is not None
    offset, step = 0, read if not checked else max(CHECK_FIRST, 4 * read)
    while True:
        rows = search.newest_found(session, found, HOLDERS_FIRST, step, offset)
        if rows is None:
            ids = [Record.id.in_(f.with_only_columns(f.selected_columns[0])) for f in found]
            walked = repository.matching_ids(session, [*conditions, *ids], read, ties_by_id=True)
            return walked, len(walked) < read
        if not checked:
            return rows, len(rows) < step
        if allowed is not None:
            passed = {rid for rid, _ in rows if rid in allowed}
        else:
            passed = {rid for rid, _ in repository.created_of(session, [r for r, _ in rows],
                                                                conditions)}
        kept += [row for row in rows if row[0] in passed]
        if len(rows) < step:
            return kept, True
        if len(kept) >= read:
            return kept, False
        # Selective criteria (a date range): the rest are read at once, not page by page.
        offset, step = offset + step, HOLDERS_FIRST


def _by_place(query: RecordQuery, scope: Scope) -> bool:
    """Tell whether the records are limited to some offices or places (a small share)."""
    return any(ids is not None for ids in (
        query.office_ids, query.event_location_ids, scope.office_ids))


def _ranked(session: Session, cache: VocabularyCache, query: RecordQuery, scope: Scope,
            names: list[NameQuery], *, count: int, skip: int) -> Page | None:
    """Return a page of records found by names alone, every one of them ranked, or None when
    a name has too many postings to read (`NAMED_POSTINGS`).

    The people each name finds are read from the postings, with the terms that matched; those
    terms bound each record's score (`search.bounds`). The records' other criteria are checked
    by id (the total is what is left); names are then read and scored best bound first, newest
    first, until no record left can enter the page (`_best`).
    """
    found: list[tuple[NameQuery, dict[search.Person, set[str]]]] = []
    stamps: dict[str, int] = {}  # declaration times the postings carry (µs)
    for name in names:
        limit = NAMED_POSTINGS if len(dict.fromkeys(name.terms)) > 1 else WORD_POSTINGS
        people = search.named_people(session, cache, name, min(limit, NAMED_POSTINGS), stamps)
        if people is None:
            return None
        found.append((name, people))
    conditions = _conditions(session, cache, query, scope, names=False)
    per_name = [search.bounds(name, people) for name, people in found]
    ids = set(per_name[0]).intersection(*per_name[1:])
    if conditions is None or not ids:
        return Page(0, [])
    created: dict[str, int] = {}
    if conditions:
        created = {rid: _micros(at) for rid, at in
                   repository.created_of(session, sorted(ids), conditions)}
        ids = set(created)
    elif all(rid in stamps for rid in ids):
        created = {rid: stamps[rid] for rid in ids}
    tiers: dict[float, list[str]] = {}
    for rid in ids:
        tiers.setdefault(round(sum(b[rid] for b in per_name) / len(per_name), 4), []).append(rid)
    ranked, scores = _best(session, sorted(tiers.items(), reverse=True), created, found,
                           skip + count)
    page_ids = ranked[skip:skip + count]
    loaded = repository.by_ids(session, page_ids)
    return Page(min(len(ids), COUNT_CAP), [loaded[rid] for rid in page_ids if rid in loaded],
                {rid: scores[rid] for rid in page_ids})


Found = list[tuple[NameQuery, dict[search.Person, set[str]]]]


def _micros(at: datetime) -> int:
    """Return an instant as whole microseconds since 1970 (exact, comparable with the times
    the postings carry)."""
    return (at - EPOCH) // MICROSECOND


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def _best(session: Session, tiers: list[tuple[float, list[str]]], created: dict[str, int],
          found: Found, need: int) -> tuple[list[str], dict[str, float]]:
    """Return the `need` best records (score, then newest, then id) and their scores.

    `tiers` are the records by the bound of their score, best first; `created` the
    declaration times known (µs). Those not known are read for the tiers reached only;
    within one, newest first, names are read in batches until the `need`-th best score
    read beats the bound of the next record: no record left can enter the page.
    """
    def key(rid: str, score: float) -> tuple[float, int, str]:
        return (-score, -created[rid], rid)

    def settled(rid: str, bound: float) -> bool:
        return len(scores) >= need and sorted(
            key(r, s) for r, s in scores.items())[need - 1] < key(rid, bound)

    scores: dict[str, float] = {}
    for bound, tier in tiers if need else []:
        if len(scores) >= need and sorted(scores.values(), reverse=True)[need - 1] > bound:
            break
        missing = [rid for rid in tier if rid not in created]
        if missing:
            created.update((rid, _micros(at))
                           for rid, at in repository.created_of(session, sorted(missing), []))
        order = sorted(tier, key=lambda r: (-created[r], r))
        done, batch = 0, max(RANK_BATCH, 2 * need)
        while done < len(order) and not settled(order[done], bound):
            chunk = order[done:done + batch]
            scores.update(search.score_people(session, chunk, found))
            done, batch = done + len(chunk), batch * 2
        if done < len(order):
            break
    ranked = sorted(scores, key=lambda r: key(r, scores[r]))
    return ranked[:need], scores


def summary_of(record: Record) -> dict[str, Any]:
    """Return the search columns of a record (for JSON answers and tests)."""
    return {
        "id": record.id, "trackingId": record.tracking_id, "event": record.event,
        "status": record.status, "registrationNumber": record.registration_number,
        "name": " ".join(p for p in (record.subject_given, record.subject_family) if p),
        "eventDate": record.event_date.isoformat() if record.event_date else None,
        "officeId": record.office_id, "eventLocationId": record.event_location_id,
    }
