"""Potential duplicates of a record: find and flag them, explain them, resolve them.

Runs when a record is created (notification or staff declaration) and again when it is
validated. Candidates (same event, an event date in the window `date_window` gives, a name
that sounds alike, the same mother or the same identifier) come from a few bounded reads, the
smaller side first (`_candidates`); `search.dedup.compare` decides and explains. A flagged
record cannot be registered until a registrar marks it "not a duplicate" or "duplicate of"
another record.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from crvshub.db import utcnow
from crvshub.record import repository
from crvshub.record.domain import Action
from crvshub.record.errors import DuplicateNotFlagged, DuplicateUnresolved, UnknownDuplicate
from crvshub.record.models import Record, RecordDuplicate
from crvshub.record.service import Actor, Change, audit, check_access, load
from crvshub.search import service as search_service
from crvshub.search.dedup import EventSummary, FieldMatch, Person, Verdict, compare, explain
from crvshub.search.indexing import IndexedPerson, identifier_key, index_entry
from crvshub.search.names import terms

MAX_CANDIDATES = 50
# Beyond this many postings of the alike terms (a common name), the candidates are read from
# the records of the date window instead (see `search.repository.postings_of`).
MAX_POSTINGS = 3_000
FLAG_AUDIT = "flagged-as-potential-duplicate"
SUBJECT_ROLE = {"birth": "child", "death": "deceased"}


def date_window(day: date) -> list[date]:
    """Return the dates `search.dedup.compare` may still call a duplicate of this one.

    The same day, a day apart, or day and month swapped: those reach `MIN_DATE`; a year
    apart (0.45) and a week apart do not, so they are not worth fetching.
    """
    found = {day, day - timedelta(days=1), day + timedelta(days=1)}
    if day.day <= 12:
        found.add(date(day.year, day.day, day.month))
    return sorted(found)


def _person(indexed: IndexedPerson | None) -> Person | None:
    if indexed is None:
        return None
    return Person(tuple(indexed.terms), (), indexed.birth_date)


def _summary(record: Record) -> EventSummary:
    entry = index_entry(record.bundle)
    by_role = {p.role: p for p in entry.persons}
    subject = by_role.get(SUBJECT_ROLE[record.event])
    idents = frozenset(identifier_key(v) for _, v in (subject.identifiers if subject else ()))
    return EventSummary(
        record.id, record.event, _person(subject) or Person(), record.event_date,
        record.subject_gender, _person(by_role.get("mother")), record.event_location_id, idents)


def _candidates(session: Session, record: Record, new: EventSummary, day: date,
                ) -> list[EventSummary]:
    subject_role = SUBJECT_ROLE[record.event]
    mother_words = new.mother.name_terms if new.mother else ()
    subject_alike, mother_alike = search_service.alike_terms(
        session, (new.subject.name_terms, mother_words))
    dates = date_window(day)
    window = repository.candidate_window(record.id, record.event, dates)
    found = search_service.postings_of(session, window, (
        (subject_role, subject_alike | set(new.identifiers)), ("mother", mother_alike)),
        MAX_POSTINGS)
    chosen, sharing = _best(found, subject_role, new.identifiers)
    rows = ([] if not chosen else search_service.people_of(
        session, repository.candidate_window(record.id, record.event, dates, chosen),
        (subject_role, "mother")))
    return _summaries(record.event, subject_role, rows, new.identifiers, sharing)


def _best(postings: list[tuple[str, str, str]], subject_role: str,
          identifiers: frozenset[str]) -> tuple[list[str], set[str]]:
    """Return the ids of at most `MAX_CANDIDATES` records worth comparing, and which of them
    share an identifier with the new record.

    Most alike first: a shared identifier, then the number of the subject's name terms
    alike, then a mother's name term alike (a common name in a busy week finds hundreds).
    """
    sharing: set[str] = set()
    named: dict[str, set[str]] = {}
    mothers: set[str] = set()
    for record_id, role, term in postings:
        if role == subject_role and term in identifiers:
            sharing.add(record_id)
        elif role == subject_role:
            named.setdefault(record_id, set()).add(term)
        else:
            mothers.add(record_id)
    ranked = sorted(sharing | set(named) | mothers, key=lambda rid: (
        rid not in sharing, -len(named.get(rid, ())), rid not in mothers, rid))
    chosen = ranked[:MAX_CANDIDATES]
    return chosen, sharing & set(chosen)


def _summaries(event: str, subject_role: str, rows: list[Any],
               identifiers: frozenset[str], sharing: set[str]) -> list[EventSummary]:
    people: dict[str, dict[str, Any]] = {}
    for row in rows:
        people.setdefault(row.record_id, {})[row.role] = row
    found = []
    for rid, roles in people.items():
        subject, mother = roles.get(subject_role), roles.get("mother")
        some: Any = subject or mother  # every row carries its record's columns
        found.append(EventSummary(
            rid, event, _row_person(subject) or Person(), some.event_date, some.subject_gender,
            _row_person(mother), some.event_location_id,
            identifiers if rid in sharing else frozenset()))
    return found


def _row_person(row: Any) -> Person | None:
    if row is None:
        return None
    return Person(tuple(terms(row.given) + terms(row.family)), (), row.birth_date)


def find(session: Session, record: Record, *, known: frozenset[str] = frozenset(),
         ) -> list[Verdict]:
    """Return the potential duplicates of a record not already known, best first."""
    if record.event_date is None or record.event not in SUBJECT_ROLE:
        return []
    new = _summary(record)
    verdicts = [compare(new, old) for old in _candidates(session, record, new, record.event_date)]
    return sorted((v for v in verdicts if v.is_duplicate and v.candidate_id not in known),
                  key=lambda v: (-v.score, v.candidate_id))


def check(session: Session, record: Record, actor: Actor, *, new: bool = False,
          ) -> list[Verdict]:
    """Look for potential duplicates of a record; flag it (stored, audited) when some are found.

    Records already compared with this one, in either direction and resolved or not, are not
    flagged again (the later record of a pair carries the flag); a `new` record has none.
    """
    known = frozenset() if new else frozenset(repository.duplicate_links(session, record.id))
    found = find(session, record, known=known)
    if not found:
        return []
    now = utcnow()
    repository.add_duplicates(session, [
        {"record_id": record.id, "candidate_id": v.candidate_id, "score": v.score,
         "matches": [asdict(m) for m in v.matches], "found_at": now, "resolution": None}
        for v in found])
    data = {"candidates": [v.candidate_id for v in found],
            "explanations": [explain(v) for v in found]}
    audit(session, record, actor, FLAG_AUDIT, Change(Action.VIEW, data=data),
          (record.status, record.version))
    return found


def flag_again(session: Session, record_id: str, actor: Actor) -> None:
    """Store again the flags a refused registration found (its own work was rolled back)."""
    check(session, load(session, record_id), actor)


def unresolved(session: Session, record_id: str) -> list[RecordDuplicate]:
    """Return the potential duplicates of a record a registrar has not resolved yet."""
    return [d for d in repository.duplicates_of(session, record_id) if d.resolution is None]


def check_before_registration(session: Session, record: Record, actor: Actor) -> None:
    """Look again, then refuse (409) to register a record flagged as a potential duplicate.

    Duplicates found now are stored and audited: the error says so (`flaggedNow`), and the
    endpoints answer it without rolling back, so that the registrar can resolve them.
    """
    fresh = check(session, record, actor)
    open_ones = unresolved(session, record.id)
    if open_ones:
        raise DuplicateUnresolved(
            "This record is flagged as a potential duplicate: mark it 'not a duplicate' or "
            "'duplicate of' another record before registering it",
            extra={"candidates": [d.candidate_id for d in open_ones],
                   "flaggedNow": bool(fresh)})


def before_resolution(session: Session, record: Record, change: Change) -> None:
    """Check a mark-as-(not-)duplicate action: the record is flagged, the target is a candidate."""
    open_ones = unresolved(session, record.id)
    if not open_ones:
        raise DuplicateNotFlagged(
            "This record is not flagged as a potential duplicate (nothing to resolve)")
    if change.action is Action.MARK_AS_DUPLICATE:
        target = change.data.get("duplicate_of")
        if target not in {d.candidate_id for d in open_ones}:
            raise UnknownDuplicate(
                "duplicateOf must name one of the record's potential duplicates: "
                + ", ".join(d.candidate_id for d in open_ones), expression="duplicateOf")


def after_resolution(session: Session, record: Record, change: Change) -> None:
    """Record the registrar's decision on every open potential duplicate of a record."""
    duplicate = change.action is Action.MARK_AS_DUPLICATE
    repository.resolve_duplicates(session, record.id, "duplicate" if duplicate else
                                  "not-duplicate")


