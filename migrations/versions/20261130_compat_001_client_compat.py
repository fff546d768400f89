"""client compat mode: per-client choice of OpenCRVS-strict status codes

Revision ID: 0014clientcompat
Revises: 0011searchquota
Create Date: 2026-11-30 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014clientcompat"
down_revision: str | Sequence[str] | None = "0011searchquota"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("clients") as batch:
        batch.add_column(
            sa.Column("compat_mode", sa.String(16), nullable=False, server_default="crvshub")
        )


def downgrade() -> None:
    with op.batch_alter_table("clients") as batch:
        batch.drop_column("compat_mode")
