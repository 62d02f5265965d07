"""The duplicate rule as a unique index, and why a media's file is missing.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03

- ``media_files.active_study_id``: the study of the file's media while that media is active
  (NULL once deleted), kept by a trigger on ``media``; with ``source_sha256`` it carries a
  unique index, so two imports of the same content into a study cannot both commit.
- ``media_files.missing_since``: set when start-up maintenance marks a media ``failed`` because
  its file is missing, so the row comes back once the file does.

Frozen: written out by hand, never from the models.
"""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_TRIGGER = """
CREATE TRIGGER media_files_follow_media
AFTER UPDATE OF is_active, study_id ON media
BEGIN
    UPDATE media_files
    SET active_study_id = CASE WHEN NEW.is_active THEN NEW.study_id ELSE NULL END
    WHERE file_path = NEW.file_path;
END
"""

_files = sa.table(
    "media_files",
    sa.column("file_path", sa.String()),
    sa.column("source_sha256", sa.String()),
    sa.column("active_study_id", sa.Uuid()),
    sa.column("missing_since", sa.DateTime()),
)
_media = sa.table(
    "media",
    sa.column("id", sa.Uuid()),
    sa.column("study_id", sa.Uuid()),
    sa.column("file_path", sa.String()),
    sa.column("is_active", sa.Boolean()),
    sa.column("upload_status", sa.String()),
    sa.column("created_at", sa.DateTime()),
)


def _backfill() -> None:
    bind = op.get_bind()
    # The earliest active media of each (study, content) keeps the rule; duplicates that an
    # earlier build let in stay as they are, outside the index.
    rows = bind.execute(
        sa.select(_media.c.study_id, _files.c.file_path, _files.c.source_sha256)
        .join(_files, _files.c.file_path == _media.c.file_path)
        .where(_media.c.is_active.is_(True), _files.c.source_sha256.is_not(None))
        .order_by(_media.c.created_at, _media.c.id)
    ).all()
    seen: set[tuple[uuid.UUID, str]] = set()
    for study_id, file_path, source in rows:
        if (study_id, source) not in seen:
            seen.add((study_id, source))
            bind.execute(
                sa.update(_files)
                .where(_files.c.file_path == file_path)
                .values(active_study_id=study_id)
            )
    # Until now a missing file was the only reason for ``failed``.
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    failed = sa.select(_media.c.file_path).where(_media.c.upload_status == "failed")
    bind.execute(sa.update(_files).where(_files.c.file_path.in_(failed)).values(missing_since=now))


def upgrade() -> None:
    """Add the active study and missing-since columns, the unique index and the trigger."""
    with op.batch_alter_table("media_files") as batch:
        batch.add_column(sa.Column("active_study_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("missing_since", sa.DateTime(timezone=True), nullable=True))
    _backfill()
    op.create_index(
        "uq_media_files_active_source",
        "media_files",
        ["active_study_id", "source_sha256"],
        unique=True,
        sqlite_where=sa.text("active_study_id IS NOT NULL AND source_sha256 IS NOT NULL"),
    )
    op.execute(_TRIGGER)


def downgrade() -> None:
    """Drop the trigger, the index and the two columns."""
    op.execute("DROP TRIGGER IF EXISTS media_files_follow_media")
    op.drop_index("uq_media_files_active_source", table_name="media_files")
    with op.batch_alter_table("media_files") as batch:
        batch.drop_column("missing_since")
        batch.drop_column("active_study_id")
