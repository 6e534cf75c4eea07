"""deadline(transfer_id, status, due_on): per-transfer deadline look-ups for lists and reports

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

"""
from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the index."""
    op.create_index("ix_deadline_transfer", "deadline", ["transfer_id", "status", "due_on"])


def downgrade() -> None:
    """Drop it."""
    op.drop_index("ix_deadline_transfer", "deadline")
