"""need to know: transfer.restricted and .excluded, transfer_read (audit of reads), install_event

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the columns and tables."""
    with op.batch_alter_table("transfer") as b:
        b.add_column(sa.Column("restricted", sa.Boolean(), nullable=False, server_default=sa.false()))
        b.add_column(sa.Column("excluded", sa.JSON(), nullable=True))
    op.create_table(
        "transfer_read",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("transfer_id", sa.Integer(), sa.ForeignKey("transfer.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("reader", sa.String(32), nullable=False),
        sa.Column("surface", sa.String(32), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("restricted", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_transfer_read_transfer", "transfer_read", ["transfer_id", "at"])
    op.create_index("ix_transfer_read_at", "transfer_read", ["at"])
    op.create_table(
        "install_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    """Drop them."""
    op.drop_table("install_event")
    op.drop_index("ix_transfer_read_at", "transfer_read")
    op.drop_index("ix_transfer_read_transfer", "transfer_read")
    op.drop_table("transfer_read")
    with op.batch_alter_table("transfer") as b:
        b.drop_column("excluded")
        b.drop_column("restricted")
