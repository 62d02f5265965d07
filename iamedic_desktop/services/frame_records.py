"""Recording stills: the rows of JPEGs already stored, one still or a batch in one transaction.

The media pipeline decodes frames, stores their JPEGs, then records them here. A second still
at the same timestamp of the same video is not made: the existing one is returned, and a
soft-deleted one is reactivated with its annotations (not its predictions) cleared, as the web
does, so stale labels never come back silently. ``record_frames`` records many stills of one
video with one role check, one video load and one commit (an extraction's stills come in
batches); each still's SHA-256 goes into the store's file bookkeeping in the same transaction.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from iamedic_desktop.models import Frame, Media, MediaType, UploadStatus
from iamedic_desktop.models.local import MediaFile
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.schemas.media import FrameRecordResult
from iamedic_desktop.services.annotations import clear_annotations
from iamedic_desktop.services.frame_timing import FrameTiming, video_timing
from iamedic_desktop.services.frames import frame_dto, frames_at, load_video, still_of
from iamedic_desktop.services.media_records import file_in_use
from iamedic_desktop.services.media_rules import (
    check_file_path,
    check_file_size,
    check_image_size,
    round_timestamp,
)
from iamedic_desktop.services.permissions import require_doctor_role
from iamedic_desktop.services.transactions import commit_or_conflict, flush_or_conflict
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from iamedic_desktop.services.validation import check_positive_int

log = logging.getLogger(__name__)

STILL_MIME_TYPE = "image/jpeg"


@dataclass(frozen=True)
class NewStill:
    """A stored JPEG to record as the still at ``timestamp_seconds`` of a video.

    ``sha256``: the file's digest for the store's bookkeeping (``media_files``), or None where
    the store keeps none (a bare central database).
    """

    timestamp_seconds: float
    frame_number: int
    width: int
    height: int
    file_path: str
    file_size: int
    sha256: str | None = None

    def checked(self) -> NewStill:
        """The same still with its values checked and the timestamp rounded to the ms."""
        width, height = check_image_size(self.width, self.height)
        return NewStill(
            timestamp_seconds=round_timestamp(self.timestamp_seconds),
            frame_number=check_positive_int(
                self.frame_number, what="frame number", allow_zero=True
            ),
            width=width,
            height=height,
            file_path=check_file_path(self.file_path),
            file_size=check_file_size(self.file_size),
            sha256=self.sha256,
        )


def still_filename(video_media_id: uuid.UUID, timestamp_seconds: float) -> str:
    """The web's still name: ``frame_<video id>_<seconds, 3 decimals>s_<8 hex>.jpg``."""
    seconds = round(timestamp_seconds, 3) + 0.0  # -0.0 (from "-0", or -0.0004) names 0.000
    return f"frame_{video_media_id}_{seconds:.3f}s_{secrets.token_hex(4)}.jpg"


def record_frames(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    video_media_id: str | uuid.UUID,
    stills: Sequence[NewStill],
) -> list[FrameRecordResult]:
    """Record the stills (JPEGs already stored) of one of the actor's videos, all or none.

    One result per still, in order. Where a still at that timestamp exists it is returned
    (reactivated if it was deleted) and ``created`` is false: that still's new file is then
    unused and may be discarded. Nothing is recorded when any still is refused.
    """
    checked = [still.checked() for still in stills]
    if not checked:
        return []
    with uow_factory() as uow:
        session = uow.session
        require_doctor_role(session, actor)
        video = load_video(session, actor, video_media_id)
        timing = video_timing(session, video.id)
        batch = _Batch(session, video, checked)
        outcomes = [batch.record(still) for still in checked]
        batch.insert()
        results = [outcome.result(timing) for outcome in outcomes]
        what = "still" if len(checked) == 1 else f"{len(checked)} stills"
        commit_or_conflict(uow, f"The {what} of this video could not be recorded.")
    for r in results:  # the video by its id: a file's own name may carry a patient's
        if r.created or r.reactivated:
            icon = "⚠️" if r.reactivated else "✅"
            log.info("%s %s (frame %s of video %s)", icon, r.message, r.frame.id, video.id)
    return results


