"""The Alembic migrations and the SQLAlchemy models describe the same schema, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine

from crvshub.migrate import pending_heads
from crvshub.models import Base


def test_migrations_match_models(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        dialect = conn.dialect.name

        def on_this_database(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
            # An index the models make on one database only (`info["only_on"]`).
            return obj.info.get("only_on", dialect) == dialect

        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": on_this_database})
        diff = compare_metadata(context, Base.metadata)
        assert pending_heads(conn) == []
    engine.dispose()
    assert diff == [], f"models and migrations disagree: {diff}"


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path) -> None:
    from sqlalchemy import text

    from crvshub.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()
