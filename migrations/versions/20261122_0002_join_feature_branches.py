"""join feature branches

Revision ID: 0002join
Revises: 20261122auth001, 20261122location001, webhook001, 0001workflow
Create Date: 2026-11-22 04:28:24.206473
"""

from collections.abc import Sequence

revision: str = "0002join"
down_revision: str | Sequence[str] | None = (
    "20261122auth001",
    "20261122location001",
    "webhook001",
    "0001workflow",
)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
