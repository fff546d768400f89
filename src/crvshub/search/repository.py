"""SQL of the search index: write a record's entry, find records by terms and identifiers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Insert,
    Select,
    and_,
    cast,
    delete,
    exists,
    func,
    insert,
    intersect,
    null,
    or_,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased
from sqlalchemy.sql import Subquery

from crvshub.db import Encoded, UTCDateTime, encode_rows, load_rows, one_of, text_array
from crvshub.search.indexing import (
    REMOVED_ROLE,
    RESOURCE_ROLE,
    ROLES,
    IndexEntry,
    identifier_key,
    resource_key,
)
from crvshub.search.models import SearchPerson, SearchTerm, SearchVocabulary


def _insert_ignore(session: Session, model: type[SearchVocabulary]) -> Insert:
    builder = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    return builder(model).on_conflict_do_nothing()


def write_entry(session: Session, record_id: str, declared: datetime, entry: IndexEntry, *,
                replace: bool) -> None:
    """Store a record's index entry (replacing the previous one when asked); `declared` is
    the record's declaration time, kept in its postings."""
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
            {"term": t, "role": r, "record_id": record_id, "declared": declared}
            for t, r in sorted(postings)])
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


def write_entries(session: Session, entries: Sequence[tuple[str, datetime, IndexEntry]],
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


def encode_entries(entries: Sequence[tuple[str, datetime, IndexEntry]], dialect: str,
                   ) -> EncodedEntries:
    """Prepare the index rows of new records, each (id, declaration time, entry) (pure: runs
    in worker processes)."""
    persons = [{"record_id": rid, "role": p.role, "given": p.given, "family": p.family,
                "birth_date": p.birth_date, "gender": p.gender}
               for rid, _, entry in entries for p in entry.persons]
    postings = [{"term": t, "role": r, "record_id": rid, "declared": declared}
                for rid, declared, entry in entries
                for t, r in sorted(entry.term_rows() | entry.identifier_rows())]
    words: dict[str, tuple[str, str]] = {}
    for _, _, entry in entries:
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
    rows = session.connection().execute(
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
    """Return a query of the records where one of these terms names a person of these roles.

    An `IN` list, not an array: the query is probed for the few records a more precise
    criterion finds, and the planner needs the list's size to choose that plan.
    """
    return select(SearchTerm.record_id).where(
        SearchTerm.term.in_(sorted(options)), *_roles_condition(roles))


def has_terms(record_id: ColumnElement[str] | InstrumentedAttribute[str], roles: Sequence[str],
              options: set[str],
              ) -> ColumnElement[bool]:
    """Return whether one of these terms names a person of these roles in the record whose id
    is `record_id` (a column of the outer query): a probe of that record's postings."""
    return exists().where(SearchTerm.record_id == record_id,
                          SearchTerm.term.in_(sorted(options)), *_roles_condition(roles))


def dated_records_with_terms(roles: Sequence[str], options: set[str],
                             ) -> Select[str, datetime | None]:
    """Return a query of (record id, declaration time) of the records where one of these
    terms names a person of these roles."""
    return select(SearchTerm.record_id, SearchTerm.declared).where(
        SearchTerm.term.in_(sorted(options)), *_roles_condition(roles))


def _roles_condition(roles: Sequence[str], table: type[SearchTerm] = SearchTerm,
                     ) -> list[ColumnElement[bool]]:
    # Name terms and pair keys are only posted under people's roles: asked for every role,
    # the role is left out so that the lookup is one index descent per key, not per key and role.
    return [] if set(roles) >= set(ROLES) else [table.role.in_(sorted(set(roles)))]


def people_with_keys(roles: Sequence[str], keys: Sequence[set[str]], dialect: str,
                     plan: JoinPlan = (0, ()), *, dated: bool = True,
                     ) -> Select[str, str, datetime | None]:
    """Return a query of the (record id, role, declaration time) of people posted under one
    key of each set (the time from the postings: on PostgreSQL from the index alone; on
    SQLite, when not `dated`, NULL).

    The people of one set, the `plan`'s driver (the one with the fewest postings,
    `join_plan`), are read, and each is checked for a key of every other set among their own
    postings (the (record, role, term) index, a few entries a person): a common pair of words
    ("An Van", tens of thousands of postings) is never read whole. A set the plan says is not
    much larger than the driver is read whole instead and matched to the driver's people by
    hash (see `join_plan`).
    """
    if dialect != "postgresql" and len(keys) > 1:
        # SQLite probes a correlated subquery row by row, and its primary key holds no
        # declaration time: the people of the sets are intersected from the index alone, and
        # the time read for those found only (when asked).
        parts = [select(SearchTerm.record_id, SearchTerm.role).where(
            SearchTerm.term.in_(sorted(options)), *_roles_condition(roles)) for options in keys]
        found = intersect(*parts).subquery("people")
        if not dated:
            return select(found.c.record_id, found.c.role, cast(null(), UTCDateTime))
        held = aliased(SearchTerm, name="held")
        return select(found.c.record_id, found.c.role, held.declared).join_from(
            found, held, and_(held.record_id == found.c.record_id, held.role == found.c.role,
                              held.term.in_(sorted(keys[0]))))
    driver, hashed = plan
    query = select(SearchTerm.record_id, SearchTerm.role, SearchTerm.declared).where(
        one_of(SearchTerm.term, sorted(keys[driver]), dialect), *_roles_condition(roles))
    for n, options in enumerate(keys):
        if n == driver:
            continue
        other = aliased(SearchTerm, name=f"also{n}")
        if n in hashed:
            query = query.where(tuple_(SearchTerm.record_id, SearchTerm.role).in_(
                select(other.record_id, other.role).where(
                    one_of(other.term, sorted(options), dialect))))
            continue
        # `term || ''`: a filter on the person's postings, not one index descent per key.
        query = query.where(exists().where(
            other.record_id == SearchTerm.record_id, other.role == SearchTerm.role,
            one_of(other.term.concat(""), sorted(options), dialect)))
    return query


def dated_union(queries: Sequence[Select[str, str, datetime | None]],
                ) -> Select[str, datetime | None]:
    """Return the (record id, declaration time) query of the people any of some
    `people_with_keys` queries finds."""
    found = (queries[0] if len(queries) == 1 else union_all(*queries)).subquery("keyed")
    return select(found.c.record_id, found.c.declared)


PROBE_ROUNDS = (256, 4_096, 50_000)  # postings of each key set counted, round by round
JoinPlan = tuple[int, tuple[int, ...]]  # the driving key set, and the sets matched by hash


def join_plan(session: Session, roles: Sequence[str], keys: Sequence[set[str]]) -> JoinPlan:
    """Return how the people under a key of every set are joined: the index of the set with
    the fewest postings (ties: the first), which drives, and the other sets small enough to
    be read whole and matched to its people by hash.

    Every set is counted up to a few hundred postings, then a few thousand, and so on
    (`PROBE_ROUNDS`), until one has fewer than that: a common pair of words costs the
    rarer set's postings, not its own. Each of the driver's people is otherwise checked
    among their own postings, one index descent a person; a set counted whole in the last
    round (fewer postings than its limit, so at most 16 times the driver's) is cheaper read
    whole: at a million records, "Meena Priya Nair" (6,294 and 6,356 postings) was counted
    in 45 ms by descents, 14 ms by hash; "Fatima Aisha Ali" (3,008 and 2,838) 16.5 and 3.5 ms.
    """
    if len(keys) < 2:
        return 0, ()
    dialect = session.get_bind().dialect.name
    sizes: list[int] = []
    cap = 0
    for cap in PROBE_ROUNDS:
        # Every set counted in one statement a round (a name's tiers each plan their lookups
        # the first time the name is asked: one statement per set and round was up to twenty).
        counts = [select(func.count()).select_from(select(SearchTerm.record_id).where(
            one_of(SearchTerm.term, sorted(options), dialect), *_roles_condition(roles),
        ).limit(cap).subquery(f"held{n}")).scalar_subquery() for n, options in enumerate(keys)]
        sizes = [int(size or 0) for size in session.execute(select(*counts)).one()]
        if min(sizes) < cap:
            break
    driver = sizes.index(min(sizes))
    return driver, tuple(n for n, size in enumerate(sizes) if n != driver and size < cap)


def _declared_micros(dialect: str, table: type[SearchTerm] = SearchTerm,
                     ) -> ColumnElement[int | None]:
    """The declaration time a posting carries, as microseconds since 1970 (exact), on
    PostgreSQL (from the primary key's leaf entries); NULL elsewhere (the records are asked)."""
    if dialect != "postgresql":
        return cast(null(), BigInteger)
    return cast(func.extract("epoch", table.declared) * 1_000_000, BigInteger)


Posting = tuple[str, str, str, int | None]  # record id, role, term, declared (µs) or None


def postings(session: Session, roles: Sequence[str], options: set[str], limit: int,
             record_ids: Sequence[str] | None = None) -> list[Posting] | None:
    """Return (record id, role, term, declaration time in µs or None) of the postings under
    these terms for people of these roles (of some records only, when given), or None when
    there are more than `limit` (read from the primary key alone)."""
    dialect = session.get_bind().dialect.name
    wanted = select(SearchTerm.record_id, SearchTerm.role, SearchTerm.term,
                    _declared_micros(dialect))
    if record_ids is not None:
        wanted = wanted.where(one_of(SearchTerm.record_id, sorted(record_ids), dialect))
    if dialect == "postgresql":
        # Joined with an array: PostgreSQL estimates an IN list key by key (a name's 2,400
        # pair keys took 185 ms at a million records, the join 31 ms for the same rows).
        keys = func.unnest(text_array(sorted(options))).table_valued(
            "term").render_derived(name="wanted")
        wanted = wanted.join_from(keys, SearchTerm, SearchTerm.term == keys.c.term)
    else:
        wanted = wanted.where(SearchTerm.term.in_(sorted(options)))
    rows = session.connection().execute(wanted.where(*_roles_condition(roles)).limit(limit + 1))
    found = [(str(r), str(o), str(t), at) for r, o, t, at in rows]
    return None if len(found) > limit else found


def people_under_all(session: Session, roles: Sequence[str], key_sets: Sequence[set[str]],
                     limit: int) -> list[tuple[str, str, list[str], int | None]] | None:
    """Return (record id, role, the key of each set, declaration time in µs or None) of the
    people posted under a key of every set, or None when there are more than `limit` of them.

    The people of the set with the fewest postings (`join_plan`) are read, and each is
    joined to their own postings under the other sets (the (record, role, term) index, a few
    entries a person; a set the plan hashes is read by its keys and matched by hash): the
    database returns the people found (hundreds), never every posting of a common pair of
    words, nor does every posting cross to Python to be intersected here.
    """
    dialect = session.get_bind().dialect.name
    driver, hashed = join_plan(session, roles, key_sets)
    first = aliased(SearchTerm, name=f"set{driver}")
    tables = {driver: first}
    query = select(first.record_id, first.role, _declared_micros(dialect, first)).select_from(
        first).where(one_of(first.term, sorted(key_sets[driver]), dialect),
                     *_roles_condition(roles, first))
    for n, keys in enumerate(key_sets):
        if n == driver:
            continue
        other = tables[n] = aliased(SearchTerm, name=f"set{n}")
        # `term || ''`: a filter on the person's postings, not one index descent per key; a
        # set the plan hashes is read by its keys and matched to the people by hash.
        term = other.term if n in hashed else other.term.concat("")
        query = query.join(other, and_(other.record_id == first.record_id,
                                       other.role == first.role,
                                       one_of(term, sorted(keys), dialect)))
    query = query.add_columns(*(tables[n].term for n in range(len(key_sets))))
    rows = [(str(r[0]), str(r[1]), [str(r[n]) for n in range(3, len(r))], r[2])
            for r in session.connection().execute(query.limit(limit + 1))]
    return None if len(rows) > limit else rows


def distinct_ids(session: Session, ids: Select[str]) -> list[str]:
    """Return the distinct record ids of a record-id query, in id order.

    Read whole and made distinct in Python: asked for DISTINCT, ORDER BY, LIMIT or a cursor,
    PostgreSQL plans for the first rows and walks the record-id index of every posting
    instead of reading the few keys asked for.
    """
    return sorted({str(i) for i in session.scalars(ids)})


def count_ids(session: Session, queries: Sequence[Select[str]]) -> int:
    """Return how many distinct record ids every one of some record-id queries returns.

    Counted whole in the database: a cap (`LIMIT`) makes PostgreSQL plan for the first rows
    and probe the records' index for each, where counting the postings' ids is a hash.
    """
    ids = queries[0] if len(queries) == 1 else intersect(*queries)
    found = ids.subquery("counted")
    return int(session.scalar(select(func.count(found.c[0].distinct()))) or 0)


def newest_found(session: Session, queries: Sequence[Select[str, datetime | None]],
                 cap: int, limit: int, offset: int = 0) -> list[tuple[str, datetime]] | None:
    """Return (record id, declaration time) of the distinct records every one of some
    (record id, declaration time) queries returns, newest first (ties in id order), one
    page of `limit` after `offset`; None when they hold more than `cap` postings, or a
    posting without its time.

    Ordered and paged in the database, which reads the postings with their times from an
    index alone (PostgreSQL's primary key; SQLite's `ix_search_terms_term_declared`) and sends
    one page, not thousands of rows to be sorted here.
    """
    rows = session.connection().execute(
        newest_found_statement(queries, cap, limit, offset)).all()
    if rows and rows[0][2] > cap:
        return None
    page = [(str(rid), at) for rid, at, _ in rows if at is not None]
    return page if len(page) == len(rows) else None


def newest_found_statement(queries: Sequence[Select[str, datetime | None]], cap: int,
                           limit: int, offset: int) -> Select[str, datetime | None, int]:
    """The statement of `newest_found`: one page of (record id, declaration time, postings
    held up to `cap` + 1)."""
    both = queries[0] if len(queries) == 1 else intersect(*queries)
    found = both.subquery("dated")
    postings = select(found.c[0].label("record_id"), found.c[1].label("declared")).limit(
        cap + 1).cte("postings")
    held = select(func.count()).select_from(postings).scalar_subquery()
    return (select(postings.c.record_id, postings.c.declared, held)
            .group_by(postings.c.record_id, postings.c.declared)
            .order_by(postings.c.declared.desc(), postings.c.record_id)
            .limit(limit).offset(offset))


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


def postings_of(session: Session, records: Subquery, wanted: Sequence[tuple[str, set[str]]],
                limit: int) -> list[tuple[str, str, str]]:
    """Return (record id, role, term) of the postings of some records under wanted terms.

    `records` is a subquery with an `id` column (a few days of one event); `wanted` pairs a
    role with its terms. For each role the smaller side is read first: the wanted terms'
    postings across the country when there are at most `limit` of them (the primary key
    alone, matched to the records by hash), else the records' own postings of that role (the
    (record, role, term) index alone, one descent per record). A common name costs at most
    the records of a few days, and no plan ever looks a record up per posting.
    """
    wanted = [(role, terms) for role, terms in wanted if terms]
    if not wanted:
        return []
    if session.get_bind().dialect.name != "postgresql":
        return _rows(session, select(SearchTerm.record_id, SearchTerm.role, SearchTerm.term)
                     .join(records, records.c.id == SearchTerm.record_id).where(or_(*(
                         and_(SearchTerm.role == role, SearchTerm.term.in_(sorted(terms)))
                         for role, terms in wanted))))
    found: list[tuple[str, str, str]] = []
    for role, terms in wanted:
        rows = _by_terms(session, records, role, terms, limit)
        found += rows if rows is not None else _by_records(session, records, role, terms)
    return found


def _by_terms(session: Session, records: Subquery, role: str, terms: set[str], limit: int,
              ) -> list[tuple[str, str, str]] | None:
    # An array join, not an IN list (PostgreSQL plans an IN list key by key); MATERIALIZED:
    # read once, the LIMIT bounding the read whatever the plan of the rest.
    keys = func.unnest(text_array(sorted(terms))).table_valued(
        "term").render_derived(name="wanted")
    postings = (select(SearchTerm.record_id, SearchTerm.term)
                .join_from(keys, SearchTerm, SearchTerm.term == keys.c.term)
                .where(SearchTerm.role == role)
                .limit(limit + 1).cte("postings").prefix_with("MATERIALIZED"))
    window = select(records.c.id).cte("window").prefix_with("MATERIALIZED")
    counted = select(func.count().label("n")).select_from(postings).subquery("counted")
    matched = (select(postings.c.record_id, postings.c.term)
               .join(window, window.c.id == postings.c.record_id).subquery("matched"))
    rows = session.execute(select(counted.c.n, matched.c.record_id, matched.c.term)
                           .select_from(counted).outerjoin(matched, true())).all()
    if rows[0][0] > limit:  # one row at least: the count, with nothing matched
        return None
    return [(str(r), role, str(t)) for _, r, t in rows if r is not None]


def _by_records(session: Session, records: Subquery, role: str, terms: set[str],
                ) -> list[tuple[str, str, str]]:
    # OFFSET 0 keeps the per-record read a read of the record's role (nothing pushed into
    # it); the wanted terms are then matched by hash, once.
    own = (select(SearchTerm.term).where(SearchTerm.record_id == records.c.id,
                                         SearchTerm.role == role)
           .offset(0).lateral("own"))
    read = (select(records.c.id, own.c.term).join_from(records, own, true())
            .cte("own_postings").prefix_with("MATERIALIZED"))
    keys = func.unnest(text_array(sorted(terms))).table_valued(
        "term").render_derived(name="wanted")
    rows = session.execute(select(read.c.id, read.c.term).join(keys, keys.c.term == read.c.term))
    return [(str(r), role, str(t)) for r, t in rows]


def _rows(session: Session, query: Select[Any, Any, Any]) -> list[tuple[str, str, str]]:
    return [(str(r), str(o), str(t)) for r, o, t in session.execute(query)]


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
POSTING_TABLES = ("search_persons", "search_terms")  # one row per record and name or term



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
