"""A name alone is ranked from its postings: every record found is ranked, names are read only
for the records that can still enter the page, and the filters and totals stay the same as the
ranking of the newest candidates it replaces. Real databases (SQLite and PostgreSQL).
"""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient

from crvshub.context import AppContext
from crvshub.record import search as record_search
from crvshub.record.search import DateRange, Order, PersonCriteria, RecordQuery, Scope, find
from crvshub.search import repository as search_repository
from crvshub.search.service import VocabularyCache
from tests.notification.helpers import HQ_OFFICE_ID, OFFICE_ID
from tests.record.test_search_scale import _notify

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
