"""Frames: stills taken from a video, each a media row of type frame plus a frames row.

Stills are recorded by ``frame_records.py``; here they are found, listed and deleted. A still's
place in its video, ``frame_index``, is derived from its timestamp (``frame_timing.py``);
``frame_number`` is written, never read.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from iamedic_desktop.core.errors import InvalidInputError, StorageError
from iamedic_desktop.models import Frame, Media, MediaType
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.schemas.media import FrameDTO
from iamedic_desktop.services.frame_timing import FrameTiming, frame_index, video_timing
from iamedic_desktop.services.media_names import still_display_name
from iamedic_desktop.services.media_records import media_dto
from iamedic_desktop.services.media_rules import (
    round_timestamp,
)
from iamedic_desktop.services.permissions import (
    load_frame_for_actor,
    load_media_for_actor,
    require_doctor_role,
)
from iamedic_desktop.services.transactions import commit_or_conflict
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)

# --- queries ----------------------------------------------------------------------------------


def frames_at(
    session: Session, video_id: uuid.UUID, timestamps: Collection[float]
) -> dict[float, Frame]:
    """The frames row at each of these timestamps of the video that has one (one query): an
    active one, else the oldest (the web may hold duplicates)."""
    rows = session.scalars(
        select(Frame)
        .where(Frame.video_media_id == video_id, Frame.timestamp_seconds.in_(list(timestamps)))
        .order_by(Frame.is_active.desc(), Frame.created_at, Frame.id)
    )
    found: dict[float, Frame] = {}
    for frame in rows:
        found.setdefault(frame.timestamp_seconds, frame)
    return found


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


def load_video(session: Session, actor: Actor, video_media_id: object) -> Media:
    """One of the actor's videos; anything else is refused (stills come from videos)."""
    video = load_media_for_actor(session, actor, video_media_id)
    if video.media_type is not MediaType.VIDEO:
        raise InvalidInputError(
            f"'{video.filename}' is {video.media_type.value}, not a video; "
            "stills are taken from videos."
        )
    return video


def still_of(session: Session, frame: Frame) -> Media:
    """The still (media row) of a frames row."""
    still = session.get(Media, frame.frame_media_id)
    if still is None:  # the FK cascades, so only a broken store gets here
        raise StorageError(f"The still of frame {frame.id} is missing from the store.")
    return still


# --- services ---------------------------------------------------------------------------------


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
        video = load_video(session, actor, video_media_id)
        frame = frames_at(session, video.id, [timestamp]).get(timestamp)
        return _dto(session, frame, still_of(session, frame)) if frame is not None else None


def get_frame(uow_factory: UnitOfWorkFactory, actor: Actor, frame_id: str | uuid.UUID) -> FrameDTO:
    """One of the actor's active frames."""
    with uow_factory() as uow:
        session = uow.session
        require_doctor_role(session, actor)
        frame = load_frame_for_actor(session, actor, frame_id)
        return _dto(session, frame, still_of(session, frame))


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
        video = load_video(session, actor, video_media_id)
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
        still = still_of(session, frame)
        frame.is_active = False
        still.is_active = False
        commit_or_conflict(
            uow, f"The still at {frame.timestamp_seconds:.3f} s could not be deleted."
        )
        dto = _dto(session, frame, still)
        log.info("✅ Still at %.3f s deleted (soft) (frame %s)", dto.timestamp_seconds, dto.id)
    return dto
