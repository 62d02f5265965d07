"""The clinician's annotations of an image or still: a usefulness label and boxes.

One label per media; one box per (media, class), which is also how a box is named here and
across systems (the web re-creates its boxes on every save, so their ids are not stable).
Boxes and labels belong to images and stills, never to a whole video. As on the web, marking a
media "not useful" removes all its boxes; the removed boxes are returned.
"""

from __future__ import annotations

import logging
import uuid

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from iamedic_desktop.core.errors import ConflictError, InvalidInputError, NotFoundError
from iamedic_desktop.models import Media, MediaType, PictureBBAnnotation
from iamedic_desktop.models import PictureClassificationAnnotation as UsefulnessLabel
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.schemas.annotations import (
    BoxAnnotationDTO,
    MediaAnnotationsDTO,
    UsefulnessChangeDTO,
    UsefulnessDTO,
)
from iamedic_desktop.services.box_sources import (
    BoxSourceDTO,
    forget_sources,
    put_source,
    take_source,
)
from iamedic_desktop.services.media_records import frame_of_still
from iamedic_desktop.services.media_rules import (
    check_bb_class,
    check_box,
    check_image_size,
    check_usefulness,
)
from iamedic_desktop.services.permissions import load_media_for_actor, require_doctor_role
from iamedic_desktop.services.transactions import commit_or_conflict
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)

# --- queries ----------------------------------------------------------------------------------


def _label_of(session: Session, media_id: uuid.UUID) -> UsefulnessLabel | None:
    return session.scalars(
        select(UsefulnessLabel).where(UsefulnessLabel.media_id == media_id)
    ).one_or_none()


def _boxes_of(session: Session, media_id: uuid.UUID) -> list[PictureBBAnnotation]:
    return list(
        session.scalars(
            select(PictureBBAnnotation)
            .where(PictureBBAnnotation.media_id == media_id)
            .order_by(PictureBBAnnotation.bb_class)
        )
    )


def _box_of(session: Session, media_id: uuid.UUID, bb_class: str) -> PictureBBAnnotation | None:
    return session.scalars(
        select(PictureBBAnnotation).where(
            PictureBBAnnotation.media_id == media_id, PictureBBAnnotation.bb_class == bb_class
        )
    ).one_or_none()


# --- helpers ----------------------------------------------------------------------------------


def _box_dto(box: PictureBBAnnotation) -> BoxAnnotationDTO:
    return BoxAnnotationDTO.model_validate(box)


def _remove_boxes(session: Session, media_id: uuid.UUID) -> list[BoxAnnotationDTO]:
    # Row by row (not a bulk DELETE) so the outbox records each removal.
    removed = []
    for box in _boxes_of(session, media_id):
        removed.append(_box_dto(box))
        session.delete(box)
    forget_sources(session, media_id, [box.bb_class for box in removed])
    return removed


def clear_annotations(
    session: Session, media_id: uuid.UUID
) -> tuple[UsefulnessDTO | None, list[BoxAnnotationDTO]]:
    """Remove a media's label and boxes in the caller's transaction; returns what went."""
    label = _label_of(session, media_id)
    removed_label = UsefulnessDTO.model_validate(label) if label is not None else None
    if label is not None:
        session.delete(label)
    return removed_label, _remove_boxes(session, media_id)


def _load_target(session: Session, actor: Actor, media_id: object) -> Media:
    require_doctor_role(session, actor)
    media = load_media_for_actor(session, actor, media_id)
    if media.media_type is MediaType.VIDEO:
        raise InvalidInputError(
            f"'{media.filename}' is a video; annotations go on images and on stills taken "
            "from a video, so take a still first."
        )
    return media


def _image_size(
    session: Session, media: Media, image_width: int | None, image_height: int | None
) -> tuple[int, int]:
    if media.media_type is MediaType.FRAME:
        frame = frame_of_still(session, media.id)
        if frame is not None:  # the frames row knows the still's size: trust it
            return frame.width, frame.height
    if image_width is None or image_height is None:
        raise InvalidInputError(
            "The image size (width and height in pixels) is needed to check that the box "
            "stays inside the image."
        )
    return check_image_size(image_width, image_height)


def _require_box(session: Session, media: Media, bb_class: str) -> PictureBBAnnotation:
    box = _box_of(session, media.id, bb_class)
    if box is None:
        raise NotFoundError(f"'{media.filename}' has no '{bb_class}' box.")
    return box


