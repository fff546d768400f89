"""Search use cases: keep the index true, expand names, find and rank candidates, deduplicate."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Subquery

from crvshub.search import repository
from crvshub.search.indexing import MAX_TERM, RESOURCE_ROLE, ROLES, index_entry
from crvshub.search.names import Vocabulary, name_similarity, terms


def index_record(session: Session, record_id: str, bundle: dict[str, Any], *,
                 replace: bool = True) -> None:
    """Write (or rewrite) a record's search index entry in the caller's transaction."""
    repository.write_entry(session, record_id, index_entry(bundle, record_id), replace=replace)


def index_records(session: Session, bundles: Sequence[tuple[str, dict[str, Any]]], *,
                  replace: bool) -> None:
    """Write (or rewrite) the index entries of many records in a few batched statements."""
    if replace:
        repository.delete_entries(session, [rid for rid, _ in bundles])
    repository.write_entries(session, [(rid, index_entry(b, rid)) for rid, b in bundles])


class VocabularyCache:
    """The known name terms of one process, caught up with the database before each use.

    Catching up reads only the terms added since the last use (an indexed range scan), so
    a term committed a moment ago by another process is already expanded to.
    """

    def __init__(self) -> None:
        self._vocabulary = Vocabulary()
        self._last_id = 0
        self._lock = threading.Lock()

    def catch_up(self, session: Session) -> None:
        """Learn the terms added since the last call."""
        with self._lock:
            fresh = repository.vocabulary_since(session, self._last_id)
            if fresh:
                self._vocabulary.add(t for _, t in fresh)
                self._last_id = fresh[-1][0]

    def expand(self, session: Session, term: str) -> set[str]:
        """Return the known terms a query term matches (itself, sound-alikes, typos)."""
        self.catch_up(session)
        return self._vocabulary.expand(term)


@dataclass(frozen=True)
class NameQuery:
    """A name to look for, in the names of people of some roles."""

    text: str
    roles: tuple[str, ...] = ROLES

    @property
    def terms(self) -> list[str]:
        """Return the search terms of the name, cut like the index cuts them."""
        return [t[:MAX_TERM] for t in terms(self.text)]


def name_filters(session: Session, cache: VocabularyCache, query: NameQuery,
                 ) -> list[Select[str]]:
    """Return one record-id query per term of the name (a record must satisfy them all)."""
    return [repository.records_with_terms(query.roles, cache.expand(session, term))
            for term in query.terms]


def identifier_filter(value: str, roles: Sequence[str] = ROLES) -> Select[str]:
    """Return the record-id query of records where someone of these roles has this id."""
    return repository.records_with_identifier(value, roles)


def identifier_holders_any(value: str) -> Select[str]:
    """Return the record-id query of records where any person or resource has this id."""
    return repository.records_with_identifier(value, (*ROLES, RESOURCE_ROLE))


def resource_holder(session: Session, resource_id: str) -> tuple[str, bool] | None:
    """Return (record id, removed) of the record that holds (or held) a FHIR resource id."""
    return repository.resource_holder(session, resource_id)


def mark_removed(session: Session, record_id: str, resource_ids: Sequence[str]) -> None:
    """Remember FHIR resources a change removed from a record (their reads answer 410)."""
    repository.add_removed(session, record_id, resource_ids)


def born_between(role: str, start: date | None, end: date | None) -> Select[str]:
    """Return the record-id query of records whose person of a role was born in a range."""
    return repository.born_between(role, start, end)


def rank(session: Session, record_ids: Sequence[str], names: Sequence[NameQuery],
         ) -> dict[str, float]:
    """Score how well each record's people match the names asked for (1 = every name exact)."""
    if not names:
        return dict.fromkeys(record_ids, 1.0)
    people: dict[str, dict[str, list[str]]] = {}
    for person in repository.persons_of(session, record_ids):
        people.setdefault(person.record_id, {})[person.role] = (
            terms(person.given) + terms(person.family))
    scores = {}
    for rid in record_ids:
        roles = people.get(rid, {})
        total = 0.0
        for name in names:
            total += max((name_similarity(name.terms, roles[r]) for r in name.roles
                          if r in roles), default=0.0)
        scores[rid] = round(total / len(names), 4)
    return scores


def similar_terms_exist(record_id: ColumnElement[str], role: str, words: Sequence[str],
                        ) -> ColumnElement[bool]:
    """Return the condition: the record's person of a role has a term sounding like these."""
    return repository.similar_terms_exist(record_id, role, words)


def identifiers_exist(record_id: ColumnElement[str], keys: Sequence[str], role: str,
                      ) -> ColumnElement[bool]:
    """Return the condition: the record's person of a role has one of these identifier keys."""
    return repository.identifiers_exist(record_id, keys, role)


def identifier_holders(session: Session, keys: Sequence[str], role: str,
                       record_ids: Sequence[str]) -> set[str]:
    """Return which of some records have a person of a role with one of these identifier keys."""
    return repository.identifier_holders(session, keys, role, record_ids)


def people_of(session: Session, records: Subquery, roles: Sequence[str]) -> list[Any]:
    """Return the indexed people (of these roles) of some records, with the records' columns."""
    return repository.people_of(session, records, roles)
