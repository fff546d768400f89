"""fhirread: former versions of each record's bundle (FHIR vread and _history), and the index
of a hospital's records by last change

Revision ID: 0020fhirread
Revises: 0020certificates
Create Date: 2026-11-30 13:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import crvshub.db

revision: str = "0020fhirread"
down_revision: str | Sequence[str] | None = "0020certificates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "record_versions",
        sa.Column("record_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("bundle", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                  nullable=False),
        sa.Column("updated_at", crvshub.db.UTCDateTime(), nullable=False),
        sa.Column("replaced_at", crvshub.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["records.id"],
                                name="fk_record_versions_record_id_records",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("record_id", "version", name="pk_record_versions"),
    )
    op.create_index("ix_records_source_client_updated", "records",
                    ["source_client_id", "updated_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_records_source_client_updated", table_name="records")
    op.drop_table("record_versions")
