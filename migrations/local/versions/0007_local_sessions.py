"""Who signed in on this store with Google, and how fresh each sign-in is.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03

Frozen: written out by hand, never from the models. No secret is stored here: the refresh token
lives in the OS keyring.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``local_sessions``."""
    op.create_table(
        "local_sessions",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("signed_in_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("token_expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("local_studies", sa.String(length=8), nullable=True),
        sa.PrimaryKeyConstraint("user_id", name="local_sessions_pkey"),
    )


def downgrade() -> None:
    """Drop ``local_sessions``."""
    op.drop_table("local_sessions")
