"""case closed records: case_closure (re-referral windows run from these, not from transfers)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the table."""
    op.create_table(
        "case_closure",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_ref", sa.String(64), nullable=False),
        sa.Column("team", sa.String(64), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_case_closure_case", "case_closure", ["case_ref", "closed_on"])


def downgrade() -> None:
    """Drop it."""
    op.drop_index("ix_case_closure_case", "case_closure")
    op.drop_table("case_closure")
