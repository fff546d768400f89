"""SQL of the search index: write a record's entry, find records by terms and identifiers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Insert,
    Select,
    String,
    delete,
    exists,
    func,
    insert,
    intersect,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql import Subquery

from crvshub.db import Encoded, encode_rows, load_rows
from crvshub.search.indexing import (
    MAX_TERM,
    REMOVED_ROLE,
    RESOURCE_ROLE,
    ROLES,
    IndexEntry,
    identifier_key,
    resource_key,
)
from crvshub.search.models import SearchPerson, SearchTerm, SearchVocabulary
from crvshub.search.names import phonetic, skeleton


def _insert_ignore(session: Session, model: type[SearchVocabulary]) -> Insert:
    builder = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    return builder(model).on_conflict_do_nothing()


def write_entry(session: Session, record_id: str, entry: IndexEntry, *, replace: bool) -> None:
    """Store a record's index entry (replacing the previous one when asked)."""
    conn = session.connection()
    if replace:
        conn.execute(delete(SearchPerson).where(SearchPerson.record_id == record_id))
        conn.execute(delete(SearchTerm).where(SearchTerm.record_id == record_id,
                                              SearchTerm.role != REMOVED_ROLE))
    if entry.persons:
        conn.execute(insert(SearchPerson), [
            {"record_id": record_id, "role": p.role, "given": p.given, "family": p.family,
             "birth_date": p.birth_date, "gender": p.gender} for p in entry.persons])
    postings = entry.term_rows() | entry.identifier_rows()
    if postings:
        conn.execute(insert(SearchTerm), [
            {"term": t, "role": r, "record_id": record_id} for t, r in sorted(postings)])
    words = entry.vocabulary()
    if words:
        conn.execute(_insert_ignore(session, SearchVocabulary), [
            {"term": t, "phonetic": p, "skeleton": s} for t, (p, s) in sorted(words.items())])


def delete_entries(session: Session, record_ids: Sequence[str]) -> None:
    """Remove the index rows of some records."""
    conn = session.connection()
    conn.execute(delete(SearchPerson).where(SearchPerson.record_id.in_(list(record_ids))))
    conn.execute(delete(SearchTerm).where(SearchTerm.record_id.in_(list(record_ids)),
                                          SearchTerm.role != REMOVED_ROLE))


def write_entries(session: Session, entries: Sequence[tuple[str, IndexEntry]],
                  known: set[str] | None = None) -> None:
    """Store the index entries of many new records in a few batched INSERTs (or COPY).

    `known` (terms already stored, kept by the caller across batches) spares sending the
    same vocabulary again; new terms are added to it.
    """
    parts = [encode_entries(entries, session.get_bind().dialect.name)]
    load_entries(session, parts, None if known is None else new_words(parts, known))


@dataclass(frozen=True)
class EncodedEntries:
    """Index rows of new records prepared for `load_entries` (see `db.encode_rows`)."""

    persons: Encoded
    postings: Encoded
    words: dict[str, tuple[str, str]]  # term -> (phonetic code, skeleton)


def encode_entries(entries: Sequence[tuple[str, IndexEntry]], dialect: str) -> EncodedEntries:
    """Prepare the index rows of new records (pure: runs in worker processes)."""
    persons = [{"record_id": rid, "role": p.role, "given": p.given, "family": p.family,
                "birth_date": p.birth_date, "gender": p.gender}
               for rid, entry in entries for p in entry.persons]
    postings = [{"term": t, "role": r, "record_id": rid} for rid, entry in entries
                for t, r in sorted(entry.term_rows() | entry.identifier_rows())]
    words: dict[str, tuple[str, str]] = {}
    for _, entry in entries:
        words.update(entry.vocabulary())
    return EncodedEntries(encode_rows(SearchPerson, persons, dialect),
                          encode_rows(SearchTerm, postings, dialect), words)


def new_words(parts: Sequence[EncodedEntries], known: set[str]) -> dict[str, tuple[str, str]]:
    """Return the vocabulary of some prepared entries not in `known`, and add it to `known`.

    `known` (terms already stored, kept by the caller across batches) spares sending the same
    vocabulary again, and gives each new term to one batch only.
    """
    words: dict[str, tuple[str, str]] = {}
    for part in parts:
        words.update((t, v) for t, v in part.words.items() if t not in known)
    known.update(words)
    return words


