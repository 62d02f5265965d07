"""Start-up maintenance of the media store, done safely.

An import writes a file first and records its row after, so an interruption (a crash, a kill,
a power cut) leaves at most a ``.partial`` file or a complete file that no row names; both are
removed at the next start. A media row whose file is missing is never deleted (its annotations
are a clinician's work): it is marked ``failed`` and reported.

Another process may be importing into the same store while this one starts. Every writer holds
``media_write_lock`` (shared) from its first byte written until its row is committed; the
cleanup takes it exclusively and, when it cannot, leaves the files for a later start.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import select

from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.media.storage import MediaStore
from iamedic_desktop.models import Media, UploadStatus
from iamedic_desktop.schemas.imports import MaintenanceReport
from iamedic_desktop.schemas.media import MediaDTO
from iamedic_desktop.services.media_records import media_dto
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)


def lock_path(media_store: MediaStore) -> Path:
    """The lock file beside the store's folder (inside it, it would look like a stored file)."""
    return media_store.root.with_name(media_store.root.name + ".lock")


@contextlib.contextmanager
def _locked(media_store: MediaStore, mode: int) -> Iterator[bool]:
    path = lock_path(media_store)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, mode)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextlib.contextmanager
def media_write_lock(media_store: MediaStore) -> Iterator[None]:
    """Held while files are written into the store and their rows recorded (shared)."""
    with _locked(media_store, fcntl.LOCK_SH):
        yield


def _is_key(name: str) -> bool:
    try:
        return str(uuid.UUID(name)) == name
    except ValueError:
        return False


def _clean_files(
    uow_factory: UnitOfWorkFactory, media_store: MediaStore
) -> tuple[list[str], list[str]]:
    partials = []
    for partial in media_store.partial_files():
        partial.unlink(missing_ok=True)
        partials.append(partial.name)
        log.info("🔧 Removed the unfinished file %s", partial.name)
    with uow_factory() as uow:
        # Soft-deleted media keep their files: every row counts.
        referenced = set(uow.session.scalars(select(Media.file_path)))
    orphans = []
    stored = media_store.keys()
    for key in stored:
        if _is_key(key) and key not in referenced:
            media_store.delete(key)
            orphans.append(key)
            log.info("🔧 Removed the file %s, which no media record names", key)
    return partials, orphans


def _has_file(media_store: MediaStore, key: str) -> bool:
    try:
        return media_store.exists(key)
    except InvalidInputError:  # not a storage key at all: there can be no file under it
        return False


def _mark_missing(
    uow_factory: UnitOfWorkFactory, media_store: MediaStore
) -> tuple[list[MediaDTO], int]:
    with uow_factory() as uow:
        rows = list(uow.session.scalars(select(Media).order_by(Media.created_at, Media.id)))
        missing = [m for m in rows if not _has_file(media_store, m.file_path)]
        newly = 0
        for media in missing:
            if media.upload_status is not UploadStatus.FAILED:
                media.upload_status = UploadStatus.FAILED
                newly += 1
                log.warning(
                    "⚠️ The file of media '%s' (%s) is missing; marked failed, kept with its "
                    "annotations",
                    media.filename,
                    media.id,
                )
        if newly:
            uow.commit()
        return [media_dto(m) for m in missing], newly


def run_startup_maintenance(
    uow_factory: UnitOfWorkFactory, media_store: MediaStore
) -> MaintenanceReport:
    """Remove leftovers of interrupted writes; mark media whose file is missing as failed."""
    partials: list[str] = []
    orphans: list[str] = []
    with _locked(media_store, fcntl.LOCK_EX | fcntl.LOCK_NB) as exclusive:
        if exclusive:
            partials, orphans = _clean_files(uow_factory, media_store)
        else:
            log.info("🔧 Another process is writing media; leftover files are left for later")
        missing, newly = _mark_missing(uow_factory, media_store)
    if missing:
        log.warning("⚠️ %d media record(s) have no file in the media store", len(missing))
    if partials or orphans or newly:
        log.info(
            "🔧 Maintenance: %d unfinished and %d unreferenced file(s) removed, %d media "
            "marked failed",
            len(partials),
            len(orphans),
            newly,
        )
    return MaintenanceReport(
        removed_partials=partials,
        removed_orphans=orphans,
        missing=missing,
        newly_failed=newly,
        files_checked=exclusive,
    )
