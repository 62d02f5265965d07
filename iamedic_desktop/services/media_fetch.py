"""Fetching the files of pulled media from central storage into the local media store.

Sync pulls a ``media`` row without its file and without a ``media_files`` record: its file is
"not fetched yet" (start-up maintenance leaves such rows alone). ``fetch_media`` streams each
file in 1 MiB chunks (never whole in memory) into a ``.partial`` file of the store, which
``CentralFiles`` verifies by size and SHA-256 (by size alone for a file the web stored); a
damaged copy leaves nothing behind. A verified file is fsynced and renamed into place under its
key, probed in the import's child process (``media/inspect_worker.py``) and recorded in
``media_files``, a local table: no outbox entry is written and the media row is not touched.

The store's write lock is held (shared) throughout, as an import holds it. A kill leaves a
``.partial`` (removed at the next start) or a placed file without its record: the next fetch
streams the central copy again and keeps the file only if it is the same, else moves it to the
orphans folder (never deleted) first. Threading: blocking file, database and network I/O on the
calling thread (a worker, never the UI thread); cancel is checked between chunks.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import SQLAlchemyError

from iamedic_desktop.core.errors import CentralDatabaseError, IamedicError, StorageError
from iamedic_desktop.core.progress import (
    CancelledError,
    CancelToken,
    Progress,
    ProgressCallback,
    no_progress,
)
from iamedic_desktop.core.settings import Settings, get_settings
from iamedic_desktop.media.storage import MediaStore, StoredFile, is_key, sha256_of
from iamedic_desktop.models import Media, MediaFile
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.schemas.media import MediaDTO
from iamedic_desktop.schemas.media_fetch import FetchRefusal, FetchReport
from iamedic_desktop.services.maintenance import media_write_lock, orphans_folder
from iamedic_desktop.services.media_records import media_dto
from iamedic_desktop.services.permissions import (
    find_study_for_actor,
    load_media_for_actor,
    require_doctor_role,
)
from iamedic_desktop.services.transactions import commit_or_conflict
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from iamedic_desktop.services.validation import parse_id, try_parse_uuid
from iamedic_desktop.sync.central_files import CentralFiles, open_central_files

if TYPE_CHECKING:
    from iamedic_desktop.media.sandbox import IsolatedWorker

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_S = 0.1  # at most ten reports a second, plus the first and the last
CONNECT_TIMEOUT_S = 10


# --- what to fetch ----------------------------------------------------------------------------


def remote_media_ids(
    uow_factory: UnitOfWorkFactory, target_id: uuid.UUID | str | None = None
) -> list[uuid.UUID]:
    """The media whose file was never fetched: the media ``target_id``, or every active media
    of the study ``target_id`` (None: of every study), in import order."""
    query = (
        select(Media.id)
        .outerjoin(MediaFile, MediaFile.file_path == Media.file_path)
        .where(MediaFile.file_path.is_(None))
        .order_by(Media.created_at, Media.id)
    )
    if target_id is None:
        query = query.where(Media.is_active.is_(True))
    else:
        target = parse_id(target_id, what="media or study")
        query = query.where(
            or_(Media.id == target, and_(Media.study_id == target, Media.is_active.is_(True)))
        )
    with uow_factory() as uow:
        return list(uow.session.scalars(query))


def fetch_target(uow_factory: UnitOfWorkFactory, actor: Actor, ref: str) -> uuid.UUID:
    """The id of the actor's media or study named by ``ref`` (a media id, a study alias or id)."""
    with uow_factory() as uow:
        session = uow.session
        require_doctor_role(session, actor)
        parsed = try_parse_uuid(ref) if isinstance(ref, str) else None
        if parsed is not None and session.get(Media, parsed) is not None:
            return load_media_for_actor(session, actor, parsed).id
        return find_study_for_actor(session, actor, ref).id


@contextmanager
def central_files(settings: Settings) -> Iterator[CentralFiles]:
    """The configured central database's file storage, for one fetch.

    InvalidInputError when no central database is configured; CentralDatabaseError, saying
    why in one line, when it cannot be reached.
    """
    from iamedic_desktop.auth.secrets import central_url
    from iamedic_desktop.core.database import create_central_engine

    engine = create_central_engine(
        central_url(settings), connect_args={"connect_timeout": CONNECT_TIMEOUT_S}
    )
    try:
        try:
            files = open_central_files(settings, engine.connect)
        except CentralDatabaseError as exc:
            raise CentralDatabaseError(
                f"The central database cannot be reached ({_cause(exc)}); no file was fetched: "
                "check the network and the central database settings, then try again."
            ) from exc
        yield files
    finally:
        engine.dispose()


