"""search: postings carry their record's declaration time (the newest holders of a name)

Revision ID: 0026declared
Revises: 0025searchbox
Create Date: 2026-12-01 10:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026declared"
down_revision: str | Sequence[str] | None = "0025searchbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A name's page is its newest holders: with the declaration time in the postings (and, on
    # PostgreSQL, in the primary key's leaf entries) they are chosen from the index alone
    # instead of looking a few thousand records up by id.
    op.add_column("search_terms", sa.Column("declared", sa.DateTime(timezone=True), nullable=True))
    if op.get_bind().dialect.name != "postgresql":
        op.execute("UPDATE search_terms SET declared = "
                   "(SELECT created_at FROM records WHERE records.id = search_terms.record_id)")
        return
    # Every posting is rewritten: without its indexes first (a million records have tens of
    # millions of postings), which are then built once each.
    op.drop_constraint("pk_search_terms", "search_terms", type_="primary")
    op.drop_index("ix_search_terms_record_role_term", table_name="search_terms")
    op.execute("UPDATE search_terms SET declared = records.created_at FROM records "
               "WHERE records.id = search_terms.record_id")
    op.execute("ALTER TABLE search_terms ADD CONSTRAINT pk_search_terms "
               "PRIMARY KEY (term, role, record_id) INCLUDE (declared)")
    op.create_index("ix_search_terms_record_role_term", "search_terms",
                    ["record_id", "role", "term"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("pk_search_terms", "search_terms", type_="primary")
        op.create_primary_key("pk_search_terms", "search_terms", ["term", "role", "record_id"])
    with op.batch_alter_table("search_terms") as batch:
        batch.drop_column("declared")
