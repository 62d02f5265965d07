"""Prediction services on SQLite and PostgreSQL: upserts, validation, media_type copy."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.models import (
    MediaType,
    OutboxEntry,
    PictureBBPrediction,
    PictureClassificationPrediction,
)
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.schemas.predictions import BoxPredictionIn
from iamedic_desktop.services import predictions
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from tests.factories import (
    BOX_MODEL_VERSION,
    CLASSIFIER_VERSION,
    actor_for,
    make_doctor,
    make_frame,
    make_media,
    make_study,
    seeding,
    store_snapshot,
)


@dataclass(frozen=True)
class Setup:
    """A doctor's image, video and still."""

    doctor: Actor
    image_id: uuid.UUID
    video_id: uuid.UUID
    still_id: uuid.UUID


@pytest.fixture
def setup(uow_factory: UnitOfWorkFactory) -> Setup:
    with seeding(uow_factory) as session:
        user = make_doctor(session)
        study = make_study(session, user)
        image = make_media(session, study)
        video = make_media(session, study, media_type=MediaType.VIDEO)
        frame = make_frame(session, video)
    return Setup(actor_for(user), image.id, video.id, frame.frame_media_id)


def _box(bb_class: str = "CM", **overrides: Any) -> BoxPredictionIn:
    fields: dict[str, Any] = {
        "bb_class": bb_class,
        "confidence": 0.7,
        "x_min": 10.0,
        "y_min": 12.0,
        "width": 30.0,
        "height": 20.0,
    }
    fields.update(overrides)
    return BoxPredictionIn(**fields)


def test_classification_upserts_per_model_version(
    uow_factory: UnitOfWorkFactory, setup: Setup
) -> None:
    store = predictions.store_classification_prediction
    first = store(
        uow_factory, setup.doctor, setup.still_id, prediction=0.4, model_version=CLASSIFIER_VERSION
    )
    assert first.media_type is MediaType.FRAME
    again = store(
        uow_factory, setup.doctor, setup.still_id, prediction=1, model_version=CLASSIFIER_VERSION
    )
    assert (again.id, again.prediction) == (first.id, 1.0)
    assert again.updated_at > first.updated_at
    other = store(
        uow_factory,
        setup.doctor,
        setup.still_id,
        prediction=0.0,
        model_version="frame_classifier_224x224 - 4",
    )
    listed = predictions.list_predictions(uow_factory, setup.doctor, setup.still_id)
    assert [c.id for c in listed.classifications] == [first.id, other.id]
    with uow_factory() as uow:
        rows = uow.session.execute(
            select(
                PictureClassificationPrediction.model_version,
                PictureClassificationPrediction.prediction,
            )
        ).all()
    assert sorted(tuple(r) for r in rows) == [
        (CLASSIFIER_VERSION, 1.0),
        ("frame_classifier_224x224 - 4", 0.0),
    ]


@pytest.mark.parametrize(
    ("prediction", "model_version", "words"),
    [
        (1.01, CLASSIFIER_VERSION, "between 0 and 1"),
        (-0.2, CLASSIFIER_VERSION, "between 0 and 1"),
        (0.5, "frame_classifier_224x224-3", "<model name> - <version>"),
        (0.5, "frame_classifier_224x224 v3", "<model name> - <version>"),
    ],
)
def test_bad_classification_changes_nothing(
    uow_factory: UnitOfWorkFactory,
    setup: Setup,
    prediction: float,
    model_version: str,
    words: str,
) -> None:
    before = store_snapshot(uow_factory)
    with pytest.raises(InvalidInputError, match=words):
        predictions.store_classification_prediction(
            uow_factory,
            setup.doctor,
            setup.image_id,
            prediction=prediction,
            model_version=model_version,
        )
    assert store_snapshot(uow_factory) == before


def test_a_model_run_replaces_its_versions_boxes(
    uow_factory: UnitOfWorkFactory, setup: Setup
) -> None:
    """Running a version again: a class it finds again keeps its row with the new numbers, a
    class it no longer finds is removed (the version's set is what the model says now)."""
    store = predictions.store_box_predictions
    first = store(
        uow_factory,
        setup.doctor,
        setup.image_id,
        model_version=BOX_MODEL_VERSION,
        boxes=[_box("CM"), _box("nasal bone", x_min=-2.0)],
    )
    assert [b.bb_class for b in first] == ["CM", "nasal bone"]
    assert all(b.media_type is MediaType.IMAGE for b in first)
    second = store(
        uow_factory,
        setup.doctor,
        setup.image_id,
        model_version=BOX_MODEL_VERSION,
        boxes=[_box("CM", confidence=0.95, width=44.0)],
    )
    assert second[0].id == first[0].id
    assert (second[0].confidence, second[0].width) == (0.95, 44.0)
    listed = predictions.list_predictions(uow_factory, setup.doctor, setup.image_id)
    assert {(b.bb_class, b.confidence) for b in listed.boxes} == {("CM", 0.95)}
    with uow_factory() as uow:
        assert len(uow.session.scalars(select(PictureBBPrediction.id)).all()) == 1


@pytest.mark.parametrize(
    ("boxes", "model_version", "words"),
    [
        ([_box("CM"), _box("cm")], BOX_MODEL_VERSION, "Did you mean 'CM'"),
        ([_box("CM"), _box("femur")], BOX_MODEL_VERSION, "not a box class"),
        ([_box("CM"), _box("CM")], BOX_MODEL_VERSION, "two 'CM' boxes"),
        ([_box("NT", confidence=1.5)], BOX_MODEL_VERSION, "between 0 and 1"),
        ([_box("NT", width=0.0)], BOX_MODEL_VERSION, "positive size"),
        ([_box("NT")], "boxes", "<model name> - <version>"),
    ],
)
def test_bad_box_predictions_change_nothing(
    uow_factory: UnitOfWorkFactory,
    setup: Setup,
    boxes: list[BoxPredictionIn],
    model_version: str,
    words: str,
) -> None:
    before = store_snapshot(uow_factory)
    with pytest.raises(InvalidInputError, match=words):
        predictions.store_box_predictions(
            uow_factory, setup.doctor, setup.image_id, model_version=model_version, boxes=boxes
        )
    assert store_snapshot(uow_factory) == before


def test_boxes_are_not_predicted_on_a_video(uow_factory: UnitOfWorkFactory, setup: Setup) -> None:
    before = store_snapshot(uow_factory)
    with pytest.raises(InvalidInputError, match="is a video"):
        predictions.store_box_predictions(
            uow_factory,
            setup.doctor,
            setup.video_id,
            model_version=BOX_MODEL_VERSION,
            boxes=[_box()],
        )
    assert store_snapshot(uow_factory) == before


@pytest.mark.parametrize("uow_factory", ["sqlite"], indirect=True)
def test_predictions_reach_the_outbox(uow_factory: UnitOfWorkFactory, setup: Setup) -> None:
    dto = predictions.store_classification_prediction(
        uow_factory, setup.doctor, setup.image_id, prediction=0.3, model_version=CLASSIFIER_VERSION
    )
    with uow_factory() as uow:
        ops = uow.session.scalars(
            select(OutboxEntry.table_name).where(OutboxEntry.row_id == dto.id)
        ).all()
    assert ops == ["picture_classification_predictions"]
