"""certificate: registrations issued as SD-JWT verifiable credentials; status changes indexed

Revision ID: 0021certvc
Revises: 0020webadmin
Create Date: 2026-11-30 16:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crvshub.db

revision: str = "0021certvc"
down_revision: str | Sequence[str] | None = "0021search1m"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "certificate_credentials",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("office_id", sa.String(length=64), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("registration_number", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("status_at", crvshub.db.UTCDateTime(), nullable=True),
        sa.Column("issuer_jwt", sa.Text(), nullable=False),
        sa.Column("credential", sa.Text(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("issued_at", crvshub.db.UTCDateTime(), nullable=False),
        sa.Column("issued_by_id", sa.String(length=64), nullable=False),
        sa.Column("issued_by_name", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["records.id"],
                                name=op.f("fk_certificate_credentials_record_id_records")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate_credentials")),
    )
    op.create_index(op.f("ix_certificate_credentials_record_id"), "certificate_credentials",
                    ["record_id"])
    op.create_index(op.f("ix_certificate_credentials_status_at"), "certificate_credentials",
                    ["status_at"])
    op.create_index(op.f("ix_certificates_status_at"), "certificates", ["status_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_certificates_status_at"), table_name="certificates")
    op.drop_index(op.f("ix_certificate_credentials_status_at"),
                  table_name="certificate_credentials")
    op.drop_index(op.f("ix_certificate_credentials_record_id"),
                  table_name="certificate_credentials")
    op.drop_table("certificate_credentials")
