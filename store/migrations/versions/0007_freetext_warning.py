"""freetext_warning: text a person was warned about (a hash, never the text), so that submitting
it again unchanged keeps it on whichever instance the second submit reaches

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the table."""
    op.create_table(
        "freetext_warning",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_freetext_warning_at", "freetext_warning", ["at"])


def downgrade() -> None:
    """Drop it."""
    op.drop_index("ix_freetext_warning_at", "freetext_warning")
    op.drop_table("freetext_warning")
