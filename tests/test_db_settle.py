"""After a bulk load the planner has statistics of the tables (both databases)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text

from crvshub.context import AppContext
from tests.record.test_search_scale import _notify


def test_settling_tables_leaves_the_planner_their_statistics(
        client: TestClient, ctx: AppContext) -> None:
    _notify(client, ctx, [("Mary", "Phiri", "Esther"), ("John", "Banda", "Ruth")])
    ctx.db.settle(["records", "search_terms"])
    with ctx.db.engine.connect() as conn:
        if ctx.db.engine.dialect.name == "sqlite":
            analysed = set(conn.execute(text("SELECT tbl FROM sqlite_stat1")).scalars())
        else:
            analysed = set(conn.execute(text(
                "SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL "
                "AND last_vacuum IS NOT NULL")).scalars())
    assert {"records", "search_terms"} <= analysed
