"""Annotation services on SQLite and PostgreSQL: usefulness label and boxes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from iamedic_desktop.core.errors import ConflictError, InvalidInputError, NotFoundError
from iamedic_desktop.models import Media, MediaType, OutboxEntry, PictureBBAnnotation
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.services import annotations as annotation_service
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from tests.factories import (
    actor_for,
    make_box,
    make_doctor,
    make_frame,
    make_media,
    make_study,
    seeding,
    store_snapshot,
)

IMAGE_SIZE = {"image_width": 200, "image_height": 100}


@dataclass(frozen=True)
class Setup:
    """A doctor's image, video and still (the still is 640 x 480)."""

    doctor: Actor
    image_id: uuid.UUID
    video_id: uuid.UUID
    still_id: uuid.UUID


@pytest.fixture
def setup(uow_factory: UnitOfWorkFactory) -> Setup:
    with seeding(uow_factory) as session:
        user = make_doctor(session)
        study = make_study(session, user)
        image = make_media(session, study, filename="head.png")
        video = make_media(session, study, media_type=MediaType.VIDEO, filename="loop.mp4")
        frame = make_frame(session, video, width=640, height=480)
    return Setup(actor_for(user), image.id, video.id, frame.frame_media_id)


def _add(uow_factory: UnitOfWorkFactory, setup: Setup, media_id: uuid.UUID, **kw: Any) -> Any:
    fields: dict[str, Any] = {"bb_class": "CM", "x_min": 10, "y_min": 10, "width": 20, "height": 20}
    fields.update(kw)
    return annotation_service.add_box(uow_factory, setup.doctor, media_id, **fields)


def test_usefulness_set_change_and_clear(uow_factory: UnitOfWorkFactory, setup: Setup) -> None:
    first = annotation_service.set_usefulness(uow_factory, setup.doctor, setup.still_id, 1)
    assert (first.label.usefulness, first.label.media_type, first.removed_boxes) == (
        1,
        MediaType.FRAME,
        [],
    )
    changed = annotation_service.set_usefulness(uow_factory, setup.doctor, setup.still_id, 0)
    assert changed.label.id == first.label.id
    assert changed.label.usefulness == 0
    assert changed.label.updated_at > first.label.updated_at
    removed = annotation_service.clear_usefulness(uow_factory, setup.doctor, setup.still_id)
    assert removed is not None and removed.id == first.label.id
    assert (
        annotation_service.get_annotations(uow_factory, setup.doctor, setup.still_id).usefulness
        is None
    )
    assert annotation_service.clear_usefulness(uow_factory, setup.doctor, setup.still_id) is None


def test_marking_not_useful_removes_the_boxes(uow_factory: UnitOfWorkFactory, setup: Setup) -> None:
    nt = _add(uow_factory, setup, setup.still_id, bb_class="NT")
    cm = _add(uow_factory, setup, setup.still_id, bb_class="CM", is_hidden=True)
    change = annotation_service.set_usefulness(uow_factory, setup.doctor, setup.still_id, 0)
    assert {b.id for b in change.removed_boxes} == {nt.id, cm.id}
    assert annotation_service.get_annotations(uow_factory, setup.doctor, setup.still_id).boxes == []
    useful = annotation_service.set_usefulness(uow_factory, setup.doctor, setup.still_id, 1)
    assert useful.removed_boxes == []


def test_bad_usefulness_changes_nothing(uow_factory: UnitOfWorkFactory, setup: Setup) -> None:
    before = store_snapshot(uow_factory)
    with pytest.raises(InvalidInputError, match=r"0 \(not useful\) or 1"):
        annotation_service.set_usefulness(uow_factory, setup.doctor, setup.image_id, 2)
    with pytest.raises(InvalidInputError, match="is a video"):
        annotation_service.set_usefulness(uow_factory, setup.doctor, setup.video_id, 1)
    assert store_snapshot(uow_factory) == before


def test_add_box_on_a_still_uses_the_frame_size(
    uow_factory: UnitOfWorkFactory, setup: Setup
) -> None:
    box = _add(uow_factory, setup, setup.still_id, x_min=600, y_min=440, width=40, height=40)
    assert (box.x_min, box.y_min, box.width, box.height) == (600.0, 440.0, 40.0, 40.0)
    assert (box.usefulness, box.is_hidden, box.media_type) == (1, False, MediaType.FRAME)
    before = store_snapshot(uow_factory)
    # The caller's size is ignored for a still: its frames row says 640 x 480.
    with pytest.raises(InvalidInputError, match="640 x 480 px image"):
        _add(uow_factory, setup, setup.still_id, bb_class="NT", x_min=620, width=40, **IMAGE_SIZE)
    assert store_snapshot(uow_factory) == before


def test_add_box_on_an_image_needs_its_size(uow_factory: UnitOfWorkFactory, setup: Setup) -> None:
    before = store_snapshot(uow_factory)
    with pytest.raises(InvalidInputError, match="image size"):
        _add(uow_factory, setup, setup.image_id)
    assert store_snapshot(uow_factory) == before
    box = _add(uow_factory, setup, setup.image_id, x_min=180, y_min=80, **IMAGE_SIZE)
    assert (box.media_type, box.x_min) == (MediaType.IMAGE, 180.0)


