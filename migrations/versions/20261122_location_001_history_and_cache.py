"""location history and the cache version counter

Revision ID: 20261122location001
Revises: 0001foundation
Create Date: 2026-11-22 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import crvshub.db

revision: str = "20261122location001"
down_revision: str | Sequence[str] | None = "0001foundation"
branch_labels: str | Sequence[str] | None = ("location",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cache_versions",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", crvshub.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_cache_versions")),
    )
    op.create_table(
        "location_versions",
        sa.Column("location_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("recorded_at", crvshub.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_location_versions_location_id_locations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("location_id", "version", name=op.f("pk_location_versions")),
    )
    with op.batch_alter_table("location_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_location_versions_recorded_at"), ["recorded_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("location_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_location_versions_recorded_at"))
    op.drop_table("location_versions")
    op.drop_table("cache_versions")
