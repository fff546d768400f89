"""records: by office, status and date of the event (a jurisdiction's records of some days)

Revision ID: 0028jurisdiction
Revises: 0027eventdate
Create Date: 2026-12-01 17:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0028jurisdiction"
down_revision: str | Sequence[str] | None = "0027eventdate"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A search within a jurisdiction (its offices), of some statuses, over some days: each
    # office's records of a status in the date range are one range of this index, found,
    # counted and sorted newest first from the index alone. SQLite read every record of each
    # office and status by the workqueue index and looked each row up for its date.
    op.create_index("ix_records_office_status_event_date", "records",
                    ["office_id", "status", "event_date", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_records_office_status_event_date", table_name="records")
