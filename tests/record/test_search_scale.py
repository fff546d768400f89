"""What keeps name searches fast at a million records: one person's pair keys, capped totals,
a deterministic ranking. Real database (SQLite and PostgreSQL), records created by notification.
"""

from __future__ import annotations

from typing import Any

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from fastapi.testclient import TestClient
from sqlalchemy import and_, delete, select

from crvshub.context import AppContext
from crvshub.record import search as record_search
from crvshub.record.search import Order, PersonCriteria, RecordQuery, Scope, find
from crvshub.search import service as search_service
from crvshub.search.indexing import ROLES
from crvshub.search.models import SearchTerm
from crvshub.search.service import VocabularyCache
from tests.notification.helpers import health_token, post
from tests.record.test_search import _birth


def _notify(client: TestClient, ctx: AppContext, people: list[tuple[str, str, str]],
            ) -> list[str]:
    """Notify births of (child given, child family, mother given); return their ids in order."""
    token = health_token(ctx)
    ids = []
    for n, (given, family, mother) in enumerate(people):
        answer = post(client, token, _birth(([given], family), ([mother], family),
                                            f"2026-02-{n + 1:02d}", f"90000000{n:02d}"))
        assert answer.status_code == 200, answer.text
        ids.append(answer.json()["entry"][0]["resource"]["id"])
    return ids


def _page(ctx: AppContext, query: RecordQuery, count: int = 10) -> record_search.Page:
    with ctx.db.transaction() as session:
        return find(session, VocabularyCache(), query, Scope(), Order(), count=count, skip=0)


def _ids(ctx: AppContext, query: RecordQuery) -> list[str]:
    return [r.id for r in _page(ctx, query).records]


def test_a_name_must_be_one_persons_name(client: TestClient, ctx: AppContext) -> None:
    ids = _notify(client, ctx, [("John", "Banda", "Grace")])
    assert _ids(ctx, RecordQuery(any_name="Grace Banda")) == ids, "the mother's full name"
    assert _ids(ctx, RecordQuery(any_name="Grayce Bnda")) == ids, "with typos"
    assert _ids(ctx, RecordQuery(any_name="Grace John")) == [], \
        "the mother's given name and the child's are not one person's name"
    mother = RecordQuery(people=(PersonCriteria("mother", name="Jon Banda"),))
    assert _ids(ctx, mother) == [], "the child's name is not the mother's"


def test_pair_lookup_and_term_by_term_lookup_agree(client: TestClient, ctx: AppContext,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    ids = _notify(client, ctx, [("Mary", "Phiri", "Esther"), ("Mohammed", "Ali", "Fatima"),
                                ("Marie", "Phiri", "Ruth")])
    questions = ["Mary Phiri", "Phiri Mary", "Muhammad Aly", "Mari Phiry", "Esther Phiri",
                 "Ruth Mary"]
    by_pairs = {q: sorted(_ids(ctx, RecordQuery(any_name=q))) for q in questions}
    assert by_pairs["Mary Phiri"] == sorted([ids[0], ids[2]])
    assert by_pairs["Muhammad Aly"] == [ids[1]]
    assert by_pairs["Ruth Mary"] == []
    monkeypatch.setattr(search_service, "MAX_PAIR_KEYS", 0)  # every term looked up alone
    assert {q: sorted(_ids(ctx, RecordQuery(any_name=q))) for q in questions} == by_pairs


def test_totals_are_counted_up_to_the_cap(client: TestClient, ctx: AppContext,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    _notify(client, ctx, [("Mary", "Phiri", "Esther")] * 4 + [("John", "Banda", "Grace")])
    monkeypatch.setattr(record_search, "COUNT_CAP", 3)
    monkeypatch.setattr(record_search, "RANK_WINDOW", 2)
    capped = _page(ctx, RecordQuery(any_name="Mary Phiri"), count=2)
    assert capped.total == 3, "four match: the total stops at the cap"
    assert len(capped.records) == 2
    assert _page(ctx, RecordQuery(any_name="John Banda")).total == 1, "exact below the cap"
    assert _page(ctx, RecordQuery(events=("birth",)), count=2).total == 3
    every = _page(ctx, RecordQuery(events=("birth",)), count=10)
    assert every.total == 5 and len(every.records) == 5, "a page not full says how many"


def test_ranking_is_best_match_then_newest(client: TestClient, ctx: AppContext) -> None:
    older, middle, typo, newer = _notify(client, ctx, [
        ("Mary", "Phiri", "Esther"), ("Mary Chisomo", "Phiri", "Ruth"),
        ("Mery", "Phiri", "Ruth"), ("Mary", "Phiri", "Grace")])
    page = _page(ctx, RecordQuery(people=(PersonCriteria("child", name="Mary Phiri"),)))
    assert [r.id for r in page.records] == [newer, older, middle, typo]
    assert page.scores[newer] == page.scores[older] == 1.0
    assert page.scores[older] > page.scores[middle] > page.scores[typo] > 0


def test_the_migration_posts_the_pairs_the_indexer_posts(client: TestClient,
                                                         ctx: AppContext) -> None:
    _notify(client, ctx, [("Van An", "Nguyen", "Thi Lan"), ("Mary Chisomo", "Phiri", "Ruth")])
    pairs = and_(SearchTerm.term.like("% %"), SearchTerm.term.not_like("=%"),
                 SearchTerm.role.in_(ROLES))
    with ctx.db.transaction() as session:
        written = set(session.execute(select(SearchTerm.term, SearchTerm.role,
                                             SearchTerm.record_id).where(pairs)))
        assert ("an nguyen", "child") in {(t, r) for t, r, _ in written}
        session.execute(delete(SearchTerm).where(pairs))
    migration = _migration()
    with ctx.db.transaction() as session:
        with Operations.context(MigrationContext.configure(session.connection())):
            migration.upgrade()
        backfilled = set(session.execute(select(SearchTerm.term, SearchTerm.role,
                                                SearchTerm.record_id).where(pairs)))
    assert backfilled == written


def _migration() -> Any:
    import importlib.util
    from pathlib import Path

    path = (Path(__file__).resolve().parents[2] / "migrations" / "versions"
            / "20261130_search1m_001_pair_keys.py")
    spec = importlib.util.spec_from_file_location("pair_keys_migration", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
