"""The annotation and prediction services log a media by its id, never by its file's name: a
clinician may have named the file after the patient."""

from __future__ import annotations

import logging

import pytest

from iamedic_desktop.services import annotations, predictions
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from tests.factories import actor_for, make_doctor, make_media, make_study, seeding

NAME = "DOE_JANE_1987-03-02_anatomy.png"


def test_labels_boxes_and_predictions_log_the_media_by_id(
    uow_factory: UnitOfWorkFactory, caplog: pytest.LogCaptureFixture
) -> None:
    with seeding(uow_factory) as session:
        user = make_doctor(session)
        media = make_media(session, make_study(session, user), filename=NAME)
    actor = actor_for(user)
    with caplog.at_level(logging.INFO, logger="iamedic_desktop"):
        annotations.set_usefulness(uow_factory, actor, media.id, 1)
        annotations.add_box(
            uow_factory,
            actor,
            media.id,
            bb_class="NT",
            x_min=10,
            y_min=10,
            width=20,
            height=20,
            image_width=640,
            image_height=480,
        )
        annotations.set_box_hidden(uow_factory, actor, media.id, "NT", True)
        annotations.delete_box(uow_factory, actor, media.id, "NT")
        predictions.store_classification_prediction(
            uow_factory, actor, media.id, prediction=0.9, model_version="frame_classifier - 1"
        )
    assert len(caplog.records) >= 5
    assert "DOE_JANE" not in caplog.text
    assert str(media.id) in caplog.text
