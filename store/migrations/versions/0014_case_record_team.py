"""Case records by team: the lists and homes read a team's open records

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08

"""
from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """An index on (team, closed_at): `/transfer list` and App Home read a team's open records."""
    op.create_index("ix_case_record_team", "case_record", ["team", "closed_at"])


def downgrade() -> None:
    """Drop the index."""
    op.drop_index("ix_case_record_team", table_name="case_record")
