"""Which model an accepted box came from: kept locally, forgotten with the box."""

from __future__ import annotations

import pytest

from iamedic_desktop.core.errors import InvalidInputError, NotFoundError
from iamedic_desktop.services import annotations as annotation_service
from iamedic_desktop.services.box_sources import (
    box_sources,
    clear_box_source,
    record_box_source,
)
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from tests.factories import actor_for, make_box, make_doctor, make_media, make_study, seeding

MODEL = "fetal_structures_bb_regressor_224x224 - 3"


def _image_with_boxes(uow_factory: UnitOfWorkFactory) -> tuple[object, object]:
    with seeding(uow_factory) as session:
        user = make_doctor(session)
        image = make_media(session, make_study(session, user))
        make_box(session, image, bb_class="NT", box=(10.0, 10.0, 40.0, 30.0))
        make_box(session, image, bb_class="CM", box=(60.0, 10.0, 40.0, 30.0))
        return actor_for(user), image.id


def test_a_source_is_kept_and_forgotten_with_its_box(uow_factory: UnitOfWorkFactory) -> None:
    actor, image_id = _image_with_boxes(uow_factory)
    recorded = record_box_source(
        uow_factory, actor, image_id, "NT", model_version=MODEL, confidence=0.91
    )
    if uow_factory.engine.dialect.name != "sqlite":
        # A bare central database has no box_sources table: nothing is kept, nothing fails.
        assert recorded is None
        assert box_sources(uow_factory, actor, image_id) == {}
        return
    assert recorded is not None and (recorded.model_version, recorded.confidence) == (MODEL, 0.91)
    record_box_source(uow_factory, actor, image_id, "CM", model_version=MODEL, confidence=0.7)
    assert set(box_sources(uow_factory, actor, image_id)) == {"NT", "CM"}

    annotation_service.delete_box(uow_factory, actor, image_id, "NT")
    assert set(box_sources(uow_factory, actor, image_id)) == {"CM"}
    annotation_service.set_usefulness(uow_factory, actor, image_id, 0)  # removes every box
    assert box_sources(uow_factory, actor, image_id) == {}


def test_clearing_a_source_keeps_the_box(uow_factory: UnitOfWorkFactory) -> None:
    actor, image_id = _image_with_boxes(uow_factory)
    record_box_source(uow_factory, actor, image_id, "NT", model_version=MODEL, confidence=0.9)
    clear_box_source(uow_factory, actor, image_id, "NT")
    assert box_sources(uow_factory, actor, image_id) == {}
    assert {b.bb_class for b in annotation_service.get_annotations(
        uow_factory, actor, image_id
    ).boxes} == {"NT", "CM"}  # fmt: skip


def test_bad_credits_are_refused(uow_factory: UnitOfWorkFactory) -> None:
    actor, image_id = _image_with_boxes(uow_factory)
    with pytest.raises(NotFoundError, match="no 'midbrain' box"):
        record_box_source(
            uow_factory, actor, image_id, "midbrain", model_version=MODEL, confidence=0.9
        )
    with pytest.raises(InvalidInputError):
        record_box_source(uow_factory, actor, image_id, "NT", model_version="v3", confidence=0.9)
    with pytest.raises(InvalidInputError):
        record_box_source(uow_factory, actor, image_id, "NT", model_version=MODEL, confidence=1.5)


def test_another_doctors_box_cannot_be_credited(uow_factory: UnitOfWorkFactory) -> None:
    _, image_id = _image_with_boxes(uow_factory)
    with seeding(uow_factory) as session:
        stranger = actor_for(make_doctor(session))
    with pytest.raises(NotFoundError):
        record_box_source(
            uow_factory, stranger, image_id, "NT", model_version=MODEL, confidence=0.9
        )


@pytest.mark.parametrize("uow_factory", ["sqlite"], indirect=True)
def test_a_reclassed_box_is_no_longer_the_predictions_and_undo_credits_it_again(
    uow_factory: UnitOfWorkFactory,
) -> None:
    actor, image_id = _image_with_boxes(uow_factory)
    record_box_source(uow_factory, actor, image_id, "NT", model_version=MODEL, confidence=0.91)
    change = annotation_service.change_box_class(uow_factory, actor, image_id, "NT", "palate")
    assert box_sources(uow_factory, actor, image_id) == {}  # a palate box no model predicted
    assert change.source is not None and change.source.bb_class == "NT"
    assert (change.source.model_version, change.source.confidence) == (MODEL, 0.91)

    # Undo: the box takes its class back, and the credit it had.
    back = annotation_service.change_box_class(
        uow_factory, actor, image_id, "palate", "NT", source=change.source
    )
    assert back.box.bb_class == "NT" and back.source is None
    sources = box_sources(uow_factory, actor, image_id)
    assert {c: (s.model_version, s.confidence) for c, s in sources.items()} == {"NT": (MODEL, 0.91)}