def _check_flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidInputError(f"Hidden is true or false, not {value!r}.")
    return value


# --- services: reading and the usefulness label -----------------------------------------------


def get_annotations(
    uow_factory: UnitOfWorkFactory, actor: Actor, media_id: str | uuid.UUID
) -> MediaAnnotationsDTO:
    """The label and boxes of one of the actor's images or stills."""
    with uow_factory() as uow:
        session = uow.session
        media = _load_target(session, actor, media_id)
        label = _label_of(session, media.id)
        return MediaAnnotationsDTO(
            media_id=media.id,
            usefulness=UsefulnessDTO.model_validate(label) if label is not None else None,
            boxes=[_box_dto(b) for b in _boxes_of(session, media.id)],
        )


def set_usefulness(
    uow_factory: UnitOfWorkFactory, actor: Actor, media_id: str | uuid.UUID, usefulness: int
) -> UsefulnessChangeDTO:
    """Label a media useful (1) or not (0); "not useful" removes all its boxes, as on the web."""
    value = check_usefulness(usefulness)
    with uow_factory() as uow:
        session = uow.session
        media = _load_target(session, actor, media_id)
        label = _label_of(session, media.id)
        if label is None:
            label = UsefulnessLabel(
                id=uuid.uuid4(), media_id=media.id, media_type=media.media_type, usefulness=value
            )
            session.add(label)
        else:
            label.usefulness = value
        removed = _remove_boxes(session, media.id) if value == 0 else []
        commit_or_conflict(uow, f"'{media.filename}' already has a usefulness label.")
        change = UsefulnessChangeDTO(
            label=UsefulnessDTO.model_validate(label), removed_boxes=removed
        )
        log.info(
            "✅ Media %s labelled %s%s",
            media.id,
            "useful" if value else "not useful",
            f"; {len(removed)} box(es) removed" if removed else "",
        )
    return change


def clear_usefulness(
    uow_factory: UnitOfWorkFactory, actor: Actor, media_id: str | uuid.UUID
) -> UsefulnessDTO | None:
    """Remove a media's usefulness label; returns the removed label (None if there was none)."""
    with uow_factory() as uow:
        session = uow.session
        media = _load_target(session, actor, media_id)
        label = _label_of(session, media.id)
        if label is None:
            return None
        removed = UsefulnessDTO.model_validate(label)
        session.delete(label)
        commit_or_conflict(uow, f"The label of '{media.filename}' could not be removed.")
        log.info("✅ Usefulness label of media %s removed", media.id)
    return removed


# --- services: boxes --------------------------------------------------------------------------


def add_box(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    media_id: str | uuid.UUID,
    *,
    bb_class: str,
    x_min: float,
    y_min: float,
    width: float,
    height: float,
    image_width: int | None = None,
    image_height: int | None = None,
    is_hidden: bool = False,
) -> BoxAnnotationDTO:
    """Draw a box of one class on an image or still (one box per class per media).

    Coordinates are pixels of the stored image. A still's size comes from its frames row; for
    an image the caller gives ``image_width`` and ``image_height``.
    """
    cls = check_bb_class(bb_class)
    hidden = _check_flag(is_hidden)
    with uow_factory() as uow:
        session = uow.session
        media = _load_target(session, actor, media_id)
        size = _image_size(session, media, image_width, image_height)
        x, y, w, h = check_box(x_min, y_min, width, height, *size)
        taken = (
            f"'{media.filename}' already has a '{cls}' box; move or resize that box instead "
            "of adding a second one."
        )
        if _box_of(session, media.id, cls) is not None:
            raise ConflictError(taken)
        box = PictureBBAnnotation(
            id=uuid.uuid4(),
            media_id=media.id,
            media_type=media.media_type,
            bb_class=cls,
            usefulness=1,
            x_min=x,
            y_min=y,
            width=w,
            height=h,
            is_hidden=hidden,
        )
        session.add(box)
        commit_or_conflict(uow, taken)
        dto = _box_dto(box)
        log.info("✅ '%s' box added to media %s", cls, media.id)
    return dto


