"""Sync bookkeeping: base versions and tombstones in the outbox, agreed state, conflicts, errors.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

Frozen: written out by hand, never from the models. The trigger copies into each new outbox
entry the central version its row was last synced at, so every edit carries the version it was
based on without any writer having to look it up.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_BASE_TRIGGER = """
CREATE TRIGGER sync_outbox_base_version AFTER INSERT ON sync_outbox
BEGIN
    UPDATE sync_outbox SET base_version = (
        SELECT version FROM sync_base
        WHERE sync_base.table_name = NEW.table_name AND sync_base.row_id = NEW.row_id
    ) WHERE seq = NEW.seq;
END
"""


def upgrade() -> None:
    """Add the outbox columns and the sync tables, and the base-version trigger."""
    with op.batch_alter_table("sync_outbox") as batch:
        batch.add_column(sa.Column("base_version", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("row_json", sa.Text(), nullable=True))
    op.create_table(
        "sync_base",
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("row_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("table_name", "row_id", name="sync_base_pkey"),
    )
    op.create_table(
        "sync_state",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="sync_state_pkey"),
    )
    op.create_table(
        "sync_conflicts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("row_id", sa.Uuid(), nullable=False),
        sa.Column("media_id", sa.Uuid(), nullable=True),
        sa.Column("local_json", sa.Text(), nullable=True),
        sa.Column("central_json", sa.Text(), nullable=True),
        sa.Column("central_version", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.String(length=8), nullable=True),
        sa.PrimaryKeyConstraint("id", name="sync_conflicts_pkey"),
    )
    op.create_index("ix_sync_conflicts_row_id", "sync_conflicts", ["row_id"])
    op.create_index("ix_sync_conflicts_media_id", "sync_conflicts", ["media_id"])
    op.create_table(
        "sync_errors",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="sync_errors_pkey"),
    )
    op.execute(_BASE_TRIGGER)


def downgrade() -> None:
    """Drop the trigger, the sync tables and the outbox columns (conflict copies are lost)."""
    op.execute("DROP TRIGGER IF EXISTS sync_outbox_base_version")
    for table in ("sync_errors", "sync_conflicts", "sync_state", "sync_base"):
        op.drop_table(table)
    with op.batch_alter_table("sync_outbox") as batch:
        batch.drop_column("row_json")
        batch.drop_column("base_version")
