"""Annotation work across frames: the previous annotated frame, whose boxes a clinician copies.

"Previous" follows how a clinician walks through a scan: for a video frame (a still, or a frame
not taken as a still yet) it is the nearest active still of the same video at an earlier frame
that has at least one box, each still placed by its timestamp (``frame_timing.py``; by the
timestamp alone while the video's frame timing is unknown); for an image, the nearest earlier
image of the same study, in import order, that has one. Reading only: copying is done with
``annotations.add_box`` so each copied box is checked, recorded in the outbox and undoable like
a drawn one.
"""

from __future__ import annotations

import logging
import uuid

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Exists, and_, exists, or_, select
from sqlalchemy.orm import Session

from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.models import Frame, Media, MediaType, PictureBBAnnotation
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.schemas.annotations import BoxAnnotationDTO
from iamedic_desktop.services.frame_timing import frame_index, video_timing
from iamedic_desktop.services.media_records import frame_of_still
from iamedic_desktop.services.permissions import load_media_for_actor, require_doctor_role
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from iamedic_desktop.services.validation import check_positive_int

log = logging.getLogger(__name__)


class PreviousBoxesDTO(BaseModel):
    """The boxes of the previous annotated image or still, and where they come from."""

    model_config = ConfigDict(frozen=True)

    source_media_id: uuid.UUID
    source_filename: str
    frame_number: int | None  # the source still's frame index; None: an image, or not known
    boxes: list[BoxAnnotationDTO]


# --- queries ----------------------------------------------------------------------------------


def _has_box() -> Exists:
    return exists(select(PictureBBAnnotation.id).where(PictureBBAnnotation.media_id == Media.id))


def _previous_still(
    session: Session, video_id: uuid.UUID, before: int | None, before_seconds: float | None
) -> tuple[Frame, Media, int | None] | None:
    """The annotated still nearest before frame ``before`` (or, with the video's frame timing
    unknown, before ``before_seconds``), with its frame index."""
    rows = session.execute(
        select(Frame, Media)
        .join(Media, Media.id == Frame.frame_media_id)
        .where(
            Frame.video_media_id == video_id,
            Frame.is_active.is_(True),
            Media.is_active.is_(True),
            _has_box(),
        )
        .order_by(Frame.timestamp_seconds.desc(), Frame.created_at.desc())
    ).all()
    timing = video_timing(session, video_id)
    for frame, still in rows:  # latest first: the first one before is the nearest
        index = frame_index(frame.timestamp_seconds, timing)
        if index is not None and before is not None:
            if index < before:
                return frame, still, index
        elif before_seconds is not None and frame.timestamp_seconds < before_seconds:
            return frame, still, index
    return None


def _previous_image(session: Session, image: Media) -> Media | None:
    earlier = or_(
        Media.created_at < image.created_at,
        and_(Media.created_at == image.created_at, Media.id < image.id),
    )
    return session.scalars(
        select(Media)
        .where(
            Media.study_id == image.study_id,
            Media.media_type == MediaType.IMAGE,
            Media.is_active.is_(True),
            earlier,
            _has_box(),
        )
        .order_by(Media.created_at.desc(), Media.id.desc())
        .limit(1)
    ).first()


def _boxes(session: Session, media_id: uuid.UUID) -> list[BoxAnnotationDTO]:
    rows = session.scalars(
        select(PictureBBAnnotation)
        .where(PictureBBAnnotation.media_id == media_id)
        .order_by(PictureBBAnnotation.bb_class)
    )
    return [BoxAnnotationDTO.model_validate(r) for r in rows]


# --- services ---------------------------------------------------------------------------------


def previous_annotated_boxes(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    media_id: str | uuid.UUID,
    *,
    frame_number: int | None = None,
) -> PreviousBoxesDTO | None:
    """The boxes of the image or still annotated before this one, or None when there is none.

    ``media_id`` is an image, a still, or a video with ``frame_number`` (a frame that may have
    no still yet).
    """
    with uow_factory() as uow:
        session = uow.session
        require_doctor_role(session, actor)
        media = load_media_for_actor(session, actor, media_id)
        if media.media_type is MediaType.IMAGE:
            image = _previous_image(session, media)
            if image is None:
                return None
            return PreviousBoxesDTO(
                source_media_id=image.id,
                source_filename=image.filename,
                frame_number=None,
                boxes=_boxes(session, image.id),
            )
        if media.media_type is MediaType.VIDEO:
            if frame_number is None:
                raise InvalidInputError("Give the frame number of the video frame at hand.")
            video_id, seconds = media.id, None
            number: int | None = check_positive_int(
                frame_number, what="frame number", allow_zero=True
            )
        else:
            frame = frame_of_still(session, media.id)
            if frame is None:
                raise InvalidInputError(f"The still '{media.filename}' has no frames row.")
            video_id, seconds = frame.video_media_id, frame.timestamp_seconds
            number = frame_index(seconds, video_timing(session, video_id))
        found = _previous_still(session, video_id, number, seconds)
        if found is None:
            return None
        _previous, still, index = found
        return PreviousBoxesDTO(
            source_media_id=still.id,
            source_filename=still.filename,
            frame_number=index,
            boxes=_boxes(session, still.id),
        )
