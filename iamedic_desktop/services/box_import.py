"""The web's "get boxes": a model version's confident predicted boxes become clinician boxes.

Boxes with a confidence above the threshold (0.5) become annotations for the classes the media
has no box of yet; a media labelled "not useful" gets none (marking it so removed its boxes, as
on the web). Each box is credited to its prediction in ``box_sources`` (where the store keeps
them), and everything happens in one transaction: all the boxes or none. A box is clipped to
the image as the canvas shows it; one left under the drawn-box minimum (10 px) is skipped.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from iamedic_desktop.core.errors import InvalidInputError, NotFoundError
from iamedic_desktop.media.image_size import shown_size
from iamedic_desktop.media.storage import MediaStore
from iamedic_desktop.models import Media, MediaType, PictureBBAnnotation, PictureBBPrediction
from iamedic_desktop.models import PictureClassificationAnnotation as UsefulnessLabel
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.schemas.annotations import BoxAnnotationDTO
from iamedic_desktop.schemas.inference import ImportedBoxesDTO, SkippedBoxDTO
from iamedic_desktop.services.box_sources import BoxSourceDTO, keeps_sources, put_source
from iamedic_desktop.services.media_records import frame_of_still
from iamedic_desktop.services.media_rules import (
    MIN_BOX_SIZE,
    check_model_version,
    check_probability,
)
from iamedic_desktop.services.permissions import load_media_for_actor, require_doctor_role
from iamedic_desktop.services.transactions import commit_or_conflict
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)


def _file_size(path: Path) -> tuple[int, int] | None:
    """An image file's size as the canvas shows it (EXIF orientation applied), from its header."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            width, height = shown_size(image)
    except (OSError, UnidentifiedImageError, ValueError):
        return None
    return width, height


def _picture_size(
    session: Session, media: Media, media_store: MediaStore | None
) -> tuple[int, int] | None:
    if media.media_type is MediaType.FRAME:
        frame = frame_of_still(session, media.id)
        if frame is not None:
            return frame.width, frame.height
    if media_store is not None and media_store.exists(media.file_path):
        return _file_size(media_store.path(media.file_path))
    return None  # not known here: boxes are taken as predicted


def _clip(
    box: PictureBBPrediction, size: tuple[int, int] | None
) -> tuple[float, float, float, float]:
    if size is None:
        return box.x_min, box.y_min, box.width, box.height
    width, height = size
    left, top = max(0.0, box.x_min), max(0.0, box.y_min)
    right = min(float(width), box.x_min + box.width)
    bottom = min(float(height), box.y_min + box.height)
    return left, top, right - left, bottom - top


def _predicted(session: Session, media_id: uuid.UUID, version: str) -> list[PictureBBPrediction]:
    return list(
        session.scalars(
            select(PictureBBPrediction)
            .where(
                PictureBBPrediction.media_id == media_id,
                PictureBBPrediction.model_version == version,
            )
            .order_by(PictureBBPrediction.bb_class)
        )
    )


def import_predicted_boxes(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    media_id: str | uuid.UUID,
    model_version: str,
    *,
    threshold: float = 0.5,
    media_store: MediaStore | None = None,
) -> ImportedBoxesDTO:
    """Make the confident predicted boxes of ``model_version`` the clinician's boxes of a media.

    Only classes not annotated yet, never on a media labelled not useful. ``media_store``
    lets an image's size be read from its file, so boxes are clipped to it (a still's size is
    in its frames row).
    """
    version = check_model_version(model_version)
    limit = check_probability(threshold, what="threshold")
    with uow_factory() as uow:
        uow.begin_write()  # "not annotated yet" holds until the commit
        session = uow.session
        require_doctor_role(session, actor)
        media = load_media_for_actor(session, actor, media_id)
        if media.media_type is MediaType.VIDEO:
            raise InvalidInputError(
                f"'{media.filename}' is a video; boxes go on images and stills taken from it."
            )
        predicted = _predicted(session, media.id, version)
        if not predicted:
            raise NotFoundError(
                f"'{media.filename}' has no boxes predicted by {version}: predict it first."
            )
        label = session.scalars(
            select(UsefulnessLabel.usefulness).where(UsefulnessLabel.media_id == media.id)
        ).one_or_none()
        taken = set(
            session.scalars(
                select(PictureBBAnnotation.bb_class).where(PictureBBAnnotation.media_id == media.id)
            )
        )
        size = _picture_size(session, media, media_store)
        made: list[PictureBBAnnotation] = []
        skipped: list[SkippedBoxDTO] = []
        for box in (b for b in predicted if b.confidence > limit):

            def skip(reason: str, box: PictureBBPrediction = box) -> None:
                skipped.append(
                    SkippedBoxDTO(bb_class=box.bb_class, confidence=box.confidence, reason=reason)
                )

            if label == 0:
                skip("the media is labelled not useful, so it has no boxes")
                continue
            if box.bb_class in taken:
                skip("a clinician's box of this class is already there")
                continue
            x, y, w, h = _clip(box, size)
            if w < MIN_BOX_SIZE or h < MIN_BOX_SIZE:
                skip(f"inside the image it is {w:.0f} x {h:.0f} px, under {MIN_BOX_SIZE:g} px")
                continue
            made.append(
                PictureBBAnnotation(
                    id=uuid.uuid4(),
                    media_id=media.id,
                    media_type=media.media_type,
                    bb_class=box.bb_class,
                    usefulness=1,
                    x_min=x,
                    y_min=y,
                    width=w,
                    height=h,
                    is_hidden=False,
                )
            )
            session.add(made[-1])
            put_source(
                session,
                media.id,
                box.bb_class,
                BoxSourceDTO(
                    media_id=media.id,
                    bb_class=box.bb_class,
                    model_version=version,
                    confidence=box.confidence,
                ),
            )
        sources_kept = keeps_sources(session)
        commit_or_conflict(
            uow, f"A box was drawn on '{media.filename}' meanwhile; import the boxes again."
        )
        boxes = [BoxAnnotationDTO.model_validate(row) for row in made]
    message = f"{len(boxes)} box(es) of {version} imported"
    if skipped:
        message += f", {len(skipped)} not imported"
    log.info("✅ %s on media %s", message, media.id)
    return ImportedBoxesDTO(
        media_id=media.id,
        model_version=version,
        threshold=limit,
        boxes=boxes,
        skipped=skipped,
        sources_kept=sources_kept,
        message=message + ".",
    )
