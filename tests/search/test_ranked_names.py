"""A name alone is ranked from its postings: every record found is ranked, names are read only
for the records that can still enter the page, and the filters and totals stay the same as the
ranking of the newest candidates it replaces. Real databases (SQLite and PostgreSQL).
"""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient

from crvshub import db as db_module
from crvshub.context import AppContext
from crvshub.record import search as record_search
from crvshub.record.search import DateRange, Order, PersonCriteria, RecordQuery, Scope, find
from crvshub.search import repository as search_repository
from crvshub.search.service import VocabularyCache
from tests.notification.helpers import HQ_OFFICE_ID, OFFICE_ID
from tests.record.test_search_scale import _ids, _notify

PEOPLE = [("Mary", "Phiri", "Esther"), ("Mary Chisomo", "Phiri", "Ruth"),
          ("Mery", "Phiri", "Grace"), ("Mary", "Phiri", "Lydia"), ("Marie", "Phiry", "Agnes"),
          ("Mary Grace Ann", "Phiri", "Joyce"), ("John", "Banda", "Mary"),
          ("Mary", "Phiri", "Tiwonge")]
QUESTIONS = [RecordQuery(any_name="Mary Phiri"), RecordQuery(any_name="Mery Phiry"),
             RecordQuery(any_name="Phiri"), RecordQuery(any_name="Mary"),
             RecordQuery(people=(PersonCriteria("child", name="Mary Phiri"),
                                 PersonCriteria("mother", name="Ruth"))),
             RecordQuery(any_name="Mary Phiri", events=("birth",),
                         statuses=("IN_PROGRESS", "DECLARED", "REGISTERED"))]


def _pages(ctx: AppContext, query: RecordQuery, scope: Scope = Scope(),
           ) -> tuple[int, list[str], list[float]]:
    """Ask one record a page, page after page: (total, ids in order, scores)."""
    ids: list[str] = []
    scores: list[float] = []
    total = -1
    for skip in range(len(PEOPLE) + 1):
        with ctx.db.transaction() as session:
            page = find(session, VocabularyCache(), query, scope, Order(), count=1, skip=skip)
        total = page.total if skip == 0 else total
        ids += [r.id for r in page.records]
        scores += [page.scores[r.id] for r in page.records]
    return total, ids, scores


def _as_full_ranking(ctx: AppContext, monkeypatch: pytest.MonkeyPatch,
                     questions: list[RecordQuery]) -> dict[str, tuple[int, list[str], list[float]]]:
    """Ask every question page by page with the best matches paged first, assert the same
    answers as the full ranking gives, and return them."""
    fast = {str(q): _pages(ctx, q) for q in questions}
    monkeypatch.setattr(record_search, "EXACT_FIRST", False)
    assert {str(q): _pages(ctx, q) for q in questions} == fast
    monkeypatch.setattr(record_search, "EXACT_FIRST", True)
    return fast


