"""The ten central tables and the store's identity row.

Revision ID: 0001
Revises:
Create Date: 2026-11-26

Frozen: the central tables come from the frozen ``web_schema_92a0e66dec74`` module shared with
the central target; ``local_identity`` is written out here by hand.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import op
from alembic.util import load_python_file

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

web_schema = load_python_file(Path(__file__).resolve().parents[2], "web_schema_92a0e66dec74.py")


def upgrade() -> None:
    """Create the central tables and ``local_identity``."""
    web_schema.create_web_tables()
    op.create_table(
        "local_identity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Uuid(), nullable=False),
        sa.Column("local_user_id", sa.Uuid(), nullable=True),
        sa.Column("central_url", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="local_identity_pkey"),
    )


def downgrade() -> None:
    """Drop everything this revision created."""
    op.drop_table("local_identity")
    web_schema.drop_web_tables()
