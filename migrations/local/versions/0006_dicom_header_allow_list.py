"""DICOM headers stored by earlier versions re-filtered through the allow-list.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04

Earlier versions kept the whole de-identified header in ``media_files.dicom_json``: dates,
addresses, descriptions and other attributes of DICOM PS3.15 Annex E. Each is rewritten to what
the workstation keeps today (``media/dicom_header.py``: ``refilter``), with the gestational
dating (days from the LMP to the study) computed from the old dates before they go. A header
that is not JSON is dropped (NULL): nothing reads it, and it cannot be checked.

Written by hand; it reuses one small pure function (JSON in, JSON out, no Qt, no pydicom).
Downgrade cannot restore what was removed, and does nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from iamedic_desktop.media.dicom_header import refilter

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_files = sa.table(
    "media_files",
    sa.column("file_path", sa.String()),
    sa.column("dicom_json", sa.Text()),
)


def upgrade() -> None:
    """Rewrite every stored DICOM header to its allow-listed form."""
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_files.c.file_path, _files.c.dicom_json).where(_files.c.dicom_json.is_not(None))
    ).all()
    for file_path, text in rows:
        try:
            kept: str | None = refilter(text)
        except ValueError:  # not JSON (json.JSONDecodeError is a ValueError)
            kept = None
        if kept != text:
            connection.execute(
                sa.update(_files).where(_files.c.file_path == file_path).values(dicom_json=kept)
            )


def downgrade() -> None:
    """Nothing to undo: the removed attributes are gone for good."""
