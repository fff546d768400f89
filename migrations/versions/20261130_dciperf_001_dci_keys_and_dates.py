"""signing keys: an algorithm per key (RS256 for access tokens, EdDSA for DCI messages);
records: an index that answers searches by date of the event (DCI predicates) alone

Revision ID: 0023dciperf
Revises: 0022worklists
Create Date: 2026-11-30 20:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023dciperf"
down_revision: str | Sequence[str] | None = "0022worklists"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every key stored so far is an RSA key signing access tokens.
    with op.batch_alter_table("signing_keys") as batch:
        batch.add_column(sa.Column("algorithm", sa.String(16), nullable=False,
                                   server_default="RS256"))
    # A month of births of one sex is thousands of rows scattered over the table: filtered,
    # counted and sorted in this index, only the page's rows are read.
    op.create_index("ix_records_event_date_search", "records",
                    ["event", "event_date", "subject_gender", "event_location_id", "status",
                     "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_records_event_date_search", table_name="records")
    op.execute("DELETE FROM signing_keys WHERE algorithm <> 'RS256'")
    with op.batch_alter_table("signing_keys") as batch:
        batch.drop_column("algorithm")