def for_viewer(session: Session, record_id: str, actor: Actor) -> dict[str, Any]:
    """Return a record's potential duplicates to a staff user of its jurisdiction."""
    record = load(session, record_id)
    check_access(record, actor)
    return {"recordId": record.id, "trackingId": record.tracking_id,
            **explanations(session, record.id)}


def explanations(session: Session, record_id: str) -> dict[str, Any]:
    """Return whether a record is flagged and each potential duplicate with its explanation."""
    rows = repository.duplicates_of(session, record_id)
    others = {r.id: r for r in repository.records_by_ids(
        session, [d.candidate_id for d in rows])}
    items = []
    for row in rows:
        other = others.get(row.candidate_id)
        items.append({
            "candidateId": row.candidate_id,
            "trackingId": other.tracking_id if other else None,
            "status": other.status if other else None,
            "score": row.score, "resolution": row.resolution,
            "matches": row.matches,
            "explanation": explain(_verdict(row)),
        })
    flagged = any(d.resolution is None for d in rows)
    return {"flagged": flagged, "flag": "FLAGGED_AS_POTENTIAL_DUPLICATE" if flagged else None,
            "duplicates": items}


def _verdict(row: RecordDuplicate) -> Verdict:
    return Verdict(row.candidate_id, row.score, True,
                   tuple(FieldMatch(**m) for m in row.matches))
