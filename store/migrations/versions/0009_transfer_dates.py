"""transfer.move_end_date and transfer.accommodated_on: the dates two clocks start from

The end date the responsible officer set for a temporary move (probation) and the date a child
was accommodated (Bury S20, "no later than 5 months following accommodation").

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the two nullable date columns."""
    with op.batch_alter_table("transfer") as b:
        b.add_column(sa.Column("move_end_date", sa.Date(), nullable=True))
        b.add_column(sa.Column("accommodated_on", sa.Date(), nullable=True))


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("transfer") as b:
        b.drop_column("accommodated_on")
        b.drop_column("move_end_date")