def load_entries(session: Session, parts: Sequence[EncodedEntries],
                 words: dict[str, tuple[str, str]] | None = None) -> None:
    """Store index rows prepared by `encode_entries`: one COPY (or executemany) per table.

    The vocabulary stored is `words` when given (see `new_words`), else the parts' own.
    """
    load_rows(session, SearchPerson, [p.persons for p in parts])
    load_rows(session, SearchTerm, [p.postings for p in parts])
    if words is None:
        words = {t: v for part in parts for t, v in part.words.items()}
    if words:
        session.connection().execute(_insert_ignore(session, SearchVocabulary), [
            {"term": t, "phonetic": p, "skeleton": s} for t, (p, s) in sorted(words.items())])


def vocabulary_since(session: Session, last_id: int) -> list[tuple[int, str]]:
    """Return the terms added after a vocabulary id, in order."""
    rows = session.execute(
        select(SearchVocabulary.id, SearchVocabulary.term)
        .where(SearchVocabulary.id > last_id).order_by(SearchVocabulary.id))
    return [(int(i), str(t)) for i, t in rows]


def sound_alikes(session: Session, codes: Iterable[str], skeletons: Iterable[str]) -> set[str]:
    """Return the known terms with one of these phonetic codes or consonant skeletons."""
    code_list, bone_list = sorted(set(codes)), sorted(set(skeletons))
    found: set[str] = set()
    if code_list:
        found.update(session.scalars(
            select(SearchVocabulary.term).where(SearchVocabulary.phonetic.in_(code_list))))
    if bone_list:
        found.update(session.scalars(
            select(SearchVocabulary.term).where(SearchVocabulary.skeleton.in_(bone_list))))
    return found


def records_with_terms(roles: Sequence[str], options: set[str]) -> Select[str]:
    """Return a query of the records where one of these terms names a person of these roles."""
    return select(SearchTerm.record_id).where(
        SearchTerm.term.in_(sorted(options)), *_roles_condition(roles))


def _roles_condition(roles: Sequence[str]) -> list[ColumnElement[bool]]:
    # Name terms and pair keys are only posted under people's roles: asked for every role,
    # the role is left out so that the lookup is one index descent per key, not per key and role.
    return [] if set(roles) >= set(ROLES) else [SearchTerm.role.in_(sorted(set(roles)))]


def people_with_keys(roles: Sequence[str], keys: Sequence[set[str]]) -> Select[str, str]:
    """Return a query of the (record id, role) of people posted under one key of each set."""
    parts = [select(SearchTerm.record_id, SearchTerm.role).where(
        SearchTerm.term.in_(sorted(options)), *_roles_condition(roles)) for options in keys]
    if len(parts) == 1:
        return parts[0]
    found = intersect(*parts).subquery("people")
    return select(found.c.record_id, found.c.role)


def postings(session: Session, roles: Sequence[str], options: set[str], limit: int,
             ) -> list[tuple[str, str, str]] | None:
    """Return (record id, role, term) of the postings under these terms for people of these
    roles, or None when there are more than `limit` (read from the primary key alone)."""
    wanted = select(SearchTerm.record_id, SearchTerm.role, SearchTerm.term)
    if session.get_bind().dialect.name == "postgresql":
        # Joined with an array: PostgreSQL estimates an IN list key by key (a name's 2,400
        # pair keys took 185 ms at a million records, the join 31 ms for the same rows).
        keys = func.unnest(literal(sorted(options), ARRAY(String))).table_valued(
            "term").render_derived(name="wanted")
        wanted = wanted.join_from(keys, SearchTerm, SearchTerm.term == keys.c.term)
    else:
        wanted = wanted.where(SearchTerm.term.in_(sorted(options)))
    rows = session.execute(wanted.where(*_roles_condition(roles)).limit(limit + 1))
    found = [(str(r), str(o), str(t)) for r, o, t in rows]
    return None if len(found) > limit else found


def distinct_ids(session: Session, ids: Select[str]) -> list[str]:
    """Return the distinct record ids of a record-id query, in id order.

    Read whole and made distinct in Python: asked for DISTINCT, ORDER BY, LIMIT or a cursor,
    PostgreSQL plans for the first rows and walks the record-id index of every posting
    instead of reading the few keys asked for.
    """
    return sorted({str(i) for i in session.scalars(ids)})


def records_with_identifier(value: str, roles: Sequence[str]) -> Select[str]:
    """Return a query of the records where a person of these roles has this identifier."""
    return select(SearchTerm.record_id).where(
        SearchTerm.term == identifier_key(value), SearchTerm.role.in_(list(roles)))


