"""auth: at most one active NATIONAL_ID client

Revision ID: 20261122auth001
Revises: 0001foundation
Create Date: 2026-11-22 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261122auth001"
down_revision: str | Sequence[str] | None = "0001foundation"
branch_labels: str | Sequence[str] | None = ("auth",)
depends_on: str | Sequence[str] | None = None

_WHERE = "type = 'NATIONAL_ID' AND status = 'active'"


def upgrade() -> None:
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.create_index(
            "uq_clients_one_active_national_id",
            ["type"],
            unique=True,
            sqlite_where=sa.text(_WHERE),
            postgresql_where=sa.text(_WHERE),
        )


def downgrade() -> None:
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_index("uq_clients_one_active_national_id")
