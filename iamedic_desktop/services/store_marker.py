"""The data folder's marker: which store its media belong to.

The media folder and the database are one store: a database lost (moved, deleted, restored
from the wrong backup) must never be replaced by an empty one whose maintenance would then
find every file unreferenced. The marker (``iamedic.store-id`` in the data folder) holds the
store's id (``local_identity.device_id``), written atomically; opening the store refuses a data
folder whose media have no database, or whose database is another store's. A data folder
without media starts normally.
"""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path

from iamedic_desktop.core.errors import StorageError
from iamedic_desktop.core.settings import Settings
from iamedic_desktop.media.storage import MediaStore

log = logging.getLogger(__name__)

MARKER_NAME = "iamedic.store-id"


def marker_path(settings: Settings) -> Path:
    """Where the data folder records the id of the store its media belong to."""
    return settings.data_dir / MARKER_NAME


def read_marker(settings: Settings) -> uuid.UUID | None:
    """The store id the data folder's media belong to, if recorded (and readable)."""
    try:
        return uuid.UUID(marker_path(settings).read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None


def write_marker(settings: Settings, store_id: uuid.UUID) -> None:
    """Record ``store_id`` as the data folder's store (temp file, fsync, rename)."""
    target = marker_path(settings)
    temp = target.with_name(target.name + ".tmp")
    try:
        with temp.open("w", encoding="ascii") as out:
            out.write(f"{store_id}\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise StorageError(
            f"The data folder {settings.data_dir} could not be written: {exc.strerror or exc}."
        ) from exc


def _media_count(settings: Settings) -> int:
    return len(MediaStore(settings.media_dir).stored_keys())


def check_before_open(settings: Settings) -> None:
    """Refuse a data folder holding media but no store database; touch nothing in it."""
    if settings.local_db_path.exists():
        return
    count = _media_count(settings)
    if count == 0:
        if read_marker(settings) is not None:
            log.warning("⚠️ The data folder had a store without media; starting a new store")
        return
    raise StorageError(
        f"The data folder {settings.data_dir} holds {count} media files but no store database "
        f"({settings.local_db_path.name}): restore {settings.local_db_path.name} (with its "
        f"-wal file, if any) from a backup into {settings.data_dir}, or move the folder "
        f"{settings.media_dir.name} away to start afresh. Nothing was changed."
    )


def tie_to_store(settings: Settings, store_id: uuid.UUID) -> None:
    """Check that the data folder's media belong to store ``store_id``, and record it."""
    recorded = read_marker(settings)
    if recorded == store_id:
        return
    count = _media_count(settings)
    if recorded is not None and count:
        raise StorageError(
            f"The database in {settings.data_dir} belongs to another store than its "
            f"{count} media files: restore this folder's own {settings.local_db_path.name} "
            f"from a backup, or move the folder {settings.media_dir.name} away to start "
            "afresh. Nothing was changed."
        )
    write_marker(settings, store_id)
    log.info("🔧 The data folder is tied to its store (%s)", store_id)
