"""Person ids up to 254 characters (a work e-mail names a Teams-only person); each Teams team's
and tenant's serviceUrl, as Teams last gave it

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PERSON = 254  # the longest e-mail address a mailbox can have (RFC 5321 path, less its brackets)
# (table, column, nullable, width before): every column that holds an org-file person id
COLUMNS = (("transfer", "requested_by", False, 32), ("transfer", "named_worker", True, 32),
           ("timeline_event", "actor", False, 32), ("cover", "manager", False, 32),
           ("cover", "cover", True, 32), ("transfer_read", "reader", False, 32),
           ("case_closure", "recorded_by", False, 64))


def upgrade() -> None:
    """Widen the person columns; keep where Teams reaches each team and tenant."""
    for table, column, nullable, before in COLUMNS:
        with op.batch_alter_table(table) as b:
            b.alter_column(column, type_=sa.String(length=PERSON), existing_type=sa.String(length=before),
                           existing_nullable=nullable)
    op.create_table(
        "teams_service_url",
        sa.Column("place", sa.String(length=255), primary_key=True),
        sa.Column("service_url", sa.String(length=512), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    """Drop the serviceUrl table (person columns stay wide: narrowing could cut stored ids)."""
    op.drop_table("teams_service_url")