@pytest.mark.parametrize(
    ("overrides", "error", "words"),
    [
        ({"x_min": 190}, InvalidInputError, "outside"),
        ({"y_min": -1}, InvalidInputError, "outside"),
        ({"width": 9.5}, InvalidInputError, "at least 10 px"),
        ({"height": 5}, InvalidInputError, "at least 10 px"),
        ({"bb_class": "cm"}, InvalidInputError, "Did you mean 'CM'"),
        ({"bb_class": "femur"}, InvalidInputError, "not a box class"),
        ({"bb_class": "CM"}, ConflictError, "already has a 'CM' box"),
    ],
)
def test_bad_boxes_change_nothing(
    uow_factory: UnitOfWorkFactory,
    setup: Setup,
    overrides: dict[str, Any],
    error: type[Exception],
    words: str,
) -> None:
    _add(uow_factory, setup, setup.image_id, bb_class="CM", **IMAGE_SIZE)
    before = store_snapshot(uow_factory)
    fields = {"bb_class": "NT", **IMAGE_SIZE, **overrides}
    with pytest.raises(error, match=words):
        _add(uow_factory, setup, setup.image_id, **fields)
    assert store_snapshot(uow_factory) == before


def test_boxes_go_on_images_and_stills_not_videos(
    uow_factory: UnitOfWorkFactory, setup: Setup
) -> None:
    before = store_snapshot(uow_factory)
    with pytest.raises(InvalidInputError, match=r"'loop\.mp4' is a video"):
        _add(uow_factory, setup, setup.video_id, **IMAGE_SIZE)
    assert store_snapshot(uow_factory) == before


def test_update_hide_and_delete_a_box(uow_factory: UnitOfWorkFactory, setup: Setup) -> None:
    added = _add(uow_factory, setup, setup.still_id, bb_class="thalami")
    moved = annotation_service.update_box(
        uow_factory, setup.doctor, setup.still_id, "thalami", x_min=5, y_min=6, width=70, height=80
    )
    assert (moved.id, moved.x_min, moved.y_min, moved.width, moved.height) == (
        added.id,
        5.0,
        6.0,
        70.0,
        80.0,
    )
    assert moved.updated_at > added.updated_at
    before = store_snapshot(uow_factory)
    with pytest.raises(InvalidInputError, match="outside"):
        annotation_service.update_box(
            uow_factory,
            setup.doctor,
            setup.still_id,
            "thalami",
            x_min=600,
            y_min=0,
            width=70,
            height=80,
        )
    assert store_snapshot(uow_factory) == before

    hidden = annotation_service.set_box_hidden(
        uow_factory, setup.doctor, setup.still_id, "thalami", True
    )
    assert hidden.is_hidden is True
    removed = annotation_service.delete_box(uow_factory, setup.doctor, setup.still_id, "thalami")
    assert removed.id == added.id
    with pytest.raises(NotFoundError, match="has no 'thalami' box"):
        annotation_service.delete_box(uow_factory, setup.doctor, setup.still_id, "thalami")


def test_get_annotations_lists_label_and_boxes(
    uow_factory: UnitOfWorkFactory, setup: Setup
) -> None:
    with seeding(uow_factory) as session:
        image = session.get_one(Media, setup.image_id)
        make_box(session, image, bb_class="palate")
        make_box(session, image, bb_class="IT", is_hidden=True)
    found = annotation_service.get_annotations(uow_factory, setup.doctor, setup.image_id)
    assert found.usefulness is None
    assert [(b.bb_class, b.is_hidden) for b in found.boxes] == [("IT", True), ("palate", False)]


@pytest.mark.parametrize("uow_factory", ["sqlite"], indirect=True)
def test_box_changes_reach_the_outbox(uow_factory: UnitOfWorkFactory, setup: Setup) -> None:
    box = _add(uow_factory, setup, setup.still_id)
    annotation_service.set_usefulness(uow_factory, setup.doctor, setup.still_id, 0)
    with uow_factory() as uow:
        ops = uow.session.scalars(
            select(OutboxEntry.operation)
            .where(OutboxEntry.table_name == PictureBBAnnotation.__tablename__)
            .where(OutboxEntry.row_id == box.id)
            .order_by(OutboxEntry.seq)
        ).all()
    assert ops == ["insert", "delete"]


def test_changing_a_box_class_keeps_the_box_and_refuses_a_taken_class(
    uow_factory: UnitOfWorkFactory, setup: Setup
) -> None:
    _add(uow_factory, setup, setup.still_id, bb_class="NT", x_min=5, y_min=6, width=70, height=80)
    annotation_service.set_box_hidden(uow_factory, setup.doctor, setup.still_id, "NT", True)
    _add(uow_factory, setup, setup.still_id, bb_class="CM")

    change = annotation_service.change_box_class(
        uow_factory, setup.doctor, setup.still_id, "NT", "palate"
    )
    box = change.box
    assert (box.bb_class, box.x_min, box.y_min, box.width, box.height) == (
        "palate",
        5.0,
        6.0,
        70.0,
        80.0,
    )
    assert (box.is_hidden, box.usefulness) == (True, 1)
    assert change.previous_class == "NT"
    found = annotation_service.get_annotations(uow_factory, setup.doctor, setup.still_id)
    assert [b.bb_class for b in found.boxes] == ["CM", "palate"]

    before = store_snapshot(uow_factory)
    with pytest.raises(ConflictError, match="already has a 'CM' box"):
        annotation_service.change_box_class(
            uow_factory, setup.doctor, setup.still_id, "palate", "CM"
        )
    with pytest.raises(InvalidInputError):
        annotation_service.change_box_class(
            uow_factory, setup.doctor, setup.still_id, "palate", "liver"
        )
    with pytest.raises(NotFoundError, match="has no 'IT' box"):
        annotation_service.change_box_class(uow_factory, setup.doctor, setup.still_id, "IT", "NT")
    assert store_snapshot(uow_factory) == before
