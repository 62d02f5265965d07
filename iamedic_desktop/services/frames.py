"""Frames: stills taken from a video, each a media row of type frame plus a frames row.

The media pipeline decodes the frame, stores its JPEG, then calls ``record_frame``. A second
still at the same timestamp of the same video is not made: the existing one is returned, and a
soft-deleted one is reactivated with its annotations (not its predictions) cleared, as the web
does, so stale labels never come back silently. A still's place in its video, ``frame_index``,
is derived from its timestamp (``frame_timing.py``); ``frame_number`` is written, never read.
"""

from __future__ import annotations

import logging
import secrets
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from iamedic_desktop.core.errors import InvalidInputError, StorageError
from iamedic_desktop.models import Frame, Media, MediaType, UploadStatus
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.schemas.media import FrameDTO, FrameRecordResult
from iamedic_desktop.services.annotations import clear_annotations
from iamedic_desktop.services.frame_timing import FrameTiming, frame_index, video_timing
from iamedic_desktop.services.media_names import still_display_name
from iamedic_desktop.services.media_records import media_dto, require_file_unused
from iamedic_desktop.services.media_rules import (
    check_file_path,
    check_file_size,
    check_image_size,
    round_timestamp,
)
from iamedic_desktop.services.permissions import (
    load_frame_for_actor,
    load_media_for_actor,
    require_doctor_role,
)
from iamedic_desktop.services.transactions import commit_or_conflict
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from iamedic_desktop.services.validation import check_positive_int

log = logging.getLogger(__name__)

STILL_MIME_TYPE = "image/jpeg"

# --- queries ----------------------------------------------------------------------------------


def _frame_at(session: Session, video_id: uuid.UUID, timestamp: float) -> Frame | None:
    # The web may hold duplicates; an active one wins, then the oldest.
    return session.scalars(
        select(Frame)
        .where(Frame.video_media_id == video_id, Frame.timestamp_seconds == timestamp)
        .order_by(Frame.is_active.desc(), Frame.created_at, Frame.id)
        .limit(1)
    ).first()


def _video_frames(
    session: Session, video_id: uuid.UUID, include_deleted: bool
) -> list[tuple[Frame, Media]]:
    query = (
        select(Frame, Media)
        .join(Media, Media.id == Frame.frame_media_id)
        .where(Frame.video_media_id == video_id)
    )
    if not include_deleted:
        query = query.where(Frame.is_active.is_(True), Media.is_active.is_(True))
    rows = session.execute(query.order_by(Frame.timestamp_seconds, Frame.created_at))
    return [(frame, still) for frame, still in rows]


# --- helpers ----------------------------------------------------------------------------------


def still_filename(video_media_id: uuid.UUID, timestamp_seconds: float) -> str:
    """The web's still name: ``frame_<video id>_<seconds, 3 decimals>s_<8 hex>.jpg``."""
    seconds = round(timestamp_seconds, 3) + 0.0  # -0.0 (from "-0", or -0.0004) names 0.000
    return f"frame_{video_media_id}_{seconds:.3f}s_{secrets.token_hex(4)}.jpg"


def frame_dto(frame: Frame, still: Media, timing: FrameTiming) -> FrameDTO:
    """The DTO of a frames row with its still, placed in its video by ``timing``."""
    index = frame_index(frame.timestamp_seconds, timing)
    return FrameDTO(
        id=frame.id,
        video_media_id=frame.video_media_id,
        frame_media_id=frame.frame_media_id,
        timestamp_seconds=frame.timestamp_seconds,
        frame_number=frame.frame_number,
        frame_index=index,
        width=frame.width,
        height=frame.height,
        is_active=frame.is_active,
        created_at=frame.created_at,
        updated_at=frame.updated_at,
        still=media_dto(still, still_display_name(frame.timestamp_seconds, index)),
    )


def _dto(session: Session, frame: Frame, still: Media) -> FrameDTO:
    return frame_dto(frame, still, video_timing(session, frame.video_media_id))


def _load_video(session: Session, actor: Actor, video_media_id: object) -> Media:
    video = load_media_for_actor(session, actor, video_media_id)
    if video.media_type is not MediaType.VIDEO:
        raise InvalidInputError(
            f"'{video.filename}' is {video.media_type.value}, not a video; "
            "stills are taken from videos."
        )
    return video


def _still(session: Session, frame: Frame) -> Media:
    still = session.get(Media, frame.frame_media_id)
    if still is None:  # the FK cascades, so only a broken store gets here
        raise StorageError(f"The still of frame {frame.id} is missing from the store.")
    return still


# --- services ---------------------------------------------------------------------------------


