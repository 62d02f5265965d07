"""Model predictions of a media: one probability per model version, one box per class.

Storing is an upsert keyed as centrally: (media, model_version) for the classifier and
(media, model_version, class) for boxes, so running a model again replaces its numbers.
``model_version`` is ``<registered model name> - <version>``, the web's spelling.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.ml.predictor import PredictedBox
from iamedic_desktop.models import (
    Media,
    MediaType,
    PictureBBPrediction,
    PictureClassificationPrediction,
)
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.schemas.predictions import (
    BoxPredictionDTO,
    BoxPredictionIn,
    ClassificationPredictionDTO,
    MediaPredictionsDTO,
)
from iamedic_desktop.services.media_rules import (
    check_bb_class,
    check_model_version,
    check_predicted_box,
    check_probability,
)
from iamedic_desktop.services.permissions import load_media_for_actor, require_doctor_role
from iamedic_desktop.services.prediction_store import replace_box_predictions
from iamedic_desktop.services.transactions import commit_or_conflict
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)

_Box = tuple[str, float, float, float, float, float]

# --- queries ----------------------------------------------------------------------------------


def _classification(
    session: Session, media_id: uuid.UUID, model_version: str
) -> PictureClassificationPrediction | None:
    return session.scalars(
        select(PictureClassificationPrediction).where(
            PictureClassificationPrediction.media_id == media_id,
            PictureClassificationPrediction.model_version == model_version,
        )
    ).one_or_none()


def _boxes(
    session: Session, media_id: uuid.UUID, model_version: str | None = None
) -> list[PictureBBPrediction]:
    query = select(PictureBBPrediction).where(PictureBBPrediction.media_id == media_id)
    if model_version is not None:
        query = query.where(PictureBBPrediction.model_version == model_version)
    return list(
        session.scalars(
            query.order_by(PictureBBPrediction.model_version, PictureBBPrediction.bb_class)
        )
    )


def _classifications(
    session: Session, media_id: uuid.UUID
) -> list[PictureClassificationPrediction]:
    return list(
        session.scalars(
            select(PictureClassificationPrediction)
            .where(PictureClassificationPrediction.media_id == media_id)
            .order_by(PictureClassificationPrediction.model_version)
        )
    )


# --- helpers ----------------------------------------------------------------------------------


def _check_boxes(boxes: Sequence[BoxPredictionIn]) -> list[_Box]:
    checked: list[_Box] = []
    seen: set[str] = set()
    for box in boxes:
        cls = check_bb_class(box.bb_class)
        if cls in seen:
            raise InvalidInputError(f"The model gave two '{cls}' boxes; one per class is stored.")
        seen.add(cls)
        confidence = check_probability(box.confidence, what=f"confidence of the '{cls}' box")
        x, y, w, h = check_predicted_box(box.x_min, box.y_min, box.width, box.height)
        checked.append((cls, confidence, x, y, w, h))
    return checked


def _load_media(session: Session, actor: Actor, media_id: object) -> Media:
    require_doctor_role(session, actor)
    return load_media_for_actor(session, actor, media_id)


# --- services ---------------------------------------------------------------------------------


def store_classification_prediction(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    media_id: str | uuid.UUID,
    *,
    prediction: float,
    model_version: str,
) -> ClassificationPredictionDTO:
    """Store (or replace) the classifier's probability for a media and model version."""
    probability = check_probability(prediction, what="prediction")
    version = check_model_version(model_version)
    with uow_factory() as uow:
        session = uow.session
        media = _load_media(session, actor, media_id)
        row = _classification(session, media.id, version)
        if row is None:
            row = PictureClassificationPrediction(
                id=uuid.uuid4(),
                media_id=media.id,
                media_type=media.media_type,
                prediction=probability,
                model_version=version,
            )
            session.add(row)
        else:
            row.prediction = probability
        commit_or_conflict(
            uow, f"A prediction of {version} for '{media.filename}' was stored meanwhile."
        )
        dto = ClassificationPredictionDTO.model_validate(row)
        log.info("✅ Prediction %.3f of %s stored for media %s", probability, version, media.id)
    return dto


def store_box_predictions(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    media_id: str | uuid.UUID,
    *,
    model_version: str,
    boxes: Sequence[BoxPredictionIn],
) -> list[BoxPredictionDTO]:
    """Store the box model's boxes for an image or still: the version's set becomes these."""
    version = check_model_version(model_version)
    checked = _check_boxes(boxes)
    with uow_factory() as uow:
        session = uow.session
        media = _load_media(session, actor, media_id)
        if media.media_type is MediaType.VIDEO:
            raise InvalidInputError(
                f"'{media.filename}' is a video; boxes are predicted on images and stills."
            )
        rows, _removed = replace_box_predictions(
            session,
            media,
            version,
            [PredictedBox(cls, confidence, x, y, w, h) for cls, confidence, x, y, w, h in checked],
        )
        commit_or_conflict(uow, f"Boxes of {version} for '{media.filename}' were stored meanwhile.")
        dtos = [BoxPredictionDTO.model_validate(r) for r in rows]
        log.info("✅ %d box prediction(s) of %s stored for media %s", len(dtos), version, media.id)
    return dtos


def list_predictions(
    uow_factory: UnitOfWorkFactory, actor: Actor, media_id: str | uuid.UUID
) -> MediaPredictionsDTO:
    """Every stored prediction of one of the actor's media, by model version."""
    with uow_factory() as uow:
        session = uow.session
        media = _load_media(session, actor, media_id)
        return MediaPredictionsDTO(
            media_id=media.id,
            classifications=[
                ClassificationPredictionDTO.model_validate(r)
                for r in _classifications(session, media.id)
            ],
            boxes=[BoxPredictionDTO.model_validate(r) for r in _boxes(session, media.id)],
        )
