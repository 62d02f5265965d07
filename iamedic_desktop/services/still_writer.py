"""Stores the stills of one video: JPEG files first, then their rows, honouring the
same-timestamp rule of the spec (a still already at that timestamp is reused, a deleted one
restored).

Rows are recorded in batches (``add``): up to BATCH_STILLS stills, or the stills of
BATCH_SECONDS, in one transaction with their SHA-256 bookkeeping, since a transaction per still
cost more than decoding and encoding it. Every file is stored (and synced to disk) before its
row; a batch's files are deleted if its rows cannot be recorded, so no file outlives a failure
and no row lacks its file. A crash loses at most the stills of the batch in flight (their files
are then orphans that start-up maintenance sets aside). Used by the extraction services
(``extraction.py``). Threading: a writer belongs to the worker thread that made it; it decodes
nothing and encodes the pixels it is given.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass

from sqlalchemy import inspect, select

from iamedic_desktop.core.errors import StorageError
from iamedic_desktop.media.frame_source import RGBFrame
from iamedic_desktop.media.still_encoder import DEFAULT_QUALITY, encode_jpeg
from iamedic_desktop.media.storage import MediaStore
from iamedic_desktop.models import Media
from iamedic_desktop.models.local import MediaFile
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.schemas.extraction import ExtractionResult
from iamedic_desktop.schemas.media import FrameDTO, FrameRecordResult, MediaDTO
from iamedic_desktop.services.frame_records import NewStill, record_frames
from iamedic_desktop.services.maintenance import media_write_lock
from iamedic_desktop.services.transactions import DISK_FULL
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)

BATCH_STILLS = 32  # stills recorded in one transaction at most
BATCH_SECONDS = 0.5  # and never later than this after the first of them was stored

Recorded = tuple[int, ExtractionResult]  # the frame's index, its still


def is_active(frame: FrameDTO) -> bool:
    """Whether the still and its frames row are both active."""
    return frame.is_active and frame.still.is_active


def still_result(
    frame: FrameDTO, *, created: bool, reactivated: bool, cleared: int, message: str
) -> ExtractionResult:
    """The result of one still."""
    return ExtractionResult(
        frame=frame,
        created=created,
        reactivated=reactivated,
        cleared_annotations=cleared,
        message=message,
    )


@dataclass(frozen=True)
class _Pending:
    n: int  # the frame's index in the video
    still: NewStill


class StillWriter:
    """Stores stills of one video, honouring the same-timestamp rule of the spec."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        actor: Actor,
        media_store: MediaStore,
        video: MediaDTO,
        *,
        known: Sequence[FrameDTO] = (),
        quality: int = DEFAULT_QUALITY,
    ) -> None:
        self.uow_factory = uow_factory
        self.actor = actor
        self.media_store = media_store
        self.video = video
        self.quality = quality
        self._known: dict[float, FrameDTO] = {}
        for frame in known:  # an active still wins over a deleted one at the same time
            held = self._known.get(frame.timestamp_seconds)
            if held is None or (not is_active(held) and is_active(frame)):
                self._known[frame.timestamp_seconds] = frame
        # media_files is local bookkeeping: the embedded store has it, a bare central one not.
        self._bookkeeping = inspect(uow_factory.engine).has_table(MediaFile.__tablename__)
        self._pending: list[_Pending] = []
        self._first_stored = 0.0  # when the batch's first file was stored (monotonic)
        # The write lock (shared), held from a batch's first file to its rows' commit, keeps
        # another process's start-up maintenance from taking the new files for orphans.
        self._lock = ExitStack()

    def existing(self, timestamp: float) -> FrameDTO | None:
        """The still already recorded at ``timestamp`` (active or deleted), if any."""
        return self._known.get(timestamp)

    def keep(self, frame: FrameDTO) -> ExtractionResult:
        """The answer for a timestamp that already has a still: it, restored if deleted."""
        if is_active(frame):
            message = f"A still at {frame.timestamp_seconds:.3f} s of this video already exists."
            return still_result(frame, created=False, reactivated=False, cleared=0, message=message)
        # Recording the still's own file and size restores it (clearing its annotations).
        still = NewStill(
            frame.timestamp_seconds,
            frame.frame_number,
            frame.width,
            frame.height,
            frame.still.file_path,
            frame.still.file_size,
        )
        [recorded] = record_frames(self.uow_factory, self.actor, self.video.id, [still])
        self._known[frame.timestamp_seconds] = recorded.frame
        return _result(recorded)

    def save(self, frame_number: int, timestamp: float, pixels: RGBFrame) -> ExtractionResult:
        """Encode, store and record one still now (with any still waiting before it)."""
        done = self.add(frame_number, timestamp, pixels) + self.flush()  # add may flush itself
        return done[-1][1]

    def add(self, frame_number: int, timestamp: float, pixels: RGBFrame) -> list[Recorded]:
        """Encode and store a new still; its rows join the batch. Returns the stills recorded
        now (the batch, when it is full or old enough), in order; ``flush`` records the rest."""
        if not self._pending:
            self._lock.enter_context(media_write_lock(self.media_store))
            self._first_stored = time.monotonic()
        try:
            stored = self.media_store.write_bytes(encode_jpeg(pixels, self.quality))
        except BaseException:
            if not self._pending:
                self._lock.close()
            raise
        height, width = pixels.shape[:2]
        sha256 = stored.sha256 if self._bookkeeping else None
        still = NewStill(timestamp, frame_number, width, height, stored.key, stored.size, sha256)
        self._pending.append(_Pending(frame_number, still))
        full = len(self._pending) >= BATCH_STILLS
        if full or time.monotonic() - self._first_stored >= BATCH_SECONDS:
            return self.flush()
        return []

    def flush(self) -> list[Recorded]:
        """Record the stills waiting, in one transaction; on failure their files are deleted.

        When the store is full, the newest stills are given up (their files deleted, which
        makes room) until the rest can be recorded; those are kept and the error is raised.
        """
        pending, self._pending = self._pending, []
        if not pending:
            return []
        try:
            results, error = self._record(pending)
        finally:
            self._lock.close()
        done = []
        for item, recorded in zip(pending, results, strict=True):
            if not recorded.created:  # another writer recorded this timestamp meanwhile
                self.media_store.delete(item.still.file_path)
            self._known[recorded.frame.timestamp_seconds] = recorded.frame
            done.append((item.n, _result(recorded)))
        if error is not None:
            raise error
        return done

    def _record(
        self, pending: list[_Pending]
    ) -> tuple[list[FrameRecordResult], StorageError | None]:
        """The results of recording ``pending`` (shortened from its end while the store cannot
        take it all) and the storage error that cost stills, if any."""
        error: StorageError | None = None
        given_up = 0
        while True:
            stills = [p.still for p in pending]
            try:
                results = record_frames(self.uow_factory, self.actor, self.video.id, stills)
            except StorageError as exc:
                error = error or exc
                if len(pending) == 1:
                    self._discard([pending[0].still.file_path])
                    raise error from None
                self._discard([pending.pop().still.file_path])
                given_up += 1
            except BaseException:
                self._discard([p.still.file_path for p in pending])
                raise
            else:
                if error is None:
                    return results, None
                why = "the disk holding it is full" if DISK_FULL in str(error) else "it failed"
                kept = StorageError(
                    f"The local store could not record the last {given_up} still(s) of this "
                    f"batch, {why}; the {len(results)} before them were recorded."
                )
                kept.__cause__ = error
                return results, kept

    def _discard(self, keys: list[str]) -> None:
        # After an interrupt the commit may or may not have happened: keep the files rows use.
        try:
            with self.uow_factory() as uow:
                query = select(Media.file_path).where(Media.file_path.in_(keys))
                used = set(uow.session.scalars(query))
        except Exception:
            return  # unknown: keeping a file is safe, maintenance sets an orphan aside
        for key in keys:
            if key not in used:
                self.media_store.delete(key)


def _result(recorded: FrameRecordResult) -> ExtractionResult:
    return still_result(
        recorded.frame,
        created=recorded.created,
        reactivated=recorded.reactivated,
        cleared=recorded.cleared_annotations,
        message=recorded.message,
    )