@dataclass
class _Outcome:
    """What became of one still of a batch."""

    frame: Frame
    still: Media
    created: bool = False
    reactivated: bool = False
    cleared: int = 0

    def result(self, timing: FrameTiming) -> FrameRecordResult:
        seconds = self.frame.timestamp_seconds
        if self.created:
            message = f"Still at {seconds:.3f} s recorded."
        elif self.reactivated:
            message = (
                f"The deleted still at {seconds:.3f} s was restored; its previous annotations "
                f"were cleared ({self.cleared} removed)."
            )
        else:
            message = f"A still at {seconds:.3f} s of this video already exists."
        return FrameRecordResult(
            frame=frame_dto(self.frame, self.still, timing),
            created=self.created,
            reactivated=self.reactivated,
            cleared_annotations=self.cleared,
            message=message,
        )


class _Batch:
    """The stills of one video recorded in one transaction: found with one query, then the new
    rows inserted together (stills first: the frames rows point at them)."""

    def __init__(self, session: Session, video: Media, stills: list[NewStill]) -> None:
        self.session = session
        self.video = video
        self.found = frames_at(session, video.id, {s.timestamp_seconds for s in stills})
        self.stills: dict[uuid.UUID, Media] = {}  # frame id -> its still, for the batch's own
        keys = [s.file_path for s in stills]
        used = session.execute(
            select(Media.file_path, Media.filename).where(Media.file_path.in_(keys))
        )
        self.used: dict[str, str] = {key: name for key, name in used}  # file -> media name
        self.new_media: list[Media] = []
        self.new_rows: list[Frame | MediaFile] = []

    def record(self, new: NewStill) -> _Outcome:
        """Find, restore or plan the still of ``new``."""
        frame = self.found.get(new.timestamp_seconds)
        if frame is None:
            return self._create(new)
        still = self.stills.get(frame.id) or still_of(self.session, frame)
        if frame.is_active and still.is_active:
            return _Outcome(frame, still)
        frame.is_active = True
        still.is_active = True
        label, boxes = clear_annotations(self.session, still.id)
        cleared = len(boxes) + (1 if label is not None else 0)
        return _Outcome(frame, still, reactivated=True, cleared=cleared)

    def insert(self) -> None:
        """Write the new rows: every still, then every frames row and file digest."""
        what = "The stills of this video could not be recorded."
        self.session.add_all(self.new_media)
        flush_or_conflict(self.session, what)
        self.session.add_all(self.new_rows)
        flush_or_conflict(self.session, what)  # created_at and the rest, for the results

    def _create(self, new: NewStill) -> _Outcome:
        if new.file_path in self.used:  # a purge of one would take the other's file too
            raise file_in_use(new.file_path, self.used[new.file_path])
        video, timestamp = self.video, new.timestamp_seconds
        still = Media(
            id=uuid.uuid4(),
            study_id=video.study_id,
            filename=still_filename(video.id, timestamp),
            file_path=new.file_path,
            file_size=new.file_size,
            mime_type=STILL_MIME_TYPE,
            media_type=MediaType.FRAME,
            upload_status=UploadStatus.UPLOADED,
            is_active=True,
        )
        frame = Frame(
            id=uuid.uuid4(),
            video_media_id=video.id,
            frame_media_id=still.id,
            timestamp_seconds=timestamp,
            frame_number=new.frame_number,
            width=new.width,
            height=new.height,
            is_active=True,
        )
        self.used[new.file_path] = still.filename
        self.found[timestamp] = frame  # a second still of the batch at this time finds it
        self.stills[frame.id] = still
        self.new_media.append(still)
        self.new_rows.append(frame)
        if new.sha256 is not None:
            self.new_rows.append(
                MediaFile(file_path=new.file_path, sha256=new.sha256, size=new.file_size)
            )
        return _Outcome(frame, still, created=True)