def _cause(exc: BaseException) -> str:
    cause = exc.__cause__
    if isinstance(cause, SQLAlchemyError):
        cause = getattr(cause, "orig", None) or cause
    lines = [line.strip() for line in str(cause or exc).splitlines() if line.strip()]
    return lines[0].rstrip(".") if lines else exc.__class__.__name__


# --- fetching ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Wanted:
    media: MediaDTO
    recorded_sha256: str | None  # the record of a file this store held once, if any


class _Meter:
    """Bytes done of the whole fetch, reported at most every PROGRESS_INTERVAL_S."""

    def __init__(self, progress: ProgressCallback, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0
        self.message = ""
        self._last = -float("inf")

    def add(self, count: int, *, force: bool = False) -> None:
        self.done += count
        now = time.monotonic()
        if force or now - self._last >= PROGRESS_INTERVAL_S:
            self._last = now
            self.progress(Progress(min(self.done, self.total), self.total, self.message))


def _plan(
    uow_factory: UnitOfWorkFactory, media_store: MediaStore, media_ids: Sequence[uuid.UUID]
) -> tuple[list[_Wanted], list[MediaDTO]]:
    with uow_factory() as uow:
        session = uow.session
        wanted, local = [], []
        for media_id in dict.fromkeys(media_ids):
            media = session.get_one(Media, media_id)
            record = session.get(MediaFile, media.file_path)
            on_disk = is_key(media.file_path) and media_store.exists(media.file_path)
            if record is not None and on_disk:
                local.append(media_dto(media))
            else:
                wanted.append(_Wanted(media_dto(media), record.sha256 if record else None))
        return wanted, local


def _stream_to_scratch(
    files: CentralFiles,
    media_store: MediaStore,
    media: MediaDTO,
    meter: _Meter,
    cancel: CancelToken,
) -> tuple[StoredFile, Path]:
    """The verified central copy in a fresh ``.partial`` of the store: (its facts, its path)."""
    media_store.path(media.file_path)  # a key this store cannot hold is refused before the copy
    scratch = media_store.scratch_path()
    digest, size = hashlib.sha256(), 0
    try:
        with scratch.open("wb") as out:
            for chunk in files.open_stream(media.file_path, media.file_size):
                cancel.raise_if_cancelled("The fetch")
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
                meter.add(len(chunk))
    except OSError as exc:
        scratch.unlink(missing_ok=True)
        raise StorageError(f"The media store could not be written: {exc.strerror or exc}.") from exc
    except BaseException:
        scratch.unlink(missing_ok=True)
        raise
    return StoredFile(media.file_path, size, digest.hexdigest()), scratch


def _place(media_store: MediaStore, wanted: _Wanted, fetched: StoredFile, scratch: Path) -> None:
    """Move the verified copy into place under its key (fsync, rename)."""
    media, key = wanted.media, fetched.key
    try:
        if fetched.size != media.file_size:
            raise StorageError(
                f"The central copy of file {key} has {fetched.size} bytes, its media record "
                f"says {media.file_size}; it was not used."
            )
        if wanted.recorded_sha256 not in (None, fetched.sha256):
            raise StorageError(
                f"The central copy of file {key} is not the one this workstation recorded "
                "(SHA-256 differs); it was not used."
            )
        if media_store.exists(key):  # placed by a fetch killed before its record
            if sha256_of(media_store.path(key)) == fetched.sha256:
                return
            moved = media_store.move_aside(key, orphans_folder(media_store))
            log.warning(
                "⚠️ Unrecorded file %s differed from the central copy: moved to %s", key, moved
            )
        placed = media_store.adopt(scratch, key)
        if placed.sha256 != fetched.sha256:  # the disk does not hold what was written
            media_store.delete(key)
            raise StorageError(f"The file {key} was not written intact; it was not kept.")
    finally:
        scratch.unlink(missing_ok=True)


def _probe(
    worker: IsolatedWorker, media_store: MediaStore, media: MediaDTO, settings: Settings
) -> str | None:
    """``probe_json`` of a video, as an import records it (None for a picture)."""
    from iamedic_desktop.media.image_probe import MAX_IMAGE_PIXELS
    from iamedic_desktop.media.inspect_worker import inspect_file

    inspection = inspect_file(
        worker,
        media_store.path(media.file_path),
        timeout=settings.probe_timeout_seconds,
        max_image_pixels=MAX_IMAGE_PIXELS,
    )
    video = inspection.video_probe()
    return video.to_json() if video is not None else None


def _record(uow_factory: UnitOfWorkFactory, media: MediaDTO, sha: str, probe: str | None) -> None:
    """The ``media_files`` record of a fetched file (a local table: nothing for the outbox)."""
    with uow_factory() as uow:
        uow.begin_write()
        if uow.session.get(MediaFile, media.file_path) is None:
            uow.session.add(
                MediaFile(
                    file_path=media.file_path,
                    sha256=sha,
                    size=media.file_size,
                    probe_json=probe,
                    active_study_id=media.study_id if media.is_active else None,
                )
            )
        commit_or_conflict(uow, f"The fetched file {media.file_path} could not be recorded.")


def _probe_and_record(
    worker: IsolatedWorker,
    uow_factory: UnitOfWorkFactory,
    media_store: MediaStore,
    media: MediaDTO,
    stored: StoredFile,
    settings: Settings,
) -> str | None:
    """Probe and record a placed file; a warning when it cannot be shown (kept all the same:
    it is the central copy). A failed record leaves the file for the next fetch to check."""
    probe, warning = None, None
    try:
        probe = _probe(worker, media_store, media, settings)
    except IamedicError as exc:
        warning = f"The file of media {media.id} was fetched but cannot be shown: {exc.message}"
    _record(uow_factory, media, stored.sha256, probe)
    return warning


def fetch_media(
    uow_factory: UnitOfWorkFactory,
    media_store: MediaStore,
    files: CentralFiles,
    media_ids: Sequence[uuid.UUID],
    progress: ProgressCallback | None = None,
    *,
    cancel: CancelToken | None = None,
    settings: Settings | None = None,
) -> FetchReport:
    """Fetch, verify, probe and record the file of each media that is not in the store."""
    from iamedic_desktop.media.sandbox import IsolatedWorker

    settings = settings or get_settings()
    cancel = cancel or CancelToken()
    wanted, local = _plan(uow_factory, media_store, media_ids)
    if not wanted:
        return FetchReport(already_local=local)
    meter = _Meter(progress or no_progress, sum(w.media.file_size for w in wanted))
    fetched: list[MediaDTO] = []
    refused: list[FetchRefusal] = []
    warnings: list[str] = []
    not_reached: list[uuid.UUID] = []
    log.info("🔄 Fetching %d media file(s) from central storage", len(wanted))
    with media_write_lock(media_store), IsolatedWorker() as worker:
        for index, item in enumerate(wanted):
            media = item.media
            meter.message = f"Media {index + 1} of {len(wanted)}"
            meter.add(0, force=True)
            if cancel.cancelled:
                not_reached = [w.media.id for w in wanted[index:]]
                break
            try:
                stored, scratch = _stream_to_scratch(files, media_store, media, meter, cancel)
                _place(media_store, item, stored, scratch)
                warning = _probe_and_record(
                    worker, uow_factory, media_store, media, stored, settings
                )
            except CancelledError:
                not_reached = [w.media.id for w in wanted[index:]]
                break
            except CentralDatabaseError as exc:  # the rest would wait for the same server
                reason = f"The central database cannot be reached ({_cause(exc)})."
                refused += [FetchRefusal(media=w.media, reason=reason) for w in wanted[index:]]
                log.info("⚠️ Fetch stopped at media %s: %s", media.id, reason)
                break
            except IamedicError as exc:
                refused.append(FetchRefusal(media=media, reason=exc.message))
                log.info("⚠️ Media %s not fetched: %s", media.id, exc.message)
                continue
            warnings += [warning] if warning else []
            fetched.append(media)
            log.info("🔄 Fetched the file of media %s (%d bytes)", media.id, stored.size)
    meter.message = "Fetch finished"
    meter.add(0, force=True)
    log.info(
        "✅ Fetch: %d fetched, %d refused, %d not reached",
        len(fetched),
        len(refused),
        len(not_reached),
    )
    return FetchReport(
        fetched=fetched,
        already_local=local,
        refused=refused,
        not_reached=not_reached,
        warnings=warnings,
        fetched_bytes=sum(m.file_size for m in fetched),
        cancelled=bool(not_reached),
    )