def _names_ranked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Return the list the names ranked from their postings will be added to, from now on."""
    from crvshub.search import service as search_service

    ranked: list[str] = []
    named_people = search_service.named_people

    def spy(session, cache, query, limit, declared=None):  # type: ignore[no-untyped-def]
        ranked.append(query.text)
        return named_people(session, cache, query, limit, declared)

    monkeypatch.setattr(search_service, "named_people", spy)
    return ranked


def test_ranking_from_the_postings_is_the_ranking_of_every_candidate(
        client: TestClient, ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    _notify(client, ctx, PEOPLE)
    monkeypatch.setattr(record_search, "RANK_BATCH", 1)  # names read two at a time
    from_postings = {str(q): _pages(ctx, q) for q in QUESTIONS}
    monkeypatch.setattr(record_search, "NAMED_POSTINGS", 0)  # every name: the candidate window
    assert {str(q): _pages(ctx, q) for q in QUESTIONS} == from_postings
    total, ids, scores = from_postings[str(QUESTIONS[0])]
    assert total == len(ids) == 7 and scores == sorted(scores, reverse=True)
    assert scores[:3] == [1.0, 1.0, 1.0], "the three exact Mary Phiri first"


def test_names_are_read_only_for_records_that_can_enter_the_page(
        client: TestClient, ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = _notify(client, ctx, PEOPLE)
    monkeypatch.setattr(record_search, "RANK_BATCH", 1)
    read: list[str] = []
    names_of = search_repository.names_of

    def spy(session, record_ids, roles):  # type: ignore[no-untyped-def]
        read.extend(record_ids)
        return names_of(session, record_ids, roles)

    monkeypatch.setattr(search_repository, "names_of", spy)
    with ctx.db.transaction() as session:
        page = find(session, VocabularyCache(), RecordQuery(any_name="Mary Phiri"), Scope(),
                    Order(), count=1, skip=0)
    assert [r.id for r in page.records] == [ids[-1]], "the newest exact Mary Phiri"
    assert page.total == 7
    assert len(read) == 2, "two exact matches read settle the first place: not all seven"


def test_scope_and_filters_apply_to_names_ranked_from_the_postings(
        client: TestClient, ctx: AppContext) -> None:
    ids = _notify(client, ctx, PEOPLE)
    mary = RecordQuery(any_name="Mary Phiri")
    assert _pages(ctx, mary, Scope(office_ids=frozenset({OFFICE_ID})))[0] == 7
    assert _pages(ctx, mary, Scope(office_ids=frozenset({HQ_OFFICE_ID}))) == (0, [], [])
    assert _pages(ctx, mary, Scope(statuses=frozenset({"REGISTERED"}))) == (0, [], [])
    assert _pages(ctx, RecordQuery(any_name="Mary Phiri", events=("death",))) == (0, [], [])
    dated = RecordQuery(any_name="Mary Phiri",
                        event_date=DateRange(date(2026, 2, 1), date(2026, 2, 2)))
    assert _pages(ctx, dated)[1] == [ids[0], ids[1]], "born on 1 and 2 February"
    assert _pages(ctx, RecordQuery(any_name="Ruth Mary"))[1] == []


def test_words_looked_up_one_by_one_are_joined_per_person_as_pairs_are(
        client: TestClient, ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two words looked up one by one (as two words with very many variants are) are joined
    person by person in the database (PostgreSQL; SQLite intersects their postings here),
    and rank the same records as their pair keys."""
    from crvshub.search import service as search_service

    _notify(client, ctx, PEOPLE)
    query = RecordQuery(any_name="Mary Phiri")
    monkeypatch.setattr(record_search, "EXACT_FIRST", False)  # every name ranked
    by_pairs = _pages(ctx, query)
    monkeypatch.setattr(search_service, "MAX_PAIR_KEYS", 0)  # "mary" and "phiri" apart
    cache = VocabularyCache()
    with ctx.db.transaction() as session:
        key_sets = search_service.name_keys(session, cache, search_service.NameQuery("Mary Phiri"))
    assert len(key_sets) == 2 and all(" " not in key for keys in key_sets for key in keys)
    joined: list[int] = []
    people_under_all = search_repository.people_under_all

    def spy(session, roles, sets, limit):  # type: ignore[no-untyped-def]
        found = people_under_all(session, roles, sets, limit)
        joined.append(len(found or []))
        return found

    monkeypatch.setattr(search_repository, "people_under_all", spy)
    assert _pages(ctx, query) == by_pairs
    if ctx.db.engine.dialect.name == "postgresql":
        assert joined and all(joined), "the people found by both words, from the database"
    else:
        assert not joined, "SQLite joins row by row: the words' postings intersected here"
        # A word with more postings than `NAMED_POSTINGS` is read last, for the people the
        # other found only: the same ranking.
        with ctx.db.transaction() as session:
            sizes = sorted(len(search_repository.postings(session, search_service.ROLES,
                                                          keys, 10**6) or [])
                           for keys in key_sets)
        assert sizes[0] < sizes[1], sizes
        monkeypatch.setattr(record_search, "NAMED_POSTINGS", sizes[0])
        restricted: list[int] = []
        postings = search_repository.postings

        def spy_postings(session, roles, options, limit,  # type: ignore[no-untyped-def]
                         record_ids=None):
            if record_ids is not None:
                restricted.append(len(record_ids))
            return postings(session, roles, options, limit, record_ids)

        monkeypatch.setattr(search_repository, "postings", spy_postings)
        assert _pages(ctx, query) == by_pairs
        assert restricted and max(restricted) < sizes[1], "the larger word read for the few"
    # Long key lists travel as arrays on PostgreSQL (`db.one_of`): the same people.
    monkeypatch.setattr(db_module, "ARRAY_FROM", 0)
    assert _pages(ctx, query) == by_pairs
    monkeypatch.setattr(search_service, "MAX_PAIR_KEYS", 16_384)
    three = _pages(ctx, RecordQuery(any_name="Mary Chisomo Phiri"))  # two pair key sets
    assert three[0] >= 1 and three == _pages(ctx, RecordQuery(any_name="Phiri Mary Chisomo"))
    with ctx.db.transaction() as session:  # three sets: each joined to the one read first
        people = search_repository.people_under_all(
            session, search_service.ROLES,
            [{"chisomo mary", "chisomo marie"}, {"chisomo phiri"}, {"mary phiri"}], 100)
    assert people and {tuple(sorted(keys)) for _, _, keys, _ in people} == {
        ("chisomo mary", "chisomo phiri", "mary phiri")}


