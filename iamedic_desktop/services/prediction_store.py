"""One media's predictions and the label they imply, stored in one transaction.

``predictions.py`` stores a classification and a set of boxes in a commit each; a prediction
run stores both, and maybe the usefulness label, for every media of a study. Here they share
one transaction: a crash never leaves a probability without its boxes or its label, and a
study costs one commit per media instead of three.

The rows are the same as ``predictions.py`` writes (keyed as centrally: (media, model_version)
and (media, model_version, class)), added and removed through the ORM so the outbox records
each. The boxes stored for a (media, model_version) become exactly the boxes given: a class the
model no longer finds is removed, so the stored set is what that version says about the pixels.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from iamedic_desktop.core.errors import ConflictError, InvalidInputError
from iamedic_desktop.ml.predictor import USEFUL_ABOVE, PredictedBox
from iamedic_desktop.models import (
    Media,
    MediaType,
    PictureBBAnnotation,
    PictureBBPrediction,
    PictureClassificationPrediction,
)
from iamedic_desktop.models import PictureClassificationAnnotation as UsefulnessLabel
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.schemas.predictions import BoxPredictionDTO, ClassificationPredictionDTO
from iamedic_desktop.services.media_rules import (
    check_bb_class,
    check_model_version,
    check_predicted_box,
    check_probability,
)
from iamedic_desktop.services.permissions import load_media_for_actor, require_doctor_role
from iamedic_desktop.services.transactions import commit_or_conflict
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory

NOT_USEFUL_WITH_BOXES = (
    "not labelled: the classifier says not useful, but a clinician drew boxes on it, and a "
    "'not useful' label would remove them; label it by hand"
)
ALREADY_LABELLED = "already labelled by a clinician: kept"


@dataclass(frozen=True)
class StoredPredictions:
    """What one media's transaction wrote."""

    classification: ClassificationPredictionDTO
    boxes: list[BoxPredictionDTO] = field(default_factory=list)
    removed_boxes: list[str] = field(default_factory=list)
    label_set: int | None = None
    label_kept: int | None = None
    label_note: str | None = None


def check_boxes(boxes: Sequence[PredictedBox]) -> list[PredictedBox]:
    """The model's boxes, checked as ``predictions.py`` checks them (one per class)."""
    seen: set[str] = set()
    checked = []
    for box in boxes:
        cls = check_bb_class(box.bb_class)
        if cls in seen:
            raise InvalidInputError(f"The model gave two '{cls}' boxes; one per class is stored.")
        seen.add(cls)
        confidence = check_probability(box.confidence, what=f"confidence of the '{cls}' box")
        x, y, w, h = check_predicted_box(box.x_min, box.y_min, box.width, box.height)
        checked.append(PredictedBox(cls, confidence, x, y, w, h))
    return checked


def _classification(
    session: Session, media: Media, version: str, probability: float
) -> PictureClassificationPrediction:
    row = session.scalars(
        select(PictureClassificationPrediction).where(
            PictureClassificationPrediction.media_id == media.id,
            PictureClassificationPrediction.model_version == version,
        )
    ).one_or_none()
    if row is None:
        row = PictureClassificationPrediction(
            id=uuid.uuid4(), media_id=media.id, media_type=media.media_type, model_version=version
        )
        session.add(row)
    row.prediction = probability
    return row


def replace_box_predictions(
    session: Session, media: Media, version: str, boxes: Sequence[PredictedBox]
) -> tuple[list[PictureBBPrediction], list[str]]:
    """Make the stored boxes of (media, version) exactly ``boxes``: classes the model no longer
    finds are removed. Returns the rows kept and the classes removed (caller commits)."""
    existing = {
        row.bb_class: row
        for row in session.scalars(
            select(PictureBBPrediction).where(
                PictureBBPrediction.media_id == media.id,
                PictureBBPrediction.model_version == version,
            )
        )
    }
    rows = []
    for box in boxes:
        row = existing.pop(box.bb_class, None)
        if row is None:
            row = PictureBBPrediction(
                id=uuid.uuid4(),
                media_id=media.id,
                media_type=media.media_type,
                bb_class=box.bb_class,
                model_version=version,
            )
            session.add(row)
        row.confidence = box.confidence
        row.x_min, row.y_min, row.width, row.height = box.x_min, box.y_min, box.width, box.height
        rows.append(row)
    for stale in existing.values():  # row by row: the outbox records each removal
        session.delete(stale)
    return rows, sorted(existing)


