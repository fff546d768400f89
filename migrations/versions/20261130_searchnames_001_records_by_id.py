"""records: the criteria a name search checks, by record id, without reading the records

Revision ID: 0023searchnames
Revises: 0023uifinish
Create Date: 2026-11-30 20:40:00

A name is looked up in the postings; its records are then checked by id (declaration time,
office, status, event, event date). This index answers those checks alone (an index-only
scan, no table row of several kilobytes read per candidate).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0023searchnames"
down_revision: str | Sequence[str] | None = "0023uifinish"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_records_search_by_id", "records",
                    ["id", "created_at", "office_id", "status", "event", "event_date"])


def downgrade() -> None:
    op.drop_index("ix_records_search_by_id", table_name="records")
