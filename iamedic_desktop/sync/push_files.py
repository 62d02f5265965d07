"""Files first: a media row is pushed only once its file is in central storage.

The web deletes, at every start, each media row whose file is not in its media folder, so the
file is written (by key, verified by size and SHA-256) before the row that names it. A media
whose file is not here (not fetched, or lost) waits, and so does every row under it.

Threading: blocking; runs on the sync worker.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from iamedic_desktop.media.storage import MediaStore
from iamedic_desktop.models import MediaFile
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from iamedic_desktop.sync.central_files import CentralFiles

log = logging.getLogger(__name__)


class FileSender:
    """Puts the files of media rows into central storage before the rows go."""

    def __init__(
        self, files: CentralFiles, media_store: MediaStore, uow_factory: UnitOfWorkFactory
    ) -> None:
        self._files = files
        self._store = media_store
        self._uow = uow_factory

    def send(self, media_rows: list[dict[str, Any]]) -> tuple[int, set[str]]:
        """Send the files central storage lacks; return how many were sent and the ids of the
        media whose file cannot be sent (they wait)."""
        sent, waiting = 0, set()
        keys = [row["file_path"] for row in media_rows]
        with self._uow() as uow:
            records = {
                r.file_path: r
                for r in uow.session.scalars(select(MediaFile).where(MediaFile.file_path.in_(keys)))
            }
        for row in media_rows:
            key = row["file_path"]
            if self._files.exists(key):
                continue
            record = records.get(key)
            path = self._store.path(key)
            if record is None or not path.exists():
                waiting.add(str(row["id"]))
                log.warning("⚠️ Media %s waits: its file is not on this workstation", row["id"])
                continue
            self._files.put(key, path, record.size, record.sha256)
            sent += 1
        if sent:
            log.info("🔄 Sent %d file(s) to central storage", sent)
        return sent, waiting
