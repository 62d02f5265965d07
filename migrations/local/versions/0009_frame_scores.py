"""Every frame's classifier score of a video, per model version (local only, never synced).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04

Frozen: written out by hand, never from the models. The scores are a float32 little-endian
blob, one value per frame; the primary key (video, model version) keeps one row per pair and
serves the study browser's "scored by this version" check.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``frame_scores``."""
    op.create_table(
        "frame_scores",
        sa.Column("video_media_id", sa.Uuid(), nullable=False),
        sa.Column("model_version", sa.String(length=255), nullable=False),
        sa.Column("frame_count", sa.Integer(), nullable=False),
        sa.Column("scores", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("video_media_id", "model_version", name="frame_scores_pkey"),
    )


def downgrade() -> None:
    """Drop ``frame_scores`` (the scores are recomputed by scoring the videos again)."""
    op.drop_table("frame_scores")