def record_frame(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    video_media_id: str | uuid.UUID,
    *,
    timestamp_seconds: float,
    frame_number: int,
    width: int,
    height: int,
    file_path: str,
    file_size: int,
) -> FrameRecordResult:
    """Record the still at ``timestamp_seconds`` (rounded to the ms) of one of the actor's videos.

    The JPEG must already be stored under ``file_path``. When a still at that timestamp exists,
    it is returned (reactivated if it was deleted) and ``created`` is false: the new file is
    then unused and may be discarded.
    """
    timestamp = round_timestamp(timestamp_seconds)
    number = check_positive_int(frame_number, what="frame number", allow_zero=True)
    size_w, size_h = check_image_size(width, height)
    key = check_file_path(file_path)
    size = check_file_size(file_size)
    with uow_factory() as uow:
        session = uow.session
        require_doctor_role(session, actor)
        video = _load_video(session, actor, video_media_id)
        frame = _frame_at(session, video.id, timestamp)
        if frame is not None:
            still = _still(session, frame)
            if frame.is_active and still.is_active:
                message = f"A still at {timestamp:.3f} s of this video already exists."
                return FrameRecordResult(
                    frame=_dto(session, frame, still),
                    created=False,
                    reactivated=False,
                    cleared_annotations=0,
                    message=message,
                )
            frame.is_active = True
            still.is_active = True
            label, boxes = clear_annotations(session, still.id)
            cleared = len(boxes) + (1 if label is not None else 0)
            commit_or_conflict(uow, f"The still at {timestamp:.3f} s could not be restored.")
            message = (
                f"The deleted still at {timestamp:.3f} s was restored; its previous annotations "
                f"were cleared ({cleared} removed)."
            )
            result = FrameRecordResult(
                frame=_dto(session, frame, still),
                created=False,
                reactivated=True,
                cleared_annotations=cleared,
                message=message,
            )
            log.info("⚠️ %s (frame %s)", message, frame.id)
            return result
        require_file_unused(session, key)
        still = Media(
            id=uuid.uuid4(),
            study_id=video.study_id,
            filename=still_filename(video.id, timestamp),
            file_path=key,
            file_size=size,
            mime_type=STILL_MIME_TYPE,
            media_type=MediaType.FRAME,
            upload_status=UploadStatus.UPLOADED,
            is_active=True,
        )
        session.add(still)
        session.flush()  # the still's row must precede the frames row that points at it
        frame = Frame(
            id=uuid.uuid4(),
            video_media_id=video.id,
            frame_media_id=still.id,
            timestamp_seconds=timestamp,
            frame_number=number,
            width=size_w,
            height=size_h,
            is_active=True,
        )
        session.add(frame)
        commit_or_conflict(uow, f"The still at {timestamp:.3f} s could not be recorded.")
        dto = _dto(session, frame, still)
        log.info(
            "✅ Still at %.3f s of '%s' recorded (frame %s)", timestamp, video.filename, dto.id
        )
    return FrameRecordResult(
        frame=dto,
        created=True,
        reactivated=False,
        cleared_annotations=0,
        message=f"Still at {timestamp:.3f} s recorded.",
    )


def find_frame(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    video_media_id: str | uuid.UUID,
    timestamp_seconds: float,
) -> FrameDTO | None:
    """The still at this timestamp of the video, active or deleted, or None (no file needed)."""
    timestamp = round_timestamp(timestamp_seconds)
    with uow_factory() as uow:
        session = uow.session
        require_doctor_role(session, actor)
        video = _load_video(session, actor, video_media_id)
        frame = _frame_at(session, video.id, timestamp)
        return _dto(session, frame, _still(session, frame)) if frame is not None else None


def get_frame(uow_factory: UnitOfWorkFactory, actor: Actor, frame_id: str | uuid.UUID) -> FrameDTO:
    """One of the actor's active frames."""
    with uow_factory() as uow:
        session = uow.session
        require_doctor_role(session, actor)
        frame = load_frame_for_actor(session, actor, frame_id)
        return _dto(session, frame, _still(session, frame))


def list_frames(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    video_media_id: str | uuid.UUID,
    *,
    include_deleted: bool = False,
) -> list[FrameDTO]:
    """A video's stills in timestamp order."""
    with uow_factory() as uow:
        session = uow.session
        require_doctor_role(session, actor)
        video = _load_video(session, actor, video_media_id)
        timing = video_timing(session, video.id)
        return [
            frame_dto(f, s, timing) for f, s in _video_frames(session, video.id, include_deleted)
        ]


def delete_frame(
    uow_factory: UnitOfWorkFactory, actor: Actor, frame_id: str | uuid.UUID
) -> FrameDTO:
    """Soft-delete a frame: its frames row and its still; files and annotations are kept."""
    with uow_factory() as uow:
        session = uow.session
        require_doctor_role(session, actor)
        frame = load_frame_for_actor(session, actor, frame_id)
        still = _still(session, frame)
        frame.is_active = False
        still.is_active = False
        commit_or_conflict(
            uow, f"The still at {frame.timestamp_seconds:.3f} s could not be deleted."
        )
        dto = _dto(session, frame, still)
        log.info("✅ Still at %.3f s deleted (soft) (frame %s)", dto.timestamp_seconds, dto.id)
    return dto
