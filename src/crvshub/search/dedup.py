"""Potential duplicates: compare two vital events and explain, field by field, how alike they are.

Pure functions over summaries of records (no database): the repository finds candidates
(same event type, a similar name or the same mother, a near date), this module decides and
explains in words a registrar can read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from crvshub.search.names import name_similarity

# Weights of each field in the overall score (they sum to 1 when every field is known).
WEIGHTS = {"name": 0.45, "date": 0.30, "mother": 0.15, "place": 0.10}
# A candidate is a potential duplicate when its overall score reaches this threshold, its
# subject's name is at least "similar", and its date is the same or off in a way people get
# dates wrong (a day, day and month swapped, the year): see date_similarity.
THRESHOLD = 0.72
MIN_NAME = 0.7
MIN_DATE = 0.5


@dataclass(frozen=True)
class Person:
    """The parts of a person that matter for matching."""

    given: tuple[str, ...] = ()
    family: tuple[str, ...] = ()
    birth_date: date | None = None

    @property
    def name_terms(self) -> tuple[str, ...]:
        """Return every term of the name, given names first."""
        return self.given + self.family

    @property
    def display(self) -> str:
        """Return the name as words, for explanations."""
        return " ".join(self.name_terms) or "(no name)"


@dataclass(frozen=True)
class EventSummary:
    """One vital event as deduplication sees it."""

    record_id: str
    event: str
    subject: Person
    event_date: date | None = None
    gender: str | None = None
    mother: Person | None = None
    place_id: str | None = None
    identifiers: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class FieldMatch:
    """How one field of two records compares: a score and words for the registrar."""

    field: str
    label: str
    score: float
    strength: str
    detail: str


@dataclass(frozen=True)
class Verdict:
    """The outcome of comparing a record with one existing record."""

    candidate_id: str
    score: float
    is_duplicate: bool
    matches: tuple[FieldMatch, ...]


def strength(score: float) -> str:
    """Return the word a registrar reads for a similarity score."""
    if score >= 0.99:
        return "identical"
    if score >= 0.85:
        return "very similar"
    if score >= 0.7:
        return "similar"
    if score > 0:
        return "slightly similar"
    return "different"


def date_similarity(a: date | None, b: date | None) -> tuple[float, str]:
    """Return how alike two dates are, and why: equal, a day apart, day and month swapped..."""
    if a is None or b is None:
        return 0.0, "unknown on one record"
    if a == b:
        return 1.0, f"both {a.isoformat()}"
    days = abs((a - b).days)
    if a.year == b.year and a.month == b.day and a.day == b.month:
        return 0.85, f"{a.isoformat()} and {b.isoformat()}: day and month swapped"
    if days == 1:
        return 0.85, f"{a.isoformat()} and {b.isoformat()}: one day apart"
    if a.month == b.month and a.day == b.day and abs(a.year - b.year) == 1:
        return 0.45, f"{a.isoformat()} and {b.isoformat()}: same day, one year apart"
    if days <= 7:
        return 0.4, f"{a.isoformat()} and {b.isoformat()}: {days} days apart"
    if days <= 31:
        return 0.2, f"{a.isoformat()} and {b.isoformat()}: {days} days apart"
    return 0.0, f"{a.isoformat()} and {b.isoformat()}: {days} days apart"


def _name_match(label: str, key: str, a: Person, b: Person) -> FieldMatch:
    score = name_similarity(a.name_terms, b.name_terms)
    detail = f"'{a.display}' and '{b.display}'"
    return FieldMatch(key, label, score, strength(score), detail)


def _labels(event: str) -> tuple[str, str]:
    if event == "death":
        return "Deceased's name", "Date of death"
    return "Child's name", "Date of birth"


def _fields(new: EventSummary, old: EventSummary) -> list[FieldMatch]:
    name_label, date_label = _labels(new.event)
    found = [_name_match(name_label, "name", new.subject, old.subject)]
    d_score, d_detail = date_similarity(new.event_date, old.event_date)
    found.append(FieldMatch("date", date_label, d_score, strength(d_score), d_detail))
    if new.mother and old.mother and new.mother.name_terms and old.mother.name_terms:
        found.append(_name_match("Mother's name", "mother", new.mother, old.mother))
    if new.place_id and old.place_id:
        same = new.place_id == old.place_id
        found.append(FieldMatch(
            "place", "Place of event", 1.0 if same else 0.0, "identical" if same else "different",
            "same place" if same else "different places"))
    return found


def compare(new: EventSummary, old: EventSummary) -> Verdict:
    """Compare a new record with an existing one and explain the result."""
    shared = new.identifiers & old.identifiers
    fields = _fields(new, old)
    if shared:
        fields.insert(0, FieldMatch(
            "identifier", "Identifier", 1.0, "identical",
            "same identifier " + ", ".join(sorted(shared))))
        return Verdict(old.record_id, 1.0, True, tuple(fields))
    weighted = [(WEIGHTS[f.field], f.score) for f in fields if f.field in WEIGHTS]
    total_weight = sum(w for w, _ in weighted)
    score = sum(w * s for w, s in weighted) / total_weight if total_weight else 0.0
    if new.gender and old.gender and new.gender != old.gender:
        score *= 0.8
        fields.append(FieldMatch("gender", "Sex", 0.0, "different",
                                 f"{new.gender} and {old.gender}"))
    by_key = {f.field: f.score for f in fields}
    if by_key.get("mother", 1.0) == 0:
        score *= 0.8  # two different mothers: two children, even with the same name
    is_dup = (score >= THRESHOLD and by_key.get("name", 0) >= MIN_NAME
              and by_key.get("date", 0) >= MIN_DATE)
    return Verdict(old.record_id, round(score, 4), is_dup, tuple(fields))


def explain(verdict: Verdict) -> str:
    """Return one sentence summarising why a candidate is (or is not) a potential duplicate."""
    parts = [f"{m.label} {m.strength} ({m.detail})" for m in verdict.matches]
    head = "Potential duplicate" if verdict.is_duplicate else "Not a duplicate"
    return f"{head}, score {verdict.score:.2f}: " + "; ".join(parts)
