"""notification.copies: how many copies of a message may have reached the chat platform

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the column (rows already sent or claimed count as one copy)."""
    with op.batch_alter_table("notification") as b:
        b.add_column(sa.Column("copies", sa.Integer(), nullable=False, server_default="0"))
    op.execute("UPDATE notification SET copies = 1 WHERE status IN ('sent', 'claimed')")


def downgrade() -> None:
    """Drop it."""
    with op.batch_alter_table("notification") as b:
        b.drop_column("copies")
