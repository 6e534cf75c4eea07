"""deadline.next_step_on: what a sweep still has to look at, indexed

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the column and its index."""
    with op.batch_alter_table("deadline") as batch:
        batch.add_column(sa.Column("next_step_on", sa.Date(), nullable=True))
        batch.create_index("ix_deadline_next_step", ["next_step_on"])


def downgrade() -> None:
    """Drop them."""
    with op.batch_alter_table("deadline") as batch:
        batch.drop_index("ix_deadline_next_step")
        batch.drop_column("next_step_on")
