"""search: the name, identifier and vocabulary index of records

Revision ID: 0010search
Revises: 0004secthrottle
Create Date: 2026-11-30 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010search"
down_revision: str | Sequence[str] | None = "0004secthrottle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _record_fk(name: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["record_id"], ["records.id"], name=f"fk_{name}_record_id_records", ondelete="CASCADE")


def upgrade() -> None:
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact_email", sa.String(255), nullable=True))
        batch_op.create_index("ix_records_contact_email", ["contact_email"])
        batch_op.create_index("ix_records_contact_number", ["contact_number"])
    op.create_table(
        "search_persons",
        sa.Column("record_id", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("given", sa.String(255), nullable=True),
        sa.Column("family", sa.String(255), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("gender", sa.String(16), nullable=True),
        _record_fk("search_persons"),
        sa.PrimaryKeyConstraint("record_id", "role", name="pk_search_persons"),
    )
    op.create_index("ix_search_persons_role_birth_date", "search_persons", ["role", "birth_date"])
    op.create_table(
        "search_terms",
        sa.Column("term", sa.String(128), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("record_id", sa.String(64), nullable=False),
        _record_fk("search_terms"),
        sa.PrimaryKeyConstraint("term", "role", "record_id", name="pk_search_terms"),
    )
    op.create_index("ix_search_terms_record_id", "search_terms", ["record_id"])
    op.create_table(
        "search_vocabulary",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("term", sa.String(64), nullable=False),
        sa.Column("phonetic", sa.String(64), nullable=False),
        sa.Column("skeleton", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_search_vocabulary"),
        sa.UniqueConstraint("term", name="uq_search_vocabulary_term"),
    )
    op.create_index("ix_search_vocabulary_phonetic", "search_vocabulary", ["phonetic"])
    op.create_index("ix_search_vocabulary_skeleton", "search_vocabulary", ["skeleton"])


def downgrade() -> None:
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_index("ix_records_contact_number")
        batch_op.drop_index("ix_records_contact_email")
        batch_op.drop_column("contact_email")
    for table in ("search_vocabulary", "search_terms", "search_persons"):
        op.drop_table(table)
