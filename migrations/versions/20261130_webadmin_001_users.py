"""auth: a user may have to set a new password at next sign-in; record actions by actor

Revision ID: 0020webadmin
Revises: 0020stats
Create Date: 2026-11-30 13:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020webadmin"
down_revision: str | Sequence[str] | None = "0020stats"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("must_change_password", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    op.create_index("ix_record_actions_actor_at", "record_actions", ["actor_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_record_actions_actor_at", table_name="record_actions")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("must_change_password")
