"""The sync outbox: one entry per local change of a central-table row.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

Frozen: written out by hand, never from the models.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``sync_outbox``."""
    op.create_table(
        "sync_outbox",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("row_id", sa.Uuid(), nullable=False),
        sa.Column("operation", sa.String(length=8), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="sync_outbox_pkey"),
    )
    op.create_index("ix_sync_outbox_table_name", "sync_outbox", ["table_name"])
    op.create_index("ix_sync_outbox_row_id", "sync_outbox", ["row_id"])


def downgrade() -> None:
    """Drop ``sync_outbox`` (pending local changes are lost with it)."""
    op.drop_table("sync_outbox")