def born_between(role: str, start: date | None, end: date | None) -> Select[str]:
    """Return the record-id query of records whose person of a role was born in a range."""
    query = select(SearchPerson.record_id).where(SearchPerson.role == role)
    if start is not None:
        query = query.where(SearchPerson.birth_date >= start)
    if end is not None:
        query = query.where(SearchPerson.birth_date <= end)
    return query


def names_of(session: Session, record_ids: Sequence[str], roles: Sequence[str],
             ) -> list[tuple[str, str, str | None, str | None]]:
    """Return (record id, role, given, family) of the people of some roles of some records."""
    if not record_ids:
        return []
    rows = session.execute(
        select(SearchPerson.record_id, SearchPerson.role, SearchPerson.given,
               SearchPerson.family)
        .where(SearchPerson.record_id.in_(list(record_ids)),
               SearchPerson.role.in_(list(roles))))
    return [(str(r), str(o), g, f) for r, o, g, f in rows]


def similar_terms_exist(record_id: ColumnElement[str], role: str, words: Sequence[str],
                        ) -> ColumnElement[bool]:
    """Return the condition: the record's person of a role has a term sounding like these.

    Correlated (EXISTS on the posting's primary key), so that it is only tested on the few
    records the caller's other conditions leave, not listed for every record with a common name.
    """
    codes = sorted({phonetic(w)[:MAX_TERM] for w in words})
    bones = sorted({skeleton(w)[:MAX_TERM] for w in words})
    alike = select(SearchVocabulary.term).where(or_(
        SearchVocabulary.term.in_(sorted(set(words))), SearchVocabulary.phonetic.in_(codes),
        SearchVocabulary.skeleton.in_(bones)))
    return exists().where(SearchTerm.term.in_(alike), SearchTerm.role == role,
                          SearchTerm.record_id == record_id)


def identifiers_exist(record_id: ColumnElement[str], keys: Sequence[str], role: str,
                      ) -> ColumnElement[bool]:
    """Return the condition: the record's person of a role has one of these identifier keys."""
    return exists().where(SearchTerm.term.in_(sorted(set(keys))), SearchTerm.role == role,
                          SearchTerm.record_id == record_id)


def identifier_holders(session: Session, keys: Sequence[str], role: str,
                       record_ids: Sequence[str]) -> set[str]:
    """Return which of some records have a person of a role with one of these identifier keys."""
    if not keys or not record_ids:
        return set()
    return set(session.scalars(select(SearchTerm.record_id).where(
        SearchTerm.term.in_(sorted(set(keys))), SearchTerm.role == role,
        SearchTerm.record_id.in_(list(record_ids)))))


def people_of(session: Session, records: Subquery, roles: Sequence[str]) -> list[Any]:
    """Return the indexed people (of these roles) of some records, with the records' columns.

    `records` is a subquery with an `id` column; its other columns come along in each row.
    """
    extra = [c for c in records.c if c.name != "id"]
    rows = session.execute(
        select(SearchPerson.record_id, SearchPerson.role, SearchPerson.given,
               SearchPerson.family, SearchPerson.birth_date, *extra)
        .join(records, records.c.id == SearchPerson.record_id)
        .where(SearchPerson.role.in_(list(roles))))
    return list(rows)


BULK_TABLES = ("search_persons", "search_terms", "search_vocabulary")  # `Database.settle`



def resource_holder(session: Session, resource_id: str) -> tuple[str, bool] | None:
    """Return (record id, removed) of the record holding (or that held) a FHIR resource."""
    rows = session.execute(
        select(SearchTerm.record_id, SearchTerm.role).where(
            SearchTerm.term == resource_key(resource_id),
            SearchTerm.role.in_([RESOURCE_ROLE, REMOVED_ROLE]))).all()
    current = [r for r in rows if r.role == RESOURCE_ROLE]
    if current:
        return str(current[0].record_id), False
    return (str(rows[0].record_id), True) if rows else None


def add_removed(session: Session, record_id: str, resource_ids: Iterable[str]) -> None:
    """Remember resources a change removed from a record (kept across rewrites)."""
    rows = [{"term": resource_key(rid), "role": REMOVED_ROLE, "record_id": record_id}
            for rid in sorted(set(resource_ids))]
    if rows:
        builder = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.connection().execute(builder(SearchTerm).on_conflict_do_nothing(), rows)
