"""Stores the stills of one video: JPEG file first, then its rows, honouring the same-timestamp
rule of the spec (a still already at that timestamp is reused, a deleted one restored).

Used by the extraction services (``extraction.py``). Threading: a writer belongs to the worker
thread that made it; it decodes nothing and encodes the pixels it is given.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import inspect, select

from iamedic_desktop.media.frame_source import RGBFrame
from iamedic_desktop.media.still_encoder import DEFAULT_QUALITY, encode_jpeg
from iamedic_desktop.media.storage import MediaStore, StoredFile
from iamedic_desktop.models import Media
from iamedic_desktop.models.local import MediaFile
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.schemas.extraction import ExtractionResult
from iamedic_desktop.schemas.media import FrameDTO, MediaDTO
from iamedic_desktop.services.frames import record_frame
from iamedic_desktop.services.maintenance import media_write_lock
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)


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

    def existing(self, timestamp: float) -> FrameDTO | None:
        """The still already recorded at ``timestamp`` (active or deleted), if any."""
        return self._known.get(timestamp)

    def keep(self, frame: FrameDTO) -> ExtractionResult:
        """The answer for a timestamp that already has a still: it, restored if deleted."""
        if is_active(frame):
            message = f"A still at {frame.timestamp_seconds:.3f} s of this video already exists."
            return still_result(frame, created=False, reactivated=False, cleared=0, message=message)
        # record_frame restores a deleted still (clearing its annotations); the key and size
        # passed are the still's own, so nothing new is stored.
        recorded = record_frame(
            self.uow_factory,
            self.actor,
            self.video.id,
            timestamp_seconds=frame.timestamp_seconds,
            frame_number=frame.frame_number,
            width=frame.width,
            height=frame.height,
            file_path=frame.still.file_path,
            file_size=frame.still.file_size,
        )
        self._known[frame.timestamp_seconds] = recorded.frame
        return still_result(
            recorded.frame,
            created=recorded.created,
            reactivated=recorded.reactivated,
            cleared=recorded.cleared_annotations,
            message=recorded.message,
        )

    def save(self, frame_number: int, timestamp: float, pixels: RGBFrame) -> ExtractionResult:
        """Encode and store a new still, then record it; the file never outlives a failure."""
        # The write lock (shared) keeps another process's start-up maintenance from taking the
        # new file for an orphan between its write and its row's commit.
        with media_write_lock(self.media_store):
            stored = self.media_store.write_bytes(encode_jpeg(pixels, self.quality))
            height, width = pixels.shape[:2]
            try:
                recorded = record_frame(
                    self.uow_factory,
                    self.actor,
                    self.video.id,
                    timestamp_seconds=timestamp,
                    frame_number=frame_number,
                    width=width,
                    height=height,
                    file_path=stored.key,
                    file_size=stored.size,
                )
            except BaseException:
                if not self._referenced(stored.key):
                    self.media_store.delete(stored.key)
                raise
        if not recorded.created:  # another writer recorded this timestamp meanwhile
            self.media_store.delete(stored.key)
        else:
            self._remember(stored)
        self._known[recorded.frame.timestamp_seconds] = recorded.frame
        return still_result(
            recorded.frame,
            created=recorded.created,
            reactivated=recorded.reactivated,
            cleared=recorded.cleared_annotations,
            message=recorded.message,
        )

    def _referenced(self, key: str) -> bool:
        # After an interrupt the commit may or may not have happened: keep a file a row uses.
        try:
            with self.uow_factory() as uow:
                found = uow.session.scalars(select(Media.id).where(Media.file_path == key))
                return found.first() is not None
        except Exception:
            return False

    def _remember(self, stored: StoredFile) -> None:
        if not self._bookkeeping:
            return
        try:
            with self.uow_factory() as uow:
                uow.session.add(
                    MediaFile(file_path=stored.key, sha256=stored.sha256, size=stored.size)
                )
                uow.commit()
        except Exception:
            # The still and its rows are complete; only the hash record is missing.
            log.warning("⚠️ The SHA-256 of still %s was not recorded", stored.key, exc_info=True)
