"""search: post each pair of a person's name terms, so a full name reads only who has both

Revision ID: 0021search1m
Revises: 0020webadmin
Create Date: 2026-11-30 16:45:00

The pair keys ("a b", the two terms sorted, a space between) are what `search.indexing`
now writes for every person; this backfills them from the terms already posted. A person
with more than eight distinct name terms gets the pairs of all of them here (the indexer pairs
the first eight only); `crvshub reindex` makes them equal, and extra pairs only find more.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021search1m"
down_revision: str | Sequence[str] | None = "0020webadmin"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The pairs of the name terms of each person (roles of people; identifiers start with "=").
PAIRS = """
    SELECT substr(a.term || ' ' || b.term, 1, 128), a.role, a.record_id
    FROM search_terms a JOIN search_terms b
      ON b.record_id = a.record_id AND b.role = a.role AND a.term {less} b.term
    WHERE a.role IN ('child', 'deceased', 'mother', 'father', 'informant', 'spouse')
      AND a.term NOT LIKE '=%' AND b.term NOT LIKE '=%'
      AND a.term NOT LIKE '% %' AND b.term NOT LIKE '% %'
"""


def upgrade() -> None:
    # Two pairs may only collide when cut to the column's length: the first one stays.
    if op.get_bind().dialect.name == "postgresql":
        # One hash join over every posting of a million records: keep it in memory.
        op.execute("SET LOCAL work_mem = '256MB'")
        op.execute("INSERT INTO search_terms (term, role, record_id) "
                   + PAIRS.format(less='COLLATE "C" <') + " ON CONFLICT DO NOTHING")
        # Most keys (resource ids, identifiers, pairs) are held by one record: sampled, the
        # planner believed in 34,000 distinct terms at a million records, 200 postings a key,
        # and read the whole table for a name's 2,500 pair keys instead of the index.
        op.execute("ALTER TABLE search_terms ALTER COLUMN term SET (n_distinct = -0.3)")
        op.execute("ALTER TABLE search_terms ALTER COLUMN term SET STATISTICS 1000")
        op.execute("ANALYZE search_terms")
    else:
        op.execute("INSERT OR IGNORE INTO search_terms (term, role, record_id) "
                   + PAIRS.format(less="<"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE search_terms ALTER COLUMN term RESET (n_distinct)")
        op.execute("ALTER TABLE search_terms ALTER COLUMN term SET STATISTICS -1")
    op.execute("DELETE FROM search_terms WHERE term LIKE '% %' AND term NOT LIKE '=%' "
               "AND role IN ('child', 'deceased', 'mother', 'father', 'informant', 'spouse')")
