"""search quota: searches made per RECORD_SEARCH client per UTC day

Revision ID: 0011searchquota
Revises: 0004secprocs
Create Date: 2026-11-30 10:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011searchquota"
down_revision: str | Sequence[str] | None = "0004secprocs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "search_quota_uses",
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("client_id", "day", name="pk_search_quota_uses"),
    )


def downgrade() -> None:
    op.drop_table("search_quota_uses")
