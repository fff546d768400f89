"""Search use cases: keep the index true, expand names, find and rank candidates, deduplicate."""

from __future__ import annotations

import contextlib
import functools
import itertools
import threading
import time
import weakref
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Connection, Engine, Pool, Select, select
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql import Subquery

from crvshub.search import repository
from crvshub.search.indexing import (
    MAX_TERM,
    PAIRED_TERMS,
    RESOURCE_ROLE,
    ROLES,
    index_entry,
    name_terms,
    pair_key,
    term_pairs,
)
from crvshub.search.names import (
    PREFIX,
    Vocabulary,
    query_similarity,
    score_bound,
    term_similarity,
    terms,
)


def index_record(session: Session, record_id: str, declared: datetime, bundle: dict[str, Any],
                 *, replace: bool = True) -> None:
    """Write (or rewrite) a record's search index entry in the caller's transaction;
    `declared` is the record's declaration time."""
    repository.write_entry(session, record_id, declared, index_entry(bundle, record_id),
                           replace=replace)


def index_records(session: Session, bundles: Sequence[tuple[str, datetime, dict[str, Any]]],
                  *, replace: bool) -> None:
    """Write (or rewrite) the index entries of many records, each (id, declaration time,
    bundle), in a few batched statements."""
    if replace:
        repository.delete_entries(session, [rid for rid, _, _ in bundles])
    repository.write_entries(session, [(rid, declared, index_entry(b, rid))
                                       for rid, declared, b in bundles])


T = TypeVar("T")
LATE_COMMIT_SECONDS = 60.0  # how long an id skipped when catching up may still be committed
REMEMBERED = 1024  # names whose posting keys a process keeps (the oldest are forgotten)
RECENT_IDS = 100  # on a process's first read, the ids behind the newest that may be in flight
STEADY = "crvshub.vocabulary_steady"  # session.info: within `steady`, and whether caught up


class VocabularyCache:
    """The known name terms of one process, caught up with the database before each use.

    Catching up reads only the terms added since the last use (an indexed range scan), so
    a term committed a moment ago by another process is already expanded to. Ids are given
    when a term is inserted, not when its transaction commits, and an insert that finds the
    term there (or is rolled back) uses one up too: an id skipped when catching up may be a
    term whose transaction has not committed yet. For `LATE_COMMIT_SECONDS` after the first
    such gap was seen, catching up reads again from it (the terms added in those seconds, a
    few), so a term committed late is still learnt.
    """

    def __init__(self) -> None:
        self._vocabulary = Vocabulary()
        self._last_id = 0
        self._gap: tuple[int, float] | None = None  # the oldest id skipped lately, and when
        self._remembered: dict[Hashable, tuple[int, list[set[str]]]] = {}
        self._plans: dict[Hashable, tuple[int, repository.JoinPlan]] = {}
        self._lock = threading.Lock()

    def catch_up(self, session: Session) -> None:
        """Learn the terms added since the last call, and those committed late since (once
        within `steady`)."""
        steady = session.info.get(STEADY)
        if steady is not None:
            if steady:
                return
            session.info[STEADY] = True
        with self._lock:
            now = time.monotonic()
            if self._gap is not None and now - self._gap[1] > LATE_COMMIT_SECONDS:
                self._gap = None
            start = self._last_id if self._gap is None else self._gap[0] - 1
            fresh = repository.vocabulary_since(session, start)
            if not fresh:
                return
            self._vocabulary.add(t for _, t in fresh)
            ids = [i for i, _ in fresh]
            if self._gap is None:
                # On the first read, only the newest ids can still be in flight.
                expected = self._last_id + 1 if self._last_id else ids[-1] - RECENT_IDS
                for term_id in ids:
                    if term_id > expected:
                        self._gap = (expected, now)
                        break
                    expected = max(expected, term_id + 1)
            self._last_id = max(self._last_id, ids[-1])

    @contextlib.contextmanager
    def steady(self, session: Session) -> Iterator[None]:
        """Within the block, catch up at most once for this session: a search, which writes
        no term, expands all of its names against one read of what is new (each catching up
        is a statement: four a name search, a tenth of its time), and a search by number
        reads none."""
        before = session.info.get(STEADY)
        if before is None:
            session.info[STEADY] = False
        try:
            yield
        finally:
            if before is None:
                session.info.pop(STEADY, None)

    def expand(self, session: Session, term: str) -> set[str]:
        """Return the known terms a query term matches (itself, sound-alikes, typos)."""
        self.catch_up(session)
        return self._vocabulary.expand(term)

    def expand_all(self, session: Session, terms: Sequence[str]) -> list[set[str]]:
        """Return `expand` of each of some query terms (caught up once)."""
        self.catch_up(session)
        return [self._vocabulary.expand(term) for term in terms]

    def remember(self, key: Hashable, compute: Callable[[], list[set[str]]],
                 ) -> list[set[str]]:
        """Return what `compute` gives for a key, computed once while no term is learnt
        (the posting keys of a name a search asks for several times); a copy each time."""
        return [set(keys) for keys in self._held(self._remembered, key, compute)]

    def remember_plan(self, key: Hashable, compute: Callable[[], repository.JoinPlan],
                      ) -> repository.JoinPlan:
        """Return what `compute` gives for a key, computed once while no term is learnt."""
        return self._held(self._plans, key, compute)

    def _held(self, store: dict[Hashable, tuple[int, T]], key: Hashable,
              compute: Callable[[], T]) -> T:
        version = self._vocabulary.version
        held = store.get(key)
        if held is None or held[0] != version:
            held = store[key] = (version, compute())
            if len(store) > REMEMBERED:
                with contextlib.suppress(StopIteration, RuntimeError, KeyError):
                    store.pop(next(iter(store)))  # the oldest
        return held[1]

    def alike(self, session: Session, groups: Sequence[Sequence[str]]) -> list[set[str]]:
        """Return, per group of words, the known terms alike one of them (same, sound,
        consonants): `alike_terms` from memory."""
        self.catch_up(session)
        return [self._vocabulary.alike(words) for words in groups]


