"""install_event.team_id: which Slack workspace an uninstall, revoke or reinstall was about

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the column."""
    with op.batch_alter_table("install_event") as b:
        b.add_column(sa.Column("team_id", sa.String(32), nullable=True))


def downgrade() -> None:
    """Drop it."""
    with op.batch_alter_table("install_event") as b:
        b.drop_column("team_id")
