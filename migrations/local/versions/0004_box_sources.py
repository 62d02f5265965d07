"""Which model version an accepted box came from (local: the central tables have no column).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26

Frozen: written out by hand, never from the models.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``box_sources``."""
    op.create_table(
        "box_sources",
        sa.Column("media_id", sa.Uuid(), nullable=False),
        sa.Column("bb_class", sa.String(length=100), nullable=False),
        sa.Column("model_version", sa.String(length=255), nullable=False),
        sa.Column("confidence", sa.Double(), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("media_id", "bb_class", name="box_sources_pkey"),
    )


def downgrade() -> None:
    """Drop ``box_sources``."""
    op.drop_table("box_sources")
