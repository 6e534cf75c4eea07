"""Case records that start clocks with or without a transfer (an accommodation date, an order's
end, a date of birth, an urgent viability referral ...)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """The case_record table, indexed by case and by the next step a sweep looks at."""
    op.create_table(
        "case_record",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_ref", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("team", sa.String(length=64), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("recorded_by", sa.String(length=254), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("done", sa.JSON(), nullable=True),
        sa.Column("ended", sa.JSON(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("next_step_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_case_record_case", "case_record", ["case_ref"])
    op.create_index("ix_case_record_next_step", "case_record", ["next_step_at"])


def downgrade() -> None:
    """Drop the case_record table."""
    op.drop_index("ix_case_record_next_step", table_name="case_record")
    op.drop_index("ix_case_record_case", table_name="case_record")
    op.drop_table("case_record")
