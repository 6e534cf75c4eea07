"""teams_conversation: each person's 1:1 conversation with Baton on Teams; room for Teams ids

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WIDE = (("notification", "recipient", False), ("notification", "channel", True),
        ("notification", "ts", True), ("message_ref", "channel", False), ("message_ref", "ts", False))


def upgrade() -> None:
    """Create the table; Teams conversation and channel ids are longer than Slack's 32 characters."""
    op.create_table(
        "teams_conversation",
        sa.Column("person", sa.String(length=255), primary_key=True),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("service_url", sa.String(length=512), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("aad_object_id", sa.String(length=64), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_teams_conversation_user", "teams_conversation", ["user_id"])
    for table, column, nullable in WIDE:
        with op.batch_alter_table(table) as b:
            b.alter_column(column, type_=sa.String(length=255), existing_type=sa.String(length=32),
                           existing_nullable=nullable)


def downgrade() -> None:
    """Drop the table (ids stay wide: narrowing could cut stored Teams ids)."""
    op.drop_index("ix_teams_conversation_user", table_name="teams_conversation")
    op.drop_table("teams_conversation")