def _label(
    session: Session, media: Media, probability: float
) -> tuple[int | None, int | None, str | None]:
    """Set the label from the classifier only where none exists (the web's first prediction).

    Returns (label set, label kept, why none was set).
    """
    label = session.scalars(
        select(UsefulnessLabel).where(UsefulnessLabel.media_id == media.id)
    ).one_or_none()
    if label is not None:
        return None, label.usefulness, ALREADY_LABELLED
    value = 1 if probability > USEFUL_ABOVE else 0
    if value == 0:
        # A model never removes a clinician's work: "not useful" would take the boxes away.
        drawn = session.scalars(
            select(PictureBBAnnotation.id).where(PictureBBAnnotation.media_id == media.id).limit(1)
        ).first()
        if drawn is not None:
            return None, None, NOT_USEFUL_WITH_BOXES
    session.add(
        UsefulnessLabel(
            id=uuid.uuid4(), media_id=media.id, media_type=media.media_type, usefulness=value
        )
    )
    return value, None, None


def store_media_predictions(
    session: Session,
    media: Media,
    *,
    classifier_version: str,
    probability: float,
    box_model_version: str | None,
    boxes: Sequence[PredictedBox],
    set_label: bool,
) -> StoredPredictions:
    """Store an image's or still's probability and boxes (and label) in the caller's transaction.

    The caller has checked the actor, the model versions and the media; it commits. The DTOs
    are built after a flush, so their timestamps are the stored ones.
    """
    if media.media_type is MediaType.VIDEO:
        raise InvalidInputError(
            f"'{media.filename}' is a video; its frames are scored, not the video itself."
        )
    value = check_probability(probability, what="prediction")
    checked = check_boxes(boxes)
    row = _classification(session, media, classifier_version, value)
    box_rows: list[PictureBBPrediction] = []
    removed: list[str] = []
    if box_model_version is not None:
        box_rows, removed = replace_box_predictions(session, media, box_model_version, checked)
    label_set, label_kept, note = _label(session, media, value) if set_label else (None,) * 3
    session.flush()
    return StoredPredictions(
        classification=ClassificationPredictionDTO.model_validate(row),
        boxes=[BoxPredictionDTO.model_validate(b) for b in box_rows],
        removed_boxes=removed,
        label_set=label_set,
        label_kept=label_kept,
        label_note=note,
    )


def store_predictions(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    media_id: uuid.UUID,
    *,
    classifier_version: str,
    probability: float,
    box_model_version: str | None,
    boxes: Sequence[PredictedBox],
    set_label: bool,
) -> StoredPredictions:
    """``store_media_predictions`` for one of the actor's media, in a transaction of its own."""
    classifier_version = check_model_version(classifier_version)
    if box_model_version is not None:
        box_model_version = check_model_version(box_model_version)
    for attempt in (1, 2):  # a label or a row synced in meanwhile: look again once
        try:
            with uow_factory() as uow:
                uow.begin_write()  # the "no label yet" check holds until the commit
                session = uow.session
                require_doctor_role(session, actor)
                media = load_media_for_actor(session, actor, media_id)
                stored = store_media_predictions(
                    session,
                    media,
                    classifier_version=classifier_version,
                    probability=probability,
                    box_model_version=box_model_version,
                    boxes=boxes,
                    set_label=set_label,
                )
                commit_or_conflict(uow, f"Predictions for '{media.filename}' clashed.")
                return stored
        except ConflictError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")