_CACHES: weakref.WeakKeyDictionary[Pool, VocabularyCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def vocabulary_of(bind: Engine | Connection) -> VocabularyCache:
    """Return the process's vocabulary cache of a database (one per connection pool, so
    that another database, a test's own, never shares one)."""
    pool = bind.engine.pool
    with _CACHES_LOCK:
        cache = _CACHES.get(pool)
        if cache is None:
            cache = _CACHES[pool] = VocabularyCache()
        return cache


def cache_of(session: Session) -> VocabularyCache:
    """Return the process's vocabulary cache of a session's database."""
    return vocabulary_of(session.connection())


def alike_terms(session: Session, groups: Sequence[Sequence[str]]) -> list[set[str]]:
    """Return, per group of words, the known terms alike one of them (same, sound, consonants)."""
    return cache_of(session).alike(session, groups)


@dataclass(frozen=True)
class NameQuery:
    """A name to look for, in the names of people of some roles."""

    text: str
    roles: tuple[str, ...] = ROLES

    @property
    def terms(self) -> list[str]:
        """Return the search terms of the name, cut like the index cuts them."""
        return [t[:MAX_TERM] for t in terms(self.text)]


MAX_PAIR_KEYS = 16_384  # pair keys in one lookup; two terms with more variants are looked up alone
# SQLite takes keys as `IN` lists, at most 32,766 values in a statement (a name's key sets are
# intersected in one): fewer pair keys there.
SQLITE_PAIR_KEYS = 4_096


def name_keys(session: Session, cache: VocabularyCache, query: NameQuery) -> list[set[str]]:
    """Return the posting keys of a name: a person matches when posted under one of each set.

    Each query term is expanded to the known terms it matches. One term alone is looked up by
    its variants. Two or more are looked up by pair keys (`indexing.pair_key`): the terms
    ordered by how many variants they have, each pair of neighbours gives the keys of every
    pair of their variants, so a common first name and a common family name read only the
    people who have both. Neighbours whose variants would make more than `MAX_PAIR_KEYS` keys,
    and names of more than `PAIRED_TERMS` words, are looked up term by term.
    """
    words = tuple(dict.fromkeys(query.terms))
    expanded = cache.expand_all(session, words)
    most = _most_pair_keys(session)
    # Remembered until a term is learnt: one search asks for its names' keys several times.
    return cache.remember(("keys", words, most),
                          lambda: _keys_of(_plan(expanded, most), expanded))


def _most_pair_keys(session: Session) -> int:
    if session.get_bind().dialect.name == "postgresql":
        return MAX_PAIR_KEYS
    return min(MAX_PAIR_KEYS, SQLITE_PAIR_KEYS)


Part = tuple[int, ...]  # (i,): the variants of word i; (i, j): the pairs of words i's and j's


def _plan(expanded: Sequence[set[str]], most: int) -> list[Part]:
    """Return how a name's words are looked up (see `name_keys`), from their variants."""
    order = sorted(range(len(expanded)), key=lambda i: (len(expanded[i]), sorted(expanded[i])))
    if len(order) == 1 or len(order) > PAIRED_TERMS:
        # Pairs are posted for a person's first `PAIRED_TERMS` words only: a longer name is
        # looked up word by word, or its holders would not be found.
        return [(i,) for i in order]
    parts: list[Part] = []
    for left, right in itertools.pairwise(order):
        if len(expanded[left]) * len(expanded[right]) > most:
            parts += [(left,), (right,)]
        else:
            parts.append((left, right))
    return parts


def _keys_of(parts: Sequence[Part], variants: Sequence[set[str]]) -> list[set[str]]:
    """Return the key sets of a plan, for some variants of each word."""
    return [set(variants[part[0]]) if len(part) == 1 else
            {pair_key(a, b) for a in variants[part[0]] for b in variants[part[1]]}
            for part in parts]


def name_filter(session: Session, cache: VocabularyCache, query: NameQuery) -> Select[str]:
    """Return the record-id query of records where one person of the roles has the name."""
    people = _people_with_keys(session, cache, query, name_keys(session, cache, query),
                               dated=False)
    found = people.subquery("named")
    return select(found.c.record_id)


def _people_with_keys(session: Session, cache: VocabularyCache, query: NameQuery,
                      keys: list[set[str]], *, dated: bool = True,
                      planned: list[set[str]] | None = None,
                      ) -> Select[str, str, datetime | None]:
    """`repository.people_with_keys`, joined as `repository.join_plan` says of the key sets
    `planned` (the name's own, `name_keys`, when not given): chosen once per name while no
    term is learnt (a search asks for a name several times; SQLite intersects the sets
    instead). A tier's lookups use the whole name's plan: their sets are parts of the
    name's, and counting each tier's would cost a statement a round and tier the first
    time a name is asked."""
    dialect = session.get_bind().dialect.name
    basis = keys if planned is None else planned
    plan: repository.JoinPlan = (0, ()) if dialect != "postgresql" else cache.remember_plan(
        ("plan", tuple(query.terms), query.roles, tuple(len(k) for k in basis)),
        lambda: repository.join_plan(session, query.roles, basis))
    return repository.people_with_keys(query.roles, keys, dialect, plan, dated=dated)


def exactly_findable(query: NameQuery) -> bool:
    """Tell whether `exact_filter` finds the people whose terms are the name's own, and only
    people who can have it: a name of at most `PAIRED_TERMS` words (a person's first ones are
    posted as pairs), none of them twice (the keys do not say how often a word is held:
    most holders of "Mai Tran" are no "Mai Mai Tran")."""
    words = query.terms
    return len(set(words)) == len(words) <= PAIRED_TERMS


def exact_filter(session: Session, query: NameQuery) -> Select[str]:
    """Return the record-id query of records where one person of the roles has every word of
    the name as it is written (no variants): a one-word name by its term, a longer one by the
    pair keys of its neighbouring words (intersected per person, like `name_filter`)."""
    holders = exact_holders(session, query).subquery("exact")
    return select(holders.c.record_id)


def exact_holders(session: Session, query: NameQuery) -> Select[str, datetime | None]:
    """Return the (record id, declaration time) query of the records `exact_filter` finds."""
    words = list(dict.fromkeys(query.terms))
    if len(words) == 1:
        return repository.dated_records_with_terms(query.roles, set(words))
    keys = [{pair_key(a, b)} for a, b in itertools.pairwise(words)]
    people = _people_with_keys(session, cache_of(session), query, keys)
    found = people.subquery("exact")
    return select(found.c.record_id, found.c.declared)


def count_named(session: Session, cache: VocabularyCache, queries: Sequence[NameQuery]) -> int:
    """Return how many records have every one of some names (any variant), in any status."""
    return repository.count_ids(session, [name_filter(session, cache, q) for q in queries])


TIERED_WORDS = 4  # names of at most this many words are paged tier by tier
Tier = tuple[float, list[list[set[str]]]]  # a bound, and the key sets of each of its lookups


def name_tiers(session: Session, cache: VocabularyCache, query: NameQuery,
               ) -> Iterator[Tier] | None:
    """Return a name's lookups grouped by the best score a person they find can get, best
    first; None for a name of more than `TIERED_WORDS` words, or one `exactly_findable` is not.

    The variants of each word are grouped by how alike they are to each word of the name
    (`names.term_similarity`). Choosing one group per word bounds the score of every person
    found under the choice: each word of the name is matched at best by one of the chosen
    groups, or by another term as a prefix (as `names.score_bound` reasons). The choices of
    one bound make a tier; each choice is looked up like the whole name (`name_keys`: the
    same pairs and words) with its groups' variants only, so every person the name finds is
    found in the tier of their best choice. The exact words come first, then the nearest
    variants: a common name is paged from a few of its thousands of keys.
    """
    words = list(dict.fromkeys(query.terms))
    if not exactly_findable(query) or len(words) > TIERED_WORDS:
        return None
    expanded = cache.expand_all(session, words)
    parts = _plan(expanded, _most_pair_keys(session))
    groups = [_alike_groups(words, variants) for variants in expanded]
    tiers: dict[float, list[tuple[set[str], ...]]] = {}
    for chosen in itertools.product(*groups):
        tiers.setdefault(_choice_bound(words, chosen), []).append(chosen)
    return _tier_keys(parts, sorted(tiers.items(), key=lambda tier: -tier[0]))


def _alike_groups(words: Sequence[str], variants: set[str]) -> list[set[str]]:
    """Group a word's variants by their similarity to each word of the name."""
    groups: dict[tuple[float, ...], set[str]] = {}
    for term in variants:
        groups.setdefault(tuple(term_similarity(w, term) for w in words), set()).add(term)
    return [groups[alike] for alike in sorted(groups, reverse=True)]


def _choice_bound(words: Sequence[str], chosen: Sequence[set[str]]) -> float:
    """Return the best score of a person found under one group of variants per word.

    Such a person holds a term of each group: their other terms are no variant of the name's
    words, so each matches one at best as a prefix. When two groups share a term, one term
    may stand for two words: the best single word's match bounds the score.
    """
    best = [max([term_similarity(w, min(group)) for group in chosen] + [PREFIX])
            for w in words]
    shared = any(a & b for a, b in itertools.combinations(chosen, 2))
    return round(max(best) if shared else sum(best) / len(best), 4)


def _tier_keys(parts: Sequence[Part], tiers: Sequence[tuple[float, list[tuple[set[str], ...]]]],
               ) -> Iterator[Tier]:
    for bound, choices in tiers:
        lookups = [_keys_of(parts, chosen) for chosen in choices]
        if len(parts) == 1:  # one key set each: looked up as one
            lookups = [[set().union(*(keys[0] for keys in lookups))]]
        yield bound, lookups


def tier_holders(session: Session, cache: VocabularyCache, query: NameQuery, tier: Tier,
                 ) -> Select[str, datetime | None]:
    """Return the (record id, declaration time) query of the records where one person of
    the roles is found by one of a tier's lookups (`name_tiers`)."""
    _, lookups = tier
    whole = name_keys(session, cache, query)  # the tiers' sets are parts of these
    return repository.dated_union([
        _people_with_keys(session, cache, query, keys, planned=whole) for keys in lookups])


def scored_by_bound(query: NameQuery, bound: float) -> bool:
    """Tell whether every record first found in a tier of this bound scores the bound: a
    one-word name's tiers above a prefix's match (a person first found there holds a variant
    as alike as the bound says, and no better one: that would be an earlier tier's)."""
    return len(dict.fromkeys(query.terms)) == 1 and bound > PREFIX


def score_named(session: Session, record_ids: Sequence[str], query: NameQuery,
                key_sets: Sequence[set[str]]) -> dict[str, float]:
    """Score records by their people the name finds (those posted under a key of each of
    `name_keys`), as ranking every person found scores them (`score_people`)."""
    scores = dict.fromkeys(record_ids, 0.0)
    query_terms = query.terms
    for record_id, _, given, family in repository.names_of(session, record_ids, query.roles):
        held = name_terms(given, family)
        keys = {*held, *term_pairs(held)}
        if all(not keys.isdisjoint(options) for options in key_sets):
            scores[record_id] = max(scores[record_id], query_similarity(
                query_terms, _person_terms(given, family)))
    return {rid: round(score, 4) for rid, score in scores.items()}


def newest_found(session: Session, queries: Sequence[Select[str, datetime | None]],
                 cap: int, limit: int, offset: int = 0) -> list[tuple[str, datetime]] | None:
    """Return (record id, declaration time) of the records every one of some queries of
    `exact_holders` or `key_holders` finds, newest first, one page of `limit` after
    `offset`, from the postings alone; None when they hold more than `cap` postings."""
    return repository.newest_found(session, queries, cap, limit, offset)


def term_conditions(session: Session, cache: VocabularyCache, query: NameQuery,
                    record_id: ColumnElement[str] | InstrumentedAttribute[str],
                    ) -> list[ColumnElement[bool]]:
    """Return one condition per term of the name, on the record whose id is `record_id`
    (each tested on the record alone).

    For a name asked with a more precise criterion: the records that criterion finds are read
    first and their postings probed, term by term (a person of one role, such as the mother,
    is one person; for several roles a record's people share the terms). On PostgreSQL the
    planner does so from a record-id subquery; SQLite reads every record such a subquery
    finds ("Tran": thousands) before it looks at the criterion, so there each record's own
    postings are probed (the (record, role, term) index, a few entries).
    """
    sqlite = session.get_bind().dialect.name != "postgresql"
    conditions: list[ColumnElement[bool]] = []
    for term in dict.fromkeys(query.terms):
        options = cache.expand(session, term)
        conditions.append(repository.has_terms(record_id, query.roles, options) if sqlite else
                          record_id.in_(repository.records_with_terms(query.roles, options)))
    return conditions


NAMED_IDS = 10_000  # records of a name read into memory before the records are filtered


def named_records(session: Session, cache: VocabularyCache, query: NameQuery,
                  ) -> list[str] | Select[str]:
    """Return the ids of the records where one person of the roles has the name, or the
    record-id query when the name is one word or more than `NAMED_IDS` records have it.

    The ids of a name of two or more words are read first (its pair keys make that a small
    read), so that the database then looks those records up by id; a one-word name matches
    a large share of the records and is left as a subquery: the newest records are walked
    until enough of them have it.
    """
    if len(dict.fromkeys(query.terms)) < 2:
        return name_filter(session, cache, query)
    ids = repository.distinct_ids(session, name_filter(session, cache, query))
    return ids if len(ids) <= NAMED_IDS else name_filter(session, cache, query)


Person = tuple[str, str]  # (record id, role)


def named_people(session: Session, cache: VocabularyCache, query: NameQuery, limit: int,
                 declared: dict[str, int] | None = None) -> dict[Person, set[str]] | None:
    """Return the people of the roles who have the name, each with the terms of theirs the
    lookup matched, or None when there are more than `limit` of them (a name of several key
    sets) or its key set has more than `limit` postings (a name of one).

    A name of several key sets (pair keys, or words looked up one by one) is joined person
    by person in the database (`repository.people_under_all`), which sends the people found,
    not every posting of every set (tens of thousands for two common words). One key set is
    read from the postings' primary key alone (no table rows). `declared`, when given,
    receives the declaration times (µs since 1970) the postings carry, where the database
    gives them.
    """
    stamps: dict[str, int] = {} if declared is None else declared
    key_sets = name_keys(session, cache, query)
    pairs = all(" " in key for keys in key_sets for key in keys)
    if len(key_sets) == 1 or (not pairs and session.get_bind().dialect.name != "postgresql"):
        return _intersected(session, query, key_sets, limit, stamps)
    joined = repository.people_under_all(session, query.roles, key_sets, limit)
    if joined is None:
        return None
    people: dict[Person, set[str]] = {}
    for record_id, role, keys, at in joined:
        if at is not None:
            stamps[record_id] = at
        known = people.setdefault((record_id, role), set())
        for key in keys:
            known.update(key.split(" "))
    return people


def _intersected(session: Session, query: NameQuery, key_sets: list[set[str]], limit: int,
                 stamps: dict[str, int]) -> dict[Person, set[str]] | None:
    """`named_people` of one key set, or of words looked up one by one on SQLite (which joins
    row by row): each set's postings read from the primary key alone and intersected per
    person here; a set with more than `limit` postings is read last, for the people the
    others found only (a name of one such set: None)."""
    found: dict[Person, set[str]] | None = None
    deferred: list[set[str]] = []
    for options in key_sets:
        rows = repository.postings(session, query.roles, options, limit)
        if rows is None:
            deferred.append(options)
            continue
        found = _keep(found, rows, stamps)
        if not found:
            return found
    if found is None:
        return None
    for options in deferred:
        rows = repository.postings(session, query.roles, options, limit,
                                   sorted({rid for rid, _ in found}))
        if rows is None:
            return None
        found = _keep(found, rows, stamps)
        if not found:
            return found
    return found


def _keep(found: dict[Person, set[str]] | None, rows: list[repository.Posting],
          stamps: dict[str, int]) -> dict[Person, set[str]]:
    """Return the people of `rows` (all of them when nothing was found before, else those
    also in `found`), each with the terms matched so far."""
    people: dict[Person, set[str]] = {}
    for record_id, role, key, at in rows:
        if at is not None:
            stamps[record_id] = at
        if found is None or (record_id, role) in found:
            people.setdefault((record_id, role), set()).update(key.split(" "))
    if found is not None:
        for person, known in people.items():
            known.update(found[person])
    return people


def bounds(query: NameQuery, people: dict[Person, set[str]]) -> dict[str, float]:
    """Return, per record, the best score its people found by a name can get (see
    `names.score_bound`): ranking then reads the names of the best candidates only."""
    query_terms = query.terms
    best: dict[str, float] = {}
    for (record_id, _), known in people.items():
        bound = score_bound(query_terms, known)
        if bound > best.get(record_id, -1.0):
            best[record_id] = bound
    return best


def score_people(session: Session, record_ids: Sequence[str],
                 names: Sequence[tuple[NameQuery, dict[Person, set[str]]]],
                 ) -> dict[str, float]:
    """Score records by the people each name found in them (`rank`, restricted to them)."""
    roles = sorted({role for _, people in names for _, role in people})
    named: dict[str, dict[str, tuple[str, ...]]] = {}
    for record_id, role, given, family in repository.names_of(session, record_ids, roles):
        named.setdefault(record_id, {})[role] = _person_terms(given, family)
    scores = {}
    for rid in record_ids:
        total = 0.0
        for name, people in names:
            query_terms = name.terms
            total += max((query_similarity(query_terms, person_terms)
                          for role, person_terms in named.get(rid, {}).items()
                          if (rid, role) in people), default=0.0)
        scores[rid] = round(total / len(names), 4)
    return scores


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


@functools.lru_cache(maxsize=1 << 16)
def _person_terms(given: str | None, family: str | None) -> tuple[str, ...]:
    return (*terms(given), *terms(family))


def rank(session: Session, record_ids: Sequence[str], names: Sequence[NameQuery],
         ) -> dict[str, float]:
    """Score how well each record's people match the names asked for (1 = every name exact)."""
    if not names:
        return dict.fromkeys(record_ids, 1.0)
    roles = sorted({r for name in names for r in name.roles})
    people: dict[str, dict[str, tuple[str, ...]]] = {}
    for record_id, role, given, family in repository.names_of(session, record_ids, roles):
        people.setdefault(record_id, {})[role] = _person_terms(given, family)
    scores = {}
    for rid in record_ids:
        named = people.get(rid, {})
        total = 0.0
        for name in names:
            query_terms = name.terms
            total += max((query_similarity(query_terms, named[r]) for r in name.roles
                          if r in named), default=0.0)
        scores[rid] = round(total / len(names), 4)
    return scores


def postings_of(session: Session, records: Subquery, wanted: Sequence[tuple[str, set[str]]],
                limit: int) -> list[tuple[str, str, str]]:
    """Return (record id, role, term) of the postings of some records under wanted terms."""
    return repository.postings_of(session, records, wanted, limit)


def people_of(session: Session, records: Subquery, roles: Sequence[str]) -> list[Any]:
    """Return the indexed people (of these roles) of some records, with the records' columns."""
    return repository.people_of(session, records, roles)
