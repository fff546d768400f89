"""bulk_load_indexes: indexes dropped for a bulk load into empty tables, until built again

Revision ID: 0024genfast
Revises: 0023searchnames
Create Date: 2026-12-01 02:30:00

`crvshub generate` into an empty PostgreSQL database drops the indexes of the tables it fills
and builds them once at the end (see `crvshub.bulk_load`); their definitions wait here, so
that a process killed in between leaves what the next run needs to build them again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024genfast"
down_revision: str | Sequence[str] | None = "0023searchnames"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bulk_load_indexes",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("table_name", sa.String(length=200), nullable=False),
        sa.Column("index_def", sa.Text(), nullable=False),
        sa.Column("constraint_def", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_bulk_load_indexes")),
    )


def downgrade() -> None:
    op.drop_table("bulk_load_indexes")
