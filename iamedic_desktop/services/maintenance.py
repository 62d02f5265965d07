"""Start-up maintenance of the media store, done safely.

An import writes a file first and records its row after, so an interruption (a crash, a kill,
a power cut) leaves at most a ``.partial`` file or a complete file that no row names. The
store's own ``.partial`` files are removed at the next start; a stored file is never deleted:
one that no row names is moved to ``<data>/orphans/<date>/``. A media row whose file is missing
is never deleted (its annotations are a clinician's work): it is marked ``failed`` and
reported, and restored once its file is back with the recorded size and SHA-256. A media row
with neither a file nor a ``media_files`` record was pulled from the central database and its
file is not fetched yet (``services/media_fetch.py``): it is left as it is, neither marked
(``failed`` would be pushed to the central database) nor reported missing.

Another process may be importing into the same store while this one starts. Every writer holds
``media_write_lock`` (shared) from its first byte written until its row is committed; the
cleanup takes it exclusively and, when it cannot, leaves the files for a later start.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import logging
import os
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import select

from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.media.storage import MediaStore, sha256_of
from iamedic_desktop.models import Media, MediaFile, UploadStatus
from iamedic_desktop.models.base import utcnow
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


def orphans_folder(media_store: MediaStore) -> Path:
    """Today's folder, beside the store's, for files no media row names."""
    today = dt.datetime.now(dt.UTC).date().isoformat()
    return media_store.root.with_name("orphans") / today


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
    for key in media_store.stored_keys():
        if key not in referenced:
            # Never deleted: the file may be a clinician's only copy (a database restored
            # from an older backup names fewer files). A person decides what to do with it.
            moved = media_store.move_aside(key, orphans_folder(media_store))
            orphans.append(key)
            log.info("🔧 Moved the file %s, which no media record names, to %s", key, moved)
    return partials, orphans


def _has_file(media_store: MediaStore, key: str) -> bool:
    try:
        return media_store.exists(key)
    except InvalidInputError:  # not a storage key at all: there can be no file under it
        return False


def _is_intact(media_store: MediaStore, record: MediaFile | None) -> bool:
    """Whether the stored file is the one recorded: same size and SHA-256."""
    if record is None:  # nothing to check it against
        return False
    path = media_store.path(record.file_path)
    try:
        return path.stat().st_size == record.size and sha256_of(path) == record.sha256
    except OSError:
        return False


def _check_rows(
    uow_factory: UnitOfWorkFactory, media_store: MediaStore
) -> tuple[list[MediaDTO], int, int]:
    """Mark media whose stored file is missing as failed; bring back those whose file is back."""
    with uow_factory() as uow:
        session = uow.session
        rows = list(session.scalars(select(Media).order_by(Media.created_at, Media.id)))
        records = {
            r.file_path: r
            for r in session.scalars(
                select(MediaFile).where(MediaFile.file_path.in_(select(Media.file_path)))
            )
        }
        newly = restored = 0
        missing = []
        for media in rows:
            record = records.get(media.file_path)
            if record is None and not _has_file(media_store, media.file_path):
                continue  # pulled, not fetched yet: its file is in central storage
            if not _has_file(media_store, media.file_path):
                missing.append(media)
                if media.upload_status is not UploadStatus.FAILED:
                    media.upload_status = UploadStatus.FAILED
                    if record is not None:
                        record.missing_since = utcnow()
                    newly += 1
                    log.warning(
                        "⚠️ The file %s of media %s is missing; marked failed, kept with its "
                        "annotations",
                        media.file_path,
                        media.id,
                    )
            elif (
                media.upload_status is UploadStatus.FAILED
                and record is not None
                and record.missing_since is not None
            ):
                if _is_intact(media_store, record):
                    media.upload_status = UploadStatus.UPLOADED
                    record.missing_since = None
                    restored += 1
                    log.info(
                        "🔧 The file %s of media %s is back; restored", record.file_path, media.id
                    )
                else:
                    missing.append(media)
                    log.warning(
                        "⚠️ The file %s of media %s is back but is not the one recorded (size or "
                        "SHA-256 differ); left failed",
                        record.file_path,
                        media.id,
                    )
        if newly or restored:
            uow.commit()
        return [media_dto(m) for m in missing], newly, restored


def run_startup_maintenance(
    uow_factory: UnitOfWorkFactory, media_store: MediaStore
) -> MaintenanceReport:
    """Remove unfinished writes, set aside unnamed files, mark missing and restored files."""
    partials: list[str] = []
    orphans: list[str] = []
    with _locked(media_store, fcntl.LOCK_EX | fcntl.LOCK_NB) as exclusive:
        if exclusive:
            partials, orphans = _clean_files(uow_factory, media_store)
        else:
            log.info("🔧 Another process is writing media; leftover files are left for later")
        missing, newly, restored = _check_rows(uow_factory, media_store)
    if missing:
        log.warning("⚠️ %d media record(s) have no valid file in the media store", len(missing))
    if partials or orphans or newly or restored:
        log.info(
            "🔧 Maintenance: %d unfinished file(s) removed, %d unreferenced file(s) moved to "
            "%s, %d media marked failed, %d restored",
            len(partials),
            len(orphans),
            orphans_folder(media_store).parent,
            newly,
            restored,
        )
    return MaintenanceReport(
        removed_partials=partials,
        moved_orphans=orphans,
        missing=missing,
        newly_failed=newly,
        restored=restored,
        files_checked=exclusive,
    )
