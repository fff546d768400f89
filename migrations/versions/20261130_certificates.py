"""certificate: printed certificates, their ES256 signing keys, the public verification log

Revision ID: 0020certificates
Revises: 0012dedup
Create Date: 2026-11-30 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import crvshub.db

revision: str = "0020certificates"
down_revision: str | Sequence[str] | None = "0012dedup"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "certificates",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("office_id", sa.String(length=64), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("registration_number", sa.String(length=64), nullable=False),
        sa.Column("print_number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("status_at", crvshub.db.UTCDateTime(), nullable=True),
        sa.Column("facts", crvshub.db.JSONType, nullable=False),
        sa.Column("collector", crvshub.db.JSONType, nullable=False),
        sa.Column("fee", sa.Numeric(12, 2), nullable=True),
        sa.Column("receipt", sa.String(length=64), nullable=True),
        sa.Column("reprint_reason", sa.Text(), nullable=True),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column("paper", sa.String(length=8), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("printed_at", crvshub.db.UTCDateTime(), nullable=False),
        sa.Column("printed_by_id", sa.String(length=64), nullable=False),
        sa.Column("printed_by_name", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["record_id"], ["records.id"],
                                name=op.f("fk_certificates_record_id_records")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates")),
    )
    op.create_index(op.f("ix_certificates_record_id"), "certificates", ["record_id"])
    op.create_index(op.f("ix_certificates_registration_number"), "certificates",
                    ["registration_number"])
    op.create_table(
        "certificate_keys",
        sa.Column("kid", sa.String(length=32), nullable=False),
        sa.Column("private_pem_enc", sa.LargeBinary(), nullable=False),
        sa.Column("public_pem", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", crvshub.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_certificate_keys")),
    )
    op.create_table(
        "certificate_checks",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("certificate_id", sa.String(length=16), nullable=True),
        sa.Column("at", crvshub.db.UTCDateTime(), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate_checks")),
    )
    op.create_index(op.f("ix_certificate_checks_certificate_id"), "certificate_checks",
                    ["certificate_id"])
    op.create_index(op.f("ix_certificate_checks_at"), "certificate_checks", ["at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_certificate_checks_at"), table_name="certificate_checks")
    op.drop_index(op.f("ix_certificate_checks_certificate_id"), table_name="certificate_checks")
    op.drop_table("certificate_checks")
    op.drop_table("certificate_keys")
    op.drop_index(op.f("ix_certificates_registration_number"), table_name="certificates")
    op.drop_index(op.f("ix_certificates_record_id"), table_name="certificates")
    op.drop_table("certificates")
