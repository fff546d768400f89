"""dedup: potential duplicates of each record, with their explanations and resolution

Revision ID: 0012dedup
Revises: 0014clientcompat
Create Date: 2026-11-30 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import crvshub.db

revision: str = "0012dedup"
down_revision: str | Sequence[str] | None = "0014clientcompat"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "record_duplicates",
        sa.Column("record_id", sa.String(64), nullable=False),
        sa.Column("candidate_id", sa.String(64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("matches", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                  nullable=False),
        sa.Column("found_at", crvshub.db.UTCDateTime(), nullable=False),
        sa.Column("resolution", sa.String(16), nullable=True),
        sa.ForeignKeyConstraint(["record_id"], ["records.id"],
                                name="fk_record_duplicates_record_id_records",
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["candidate_id"], ["records.id"],
                                name="fk_record_duplicates_candidate_id_records",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("record_id", "candidate_id", name="pk_record_duplicates"),
    )


def downgrade() -> None:
    op.drop_table("record_duplicates")
