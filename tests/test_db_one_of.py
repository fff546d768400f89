"""`db.one_of`: a list of values as an `IN` list when short, as one array on PostgreSQL when
long, with the same answer either way (real databases)."""

from __future__ import annotations

from sqlalchemy import select

from crvshub import db
from crvshub.context import AppContext
from crvshub.location.models import Location


def test_short_lists_are_in_lists_and_long_ones_one_array_with_the_same_answer(
        ctx: AppContext) -> None:
    dialect = ctx.db.engine.dialect
    with ctx.db.transaction() as session:
        ids = sorted(session.scalars(select(Location.id)))
        assert len(ids) > 3
        wanted = ids[:3] + [f"missing-{n}" for n in range(db.ARRAY_FROM)]
        short = select(Location.id).where(db.one_of(Location.id, ids[:3], dialect.name))
        long = select(Location.id).where(db.one_of(Location.id, wanted, dialect.name))
        assert "unnest" not in str(short.compile(dialect=dialect)).lower()
        assert ("unnest" in str(long.compile(dialect=dialect)).lower()) == (
            dialect.name == "postgresql"), "an array on PostgreSQL only"
        assert sorted(session.scalars(short)) == sorted(session.scalars(long)) == ids[:3]
