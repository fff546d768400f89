"""`db.one_of`: a list of values as an `IN` list when short, as one array on PostgreSQL when
long, with the same answer either way (real databases)."""

from __future__ import annotations

from sqlalchemy import func, select

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


def test_an_array_parameter_keeps_every_value_as_it_is(ctx: AppContext) -> None:
    # `db.text_array` writes the array literal itself: every character that means something
    # in one (quotes, backslashes, commas, braces, spaces, the word NULL) comes back unchanged.
    if ctx.db.engine.dialect.name != "postgresql":
        return  # arrays are PostgreSQL's; SQLite is given IN lists
    values = ['plain', 'two words', 'a,b', '{braced}', 'say "hi"', 'back\\slash', '\\"',
              'NULL', 'null', '', ' padded ', 'Ngozi Adébáyọ̀', '=12345', "it's"]
    with ctx.db.transaction() as session:
        unnested = select(func.unnest(db.text_array(values)))
        assert list(session.scalars(unnested)) == values
        assert session.scalar(select(func.cardinality(db.text_array([])))) == 0
        plain = [f"key {n}" for n in range(2 * db.ARRAY_FROM)]
        assert list(session.scalars(select(func.unnest(db.text_array(plain))))) == plain
