"""search: postings by (record, role, term), read from the index alone by the duplicate check

Revision ID: 0024dedupfast
Revises: 0024genfast
Create Date: 2026-12-01 02:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0024dedupfast"
down_revision: str | Sequence[str] | None = "0024genfast"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The duplicate check reads the name terms of every record of the same event in a few days
    # (a thousand at a million records) from this index alone; it also serves what the
    # record-id index served (rewriting or deleting a record's postings), so it replaces it.
    op.create_index("ix_search_terms_record_role_term", "search_terms",
                    ["record_id", "role", "term"])
    op.drop_index("ix_search_terms_record_id", table_name="search_terms")


def downgrade() -> None:
    op.create_index("ix_search_terms_record_id", "search_terms", ["record_id"])
    op.drop_index("ix_search_terms_record_role_term", table_name="search_terms")
