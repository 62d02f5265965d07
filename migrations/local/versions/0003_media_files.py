"""Local knowledge of stored files: hashes for duplicate detection, probe and DICOM header.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

Frozen: written out by hand, never from the models.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``media_files``."""
    op.create_table(
        "media_files",
        sa.Column("file_path", sa.String(length=36), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("probe_json", sa.Text(), nullable=True),
        sa.Column("dicom_json", sa.Text(), nullable=True),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("file_path", name="media_files_pkey"),
    )
    op.create_index("ix_media_files_sha256", "media_files", ["sha256"])
    op.create_index("ix_media_files_source_sha256", "media_files", ["source_sha256"])


def downgrade() -> None:
    """Drop ``media_files``."""
    op.drop_table("media_files")