def update_box(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    media_id: str | uuid.UUID,
    bb_class: str,
    *,
    x_min: float,
    y_min: float,
    width: float,
    height: float,
    image_width: int | None = None,
    image_height: int | None = None,
) -> BoxAnnotationDTO:
    """Move or resize the box of ``bb_class`` on a media, with the same checks as drawing it."""
    cls = check_bb_class(bb_class)
    with uow_factory() as uow:
        session = uow.session
        media = _load_target(session, actor, media_id)
        box = _require_box(session, media, cls)
        size = _image_size(session, media, image_width, image_height)
        box.x_min, box.y_min, box.width, box.height = check_box(x_min, y_min, width, height, *size)
        commit_or_conflict(uow, f"The '{cls}' box of '{media.filename}' could not be saved.")
        dto = _box_dto(box)
        log.info("✅ '%s' box of media %s moved", cls, media.id)
    return dto


def set_box_hidden(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    media_id: str | uuid.UUID,
    bb_class: str,
    hidden: bool,
) -> BoxAnnotationDTO:
    """Hide a box from training exports and statistics (kept), or show it again."""
    cls = check_bb_class(bb_class)
    flag = _check_flag(hidden)
    with uow_factory() as uow:
        session = uow.session
        media = _load_target(session, actor, media_id)
        box = _require_box(session, media, cls)
        if box.is_hidden == flag:
            return _box_dto(box)
        box.is_hidden = flag
        commit_or_conflict(uow, f"The '{cls}' box of '{media.filename}' could not be saved.")
        dto = _box_dto(box)
        log.info("✅ '%s' box of media %s %s", cls, media.id, "hidden" if flag else "shown")
    return dto


def delete_box(
    uow_factory: UnitOfWorkFactory, actor: Actor, media_id: str | uuid.UUID, bb_class: str
) -> BoxAnnotationDTO:
    """Remove the box of ``bb_class`` from a media; returns the removed box."""
    cls = check_bb_class(bb_class)
    with uow_factory() as uow:
        session = uow.session
        media = _load_target(session, actor, media_id)
        box = _require_box(session, media, cls)
        removed = _box_dto(box)
        session.delete(box)
        forget_sources(session, media.id, [cls])
        commit_or_conflict(uow, f"The '{cls}' box of '{media.filename}' could not be removed.")
        log.info("✅ '%s' box removed from media %s", cls, media.id)
    return removed


class BoxClassChangeDTO(BaseModel):
    """A box given another class: the box as it now is, and the prediction credit it lost."""

    model_config = ConfigDict(frozen=True)

    box: BoxAnnotationDTO
    previous_class: str
    source: BoxSourceDTO | None = None


def change_box_class(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    media_id: str | uuid.UUID,
    bb_class: str,
    new_class: str,
    *,
    source: BoxSourceDTO | None = None,
) -> BoxClassChangeDTO:
    """Give the box of ``bb_class`` the class ``new_class`` (free on the media), in place.

    Boxes are known by (media, class) across systems, so this is a removal and an addition in
    one transaction, keeping the place, ``is_hidden`` and ``usefulness``. The box is no longer
    the prediction it may have been accepted from: that credit is dropped and returned, and
    ``source`` (an undo) credits the re-classed box to it again.
    """
    old_cls = check_bb_class(bb_class)
    cls = check_bb_class(new_class)
    with uow_factory() as uow:
        session = uow.session
        media = _load_target(session, actor, media_id)
        old = _require_box(session, media, old_cls)
        taken = (
            f"'{media.filename}' already has a '{cls}' box (one box per class); "
            f"the '{old_cls}' box keeps its class."
        )
        if cls == old_cls:
            return BoxClassChangeDTO(box=_box_dto(old), previous_class=old_cls)
        if _box_of(session, media.id, cls) is not None:
            raise ConflictError(taken)
        lost = take_source(session, media.id, old_cls)
        box = PictureBBAnnotation(
            id=uuid.uuid4(),
            media_id=media.id,
            media_type=media.media_type,
            bb_class=cls,
            usefulness=old.usefulness,
            x_min=old.x_min,
            y_min=old.y_min,
            width=old.width,
            height=old.height,
            is_hidden=old.is_hidden,
        )
        session.delete(old)  # row by row: the outbox records the removal and the addition
        session.flush()
        session.add(box)
        if source is not None:
            put_source(session, media.id, cls, source)
        commit_or_conflict(uow, taken)
        change = BoxClassChangeDTO(box=_box_dto(box), previous_class=old_cls, source=lost)
        log.info("✅ '%s' box of media %s is now '%s'", old_cls, media.id, cls)
    return change
