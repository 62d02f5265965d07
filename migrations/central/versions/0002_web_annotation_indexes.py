"""The two indexes of the web's usefulness labels that revision 0001 missed on an empty database.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03

The web's migration 92a0e66dec74 indexes ``picture_classification_annotations`` on
``created_at`` and ``media_type``; revision 0001 created that table without them, so the web's
own ``alembic check`` failed on a database the workstation had set up. Each index is created
only where no index of that name exists: a web database already has them, and whatever the web
made is left exactly as it is. Nothing else in ``public`` is touched.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TABLE = "public.picture_classification_annotations"
_INDEXES = {
    "ix_picture_classification_annotations_created_at": "created_at",
    "ix_picture_classification_annotations_media_type": "media_type",
}


def upgrade() -> None:
    """Create the web's two indexes where they are missing."""
    for name, column in _INDEXES.items():
        op.execute(sa.text(f"CREATE INDEX IF NOT EXISTS {name} ON {_TABLE} ({column})"))


def downgrade() -> None:
    """Nothing: the indexes belong to the web's schema, which a web backend may rely on."""
