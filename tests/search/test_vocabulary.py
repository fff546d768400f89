"""The process's vocabulary cache learns every committed term, even one committed late."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from crvshub.context import AppContext
from crvshub.search import service
from crvshub.search.indexing import term_keys
from crvshub.search.models import SearchVocabulary
from crvshub.search.service import LATE_COMMIT_SECONDS, VocabularyCache, vocabulary_of


def _add(session: Session, term_id: int, term: str) -> None:
    code, bones = term_keys(term)
    session.execute(insert(SearchVocabulary), [
        {"id": term_id, "term": term, "phonetic": code, "skeleton": bones}])
    session.commit()


def _newest_id(session: Session) -> int:
    return int(session.scalar(select(func.max(SearchVocabulary.id))) or 0)


def test_a_term_committed_behind_a_newer_one_is_still_learnt(db: Session) -> None:
    """Ids are given at insert, not at commit: a transaction that commits after a later id's
    leaves its term behind the newest id the cache has seen."""
    base = _newest_id(db)
    cache = VocabularyCache()
    _add(db, base + 5, "zarathustra")
    assert cache.expand(db, "zarathustra") == {"zarathustra"}
    assert "zarathustre" not in cache.expand(db, "zarathustra")
    _add(db, base + 2, "zarathustre")  # committed late, with an earlier id
    assert "zarathustre" in cache.expand(db, "zarathustra")
    _add(db, base + 3, "zarathustri")  # and another, later still
    assert "zarathustri" in cache.expand(db, "zarathustra")


def test_a_gap_is_read_again_for_a_while_only(db: Session,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    base = _newest_id(db)
    cache = VocabularyCache()
    cache.catch_up(db)
    _add(db, base + 3, "qwertyuiop")
    cache.catch_up(db)
    clock = [time.monotonic() + LATE_COMMIT_SECONDS + 1]
    monkeypatch.setattr(service.time, "monotonic", lambda: clock[0])
    _add(db, base + 1, "qwertyuiopb")  # its id was given long ago: rolled back, for all we knew
    assert "qwertyuiopb" not in cache.expand(db, "qwertyuiop")
    _add(db, base + 5, "qwertyuiopa")
    assert "qwertyuiopa" in cache.expand(db, "qwertyuiop")


def test_alike_terms_from_memory_are_the_same_sound_and_consonant_matches(
        db: Session, ctx: AppContext) -> None:
    base = _newest_id(db)
    for n, term in enumerate(("mohammed", "muhammad", "mhmd", "mohamad", "banda", "ai", "oi")):
        _add(db, base + 1 + n, term)
    mohammed, vowels = service.alike_terms(db, [["mohamed"], ["ai"]])
    # Same phonetic code or the same consonants ("mhmd"); a word not known is not returned.
    assert {"mohammed", "muhammad", "mhmd", "mohamad"} <= mohammed
    assert "mohamed" not in mohammed and "banda" not in mohammed
    assert {"ai", "oi"} <= vowels  # no consonants at all: the same (empty) skeleton
    # One cache per database, shared by the app and the creation path.
    assert vocabulary_of(db.connection()) is ctx.vocabulary


def test_a_names_keys_are_remembered_until_a_term_is_learnt(db: Session) -> None:
    base = _newest_id(db)
    cache = VocabularyCache()
    _add(db, base + 1, "zarathustra")
    _add(db, base + 2, "mwale")
    query = service.NameQuery("Zarathustra Mwale")
    first = service.name_keys(db, cache, query)
    assert first == [{"mwale zarathustra"}]
    first[0].add("changed by a caller")  # each caller gets its own copy
    assert service.name_keys(db, cache, query) == [{"mwale zarathustra"}]
    _add(db, base + 3, "zarathustre")
    assert service.name_keys(db, cache, query) == [{"mwale zarathustra", "mwale zarathustre"}]


def test_a_tier_bounds_the_score_of_everyone_found_under_it() -> None:
    """Whatever terms a person holds from one group of variants per word (one term may stand
    for two words when the words are variants of each other), ranking never scores them above
    the bound of their tier: the tiers can be read best first."""
    import itertools

    from crvshub.search import service
    from crvshub.search.names import Vocabulary, query_similarity

    vocabulary = Vocabulary(["mary", "marie", "mery", "maria", "phiri", "phiry", "piri", "ann",
                             "anne", "an", "banda", "bnda", "grace", "grac"])
    for name in (["mary", "phiri"], ["mary", "marie"], ["phiri", "phiry", "mery"],
                 ["ann", "grace", "banda"], ["an", "anne"]):
        groups = [service._alike_groups(name, vocabulary.expand(word)) for word in name]
        for chosen in itertools.product(*groups):
            bound = service._choice_bound(name, chosen)
            for held in itertools.product(*chosen):
                for person in {held, tuple(dict.fromkeys(held)), (*held, "zulu"), (*held, "m", "p")}:
                    assert query_similarity(name, list(person)) <= bound, (name, person, bound)