def test_key_sets_are_joined_by_hash_or_person_by_person_with_the_same_people(
        client: TestClient, ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    """The join plan drives from the key set with the fewest postings; another set counted
    whole is matched by hash, one with more postings than the last round's limit is probed
    person by person. Either way the same people, pages and totals."""
    _notify(client, ctx, PEOPLE)
    roles = search_repository.ROLES
    sets = [{"mary phiri", "mery phiri", "marie phiry"}, {"chisomo mary"}]
    with ctx.db.transaction() as session:
        assert search_repository.join_plan(session, roles, sets) == (1, (0,))
        monkeypatch.setattr(search_repository, "PROBE_ROUNDS", (1, 2))
        assert search_repository.join_plan(session, roles, sets) == (1, ())
    questions = [RecordQuery(any_name=name) for name in (
        "Mary Chisomo Phiri", "Mery Chisomo Phiry", "Mary Grace Ann Phiri", "Mary Grace Phiri")]
    questions.append(RecordQuery(any_name="Mary Chisomo Phiri", events=("birth",)))
    probed = {str(q): _pages(ctx, q) for q in questions}
    monkeypatch.setattr(search_repository, "PROBE_ROUNDS", (256, 4_096, 50_000))
    assert {str(q): _pages(ctx, q) for q in questions} == probed
    assert probed[str(questions[0])][0] == 1 and probed[str(questions[2])][0] == 1
    assert probed[str(questions[1])][0] == 1, "a misspelt three-word name, the same person"
    with ctx.db.transaction() as session:  # the ranking path's join, both ways
        hashed_people = search_repository.people_under_all(session, roles, sets, 100)
        monkeypatch.setattr(search_repository, "PROBE_ROUNDS", (1, 2))
        probed_people = search_repository.people_under_all(session, roles, sets, 100)
    assert hashed_people and sorted(hashed_people) == sorted(probed_people or [])


def test_a_one_word_name_pages_its_exact_holders_first_as_ranking_would(
        client: TestClient, ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    """A one-word name whose exact holders fill the page reads them newest first from the
    index (no names ranked); the pages and totals are those of the full ranking."""
    _notify(client, ctx, PEOPLE)
    one_word = [RecordQuery(any_name="Phiri"), RecordQuery(any_name="Mary"),
                RecordQuery(any_name="Phiri", events=("birth",)),
                RecordQuery(people=(PersonCriteria("mother", name="Ruth"),))]
    fast = _as_full_ranking(ctx, monkeypatch, one_word)
    ranked = _names_ranked(monkeypatch)
    with ctx.db.transaction() as session:
        page = find(session, VocabularyCache(), RecordQuery(any_name="Phiri"), Scope(), Order(),
                    count=2, skip=0)
    assert ranked == [], "the exact holders filled the page: nothing ranked"
    assert page.total == 7 and len(page.records) == 2
    assert fast[str(one_word[0])][0] == 7


def test_exact_holders_are_checked_against_selective_criteria_newest_first_then_all(
        client: TestClient, ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    """Several names: their newest exact holders are checked against the other criteria a
    few at a time, then all the others at once; with more postings than are ordered from the
    index, the records are walked newest first instead. One name: the records that meet the
    criteria and that it finds are listed once, then scored outright or paged tier by tier
    against the list. Every way gives the full ranking's pages."""
    ids = _notify(client, ctx, PEOPLE)
    february = DateRange(date(2026, 2, 1), date(2026, 2, 2))  # the two oldest Phiri only
    questions = [RecordQuery(any_name="Phiri", people=(PersonCriteria("child", name="Phiri"),),
                             event_date=february),
                 RecordQuery(any_name="Phiri", event_date=february),
                 RecordQuery(any_name="Mary Phiri", event_date=february),
                 RecordQuery(any_name="Mery Phiry", event_date=february),
                 RecordQuery(any_name="Phiri", events=("birth",))]
    monkeypatch.setattr(record_search, "CHECK_FIRST", 1)  # 4 newest first, then the rest
    checked: list[int] = []
    created_of = record_search.repository.created_of

    def spy(session, record_ids, conditions):  # type: ignore[no-untyped-def]
        checked.append(len(record_ids))
        return created_of(session, record_ids, conditions)

    monkeypatch.setattr(record_search.repository, "created_of", spy)
    pages = _as_full_ranking(ctx, monkeypatch, questions)
    assert pages[str(questions[0])][1] == [ids[1], ids[0]], "born on 2 and 1 February"
    assert pages[str(questions[1])][1] == [ids[1], ids[0]]
    assert checked[:2] == [4, 2], "the four newest Phiri, then the two others at once"
    checked.clear()
    for question in questions[1:]:
        _pages(ctx, question)
    assert checked == [], "one name: listed with the criteria, never checked by id"
    monkeypatch.setattr(record_search, "SCORE_ALL", 0)  # paged tier by tier against the list
    assert _as_full_ranking(ctx, monkeypatch, questions) == pages
    monkeypatch.setattr(record_search, "COUNT_CAP", 1)  # too many to list: checked by id
    capped = _as_full_ranking(ctx, monkeypatch, questions)
    assert checked, "the tiers' records checked against the criteria by id"
    assert [ranked for _, ranked, _ in capped.values()] == [
        ranked for _, ranked, _ in pages.values()]
    monkeypatch.setattr(record_search, "COUNT_CAP", 10_000)
    monkeypatch.setattr(record_search, "HOLDERS_FIRST", 0)  # every name: the records walked
    assert _as_full_ranking(ctx, monkeypatch, questions) == pages


def test_a_full_name_pages_the_people_who_have_it_exactly_first_as_ranking_would(
        client: TestClient, ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    """A name of several words whose exact holders (no extra word) fill the page reads the
    newest of them, scores their names and stops: no variant's postings are read, and every
    page and total is the one the full ranking gives."""

    _notify(client, ctx, PEOPLE)
    full_names = [RecordQuery(any_name="Mary Phiri"), RecordQuery(any_name="Phiri Mary"),
                  RecordQuery(any_name="Mary Phiri", events=("birth",)),
                  RecordQuery(any_name="Mary Grace Ann Phiri"),
                  RecordQuery(people=(PersonCriteria("child", name="Mary Phiri"),
                                      PersonCriteria("mother", name="Lydia Phiri")))]
    scoped = [(q, scope) for q in (full_names[0], RecordQuery(any_name="Phiri"))
              for scope in (Scope(office_ids=frozenset({OFFICE_ID})),
                            Scope(office_ids=frozenset({HQ_OFFICE_ID})),
                            Scope(statuses=frozenset({"REGISTERED"})))]
    scoped.append((RecordQuery(any_name="Mary Phiri", office_ids=(OFFICE_ID,)), Scope()))
    fast = {str(q): _pages(ctx, q) for q in full_names}
    fast |= {str((q, scope)): _pages(ctx, q, scope) for q, scope in scoped}
    monkeypatch.setattr(record_search, "EXACT_FIRST", False)
    slow = {str(q): _pages(ctx, q) for q in full_names}
    slow |= {str((q, scope)): _pages(ctx, q, scope) for q, scope in scoped}
    assert fast == slow
    assert fast[str(scoped[3])][0] == 7, "Phiri within the office: every Phiri"
    assert fast[str(scoped[1])] == fast[str(scoped[4])] == (0, [], []), \
        "another office's staff find none of them"
    assert fast[str(full_names[0])][0] == 7
    monkeypatch.setattr(record_search, "EXACT_FIRST", True)
    ranked = _names_ranked(monkeypatch)
    with ctx.db.transaction() as session:
        page = find(session, VocabularyCache(), RecordQuery(any_name="Mery Phiri"), Scope(),
                    Order(), count=1, skip=0)
        assert page.total == 7 and page.scores[page.records[0].id] == 1.0
        assert ranked == [], "the one exact Mery Phiri fills a page of one: nothing ranked"
        page = find(session, VocabularyCache(), RecordQuery(any_name="Mary Phiri"), Scope(),
                    Order(), count=4, skip=0)
        assert page.total == 7 and ranked == [], \
            "three exact Mary Phiri do not fill a page of four: the next tier is read"
        assert [page.scores[r.id] for r in page.records] == [1.0, 1.0, 1.0, 0.97]


def test_a_name_of_more_words_than_are_paired_is_always_ranked(
        client: TestClient, ctx: AppContext) -> None:
    """Pairs are posted for a person's first eight words only: a longer name cannot be found
    by its exact pairs, so it is ranked whole (and still found)."""
    long_name = "Ana Bela Carla Dora Ema Fia Gina Hana Ida"
    ids = _notify(client, ctx, [(long_name, "Phiri", "Ruth")])
    from crvshub.search.service import NameQuery, exactly_findable

    assert not exactly_findable(NameQuery(f"{long_name} Phiri"))
    assert exactly_findable(NameQuery("Ana Bela Carla Dora Ema Fia Gina Phiri"))
    assert _ids(ctx, RecordQuery(any_name=f"{long_name} Phiri")) == ids


def test_a_misspelt_name_pages_its_nearest_variants_first_as_ranking_would(
        client: TestClient, ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nobody has a misspelt name as typed: its nearest variants are the best there are, paged
    newest first like exact holders (nothing ranked), and every page and total is the one the
    full ranking gives."""
    ids = _notify(client, ctx, PEOPLE)
    typos = [RecordQuery(any_name="Mari Phiri"), RecordQuery(any_name="Marry Phiri"),
             RecordQuery(any_name="Phyri"), RecordQuery(any_name="Mary Phirri"),
             RecordQuery(any_name="Mari Phiri", events=("birth",))]
    fast = _as_full_ranking(ctx, monkeypatch, typos)
    ranked = _names_ranked(monkeypatch)
    with ctx.db.transaction() as session:
        page = find(session, VocabularyCache(), RecordQuery(any_name="Mary Phirri"), Scope(),
                    Order(), count=2, skip=0)
    assert ranked == [], "the nearest variant's holders filled the page: nothing ranked"
    assert [r.id for r in page.records] == [ids[7], ids[3]], "the newest two Mary Phiri"
    assert page.total == fast[str(typos[3])][0] == 7
    assert page.scores[ids[7]] == page.scores[ids[3]] < 1.0


def test_names_of_up_to_four_words_are_paged_tier_by_tier_as_ranking_would(
        client: TestClient, ctx: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    """Misspelt names of two to four words, looked up by pairs or word by word, with and
    without other criteria, are paged from their best tiers (nothing ranked in full), page
    after page as the full ranking gives them; a name asking for a word twice is still
    ranked in full."""
    from crvshub.search import service as search_service

    ids = _notify(client, ctx, PEOPLE)
    february = DateRange(date(2026, 2, 1), date(2026, 2, 2))
    names = [RecordQuery(any_name="Mary Chisomo Phiri"), RecordQuery(any_name="Mery Chisimo Phiri"),
             RecordQuery(any_name="Mary Grace Phiry"), RecordQuery(any_name="Marie Phiri"),
             RecordQuery(any_name="Mary Phiri", event_date=february),
             RecordQuery(any_name="Mery Phiry", events=("birth",)),
             RecordQuery(any_name="Mary Grace Ann Phiri"), RecordQuery(any_name="Mery Grace An Phiri"),
             # Words that are variants of each other: one term may stand for both.
             RecordQuery(any_name="Mary Marie"), RecordQuery(any_name="Phiri Phiry Mery")]
    by_pairs = _as_full_ranking(ctx, monkeypatch, names)
    assert by_pairs[str(names[1])][1][0] == ids[1], "Mary Chisomo Phiri, nearest to the typo"
    assert by_pairs[str(names[4])][1] == [ids[0], ids[1]], "born on 1 and 2 February"
    ranked = _names_ranked(monkeypatch)
    for question in names:
        _pages(ctx, question)
    assert ranked == [], "every page from the tiers"
    monkeypatch.setattr(search_service, "MAX_PAIR_KEYS", 0)  # every word looked up alone
    assert _as_full_ranking(ctx, monkeypatch, names) == by_pairs
    ranked.clear()
    _pages(ctx, RecordQuery(any_name="Mary Mary Phiri"))
    assert ranked, "a word asked twice: ranked in full"
    ranked.clear()
    _pages(ctx, RecordQuery(any_name="Mery Grace An Chisomo Phiri"))
    assert ranked, "five words: ranked in full"


def test_the_newest_holders_of_a_name_come_from_an_index_alone(
        client: TestClient, ctx: AppContext) -> None:
    """A name's newest holders are ordered by the declaration time their postings carry, read
    from an index alone: PostgreSQL's primary key includes it, SQLite has an index of its own
    (migration 0030termsdeclared) once its statistics say what the primary key's say."""
    from sqlalchemy import text

    from crvshub.search import service as search_service

    _notify(client, ctx, PEOPLE)
    query = search_service.NameQuery("Mary Phiri")
    with ctx.db.transaction() as session:
        holders = search_service.exact_holders(session, query)
        found = search_service.newest_found(session, [holders], 10_000, 3)
        assert found is not None and len(found) == 3
        assert [at for _, at in found] == sorted((at for _, at in found), reverse=True)
        if ctx.db.engine.dialect.name != "sqlite":
            return
        session.execute(text("ANALYZE"))  # statistics, as `crvshub generate` leaves them
        statement = search_repository.newest_found_statement([holders], 10_000, 3, 0)
        compiled = statement.compile(session.get_bind(),
                                     compile_kwargs={"literal_binds": True})
        plan = " ".join(str(row[3]) for row in session.connection().exec_driver_sql(
            f"EXPLAIN QUERY PLAN {compiled}"))
    assert "COVERING INDEX ix_search_terms_term_declared" in plan, plan
