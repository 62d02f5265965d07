"""The annotation controller with the real store: every edit shown, stored and undoable."""

from __future__ import annotations

import uuid

import pytest
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QImage

from iamedic_desktop.schemas.predictions import BoxPredictionIn
from iamedic_desktop.services import annotations as annotation_service
from iamedic_desktop.services.box_sources import box_sources
from iamedic_desktop.services.frames import list_frames
from iamedic_desktop.services.predictions import store_box_predictions
from iamedic_desktop.ui.annotation_controller import AnnotationChange
from tests.gui.annotation_support import Box, World, world  # noqa: F401

pytestmark = pytest.mark.gui

BOX_MODEL = "fetal_structures_bb_regressor_224x224 - 3"


def _steps(bench: World, media_id: uuid.UUID, expected: list[dict[str, Box]]) -> None:
    """Undo back through ``expected`` (newest first), then redo forward, checking the store."""
    stack = bench.controller.undo_stack
    for state in expected[1:]:
        stack.undo()
        bench.settle()
        assert bench.stored(media_id) == state
    for state in reversed(expected[:-1]):
        stack.redo()
        bench.settle()
        assert bench.stored(media_id) == state


def test_a_box_drawn_with_the_mouse_is_stored_in_image_pixels(world: World) -> None:  # noqa: F811
    image = world.add_image()
    world.open_image(image)
    world.canvas.actual_size()
    world.draw("NT", 40, 30, 140, 90)
    assert world.stored(image.id) == {"NT": (40.0, 30.0, 100.0, 60.0, False)}
    assert world.canvas.selected_box() == "NT"
    # Zoomed to 200 %: the same drag in screen terms is half as long in image pixels.
    world.canvas.set_zoom(2.0)
    world.draw("CM", 200, 150, 251, 187)
    stored = world.stored(image.id)["CM"]
    assert stored[:4] == pytest.approx((200, 150, 51, 37), abs=1)
    assert world.controller.undo_stack.count() == 2


def test_move_resize_and_undo_redo_each_step(world: World) -> None:  # noqa: F811
    image = world.add_image()
    world.open_image(image)
    world.canvas.actual_size()
    world.draw("CM", 50, 50, 110, 100)
    drawn = {"CM": (50.0, 50.0, 60.0, 50.0, False)}
    assert world.stored(image.id) == drawn

    world.drag(world.at(80, 75), world.at(100, 65))  # grab the middle, move by (+20, -10)
    world.settle()
    moved = {"CM": (70.0, 40.0, 60.0, 50.0, False)}
    assert world.stored(image.id) == moved

    item = world.canvas.box_item("CM")
    assert item is not None and item.is_selected()
    corner = world.canvas.viewport_point(item.handle_scene_pos(4))  # bottom-right handle
    world.drag(corner, corner + world.at(15, 25) - world.at(0, 0))
    world.settle()
    resized = {"CM": (70.0, 40.0, 75.0, 75.0, False)}
    assert world.stored(image.id) == resized

    top_left = world.canvas.viewport_point(item.handle_scene_pos(0))
    world.drag(top_left, world.at(0, 0) - world.at(200, 200) + top_left)  # far out of the image
    world.settle()
    clamped = {"CM": (0.0, 0.0, 145.0, 115.0, False)}  # stopped at the image's edge
    assert world.stored(image.id) == clamped

    _steps(world, image.id, [clamped, resized, moved, drawn, {}])
    assert [world.controller.undo_stack.text(i) for i in range(4)] == [
        "Draw the CM box",
        "Move the CM box",
        "Resize the CM box",
        "Resize the CM box",
    ]


def test_arrows_nudge_the_selected_box_and_merge_into_one_step(world: World) -> None:  # noqa: F811
    image = world.add_image()
    world.open_image(image)
    world.draw("palate", 100, 100, 150, 140)
    canvas = world.canvas
    canvas.setFocus()
    world.qtbot.keyClick(canvas, Qt.Key.Key_Right)
    world.qtbot.keyClick(canvas, Qt.Key.Key_Right)
    world.qtbot.keyClick(canvas, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    world.settle()
    nudged = {"palate": (102.0, 110.0, 50.0, 40.0, False)}
    assert world.stored(image.id) == nudged
    assert world.controller.undo_stack.count() == 2  # the draw, then one merged nudge
    world.qtbot.keyClick(canvas, Qt.Key.Key_Left, Qt.KeyboardModifier.ShiftModifier)
    world.settle()
    assert world.stored(image.id)["palate"][:2] == (92.0, 110.0)
    world.controller.undo_stack.undo()
    world.settle()
    assert world.stored(image.id) == {"palate": (100.0, 100.0, 50.0, 40.0, False)}
    # Nothing selected: the arrows are not the canvas's (the window steps frames with them).
    canvas.select_box(None)
    assert world.controller.nudge(1, 0) is False


def test_one_box_per_class(world: World) -> None:  # noqa: F811
    image = world.add_image()
    world.open_image(image)
    world.draw("IT", 10, 10, 60, 60)
    messages: list[str] = []
    world.controller.message.connect(messages.append)
    world.canvas.select_box(None)
    world.controller.select_class("IT")
    world.controller.new_box_mode()
    assert not world.canvas.draw_mode
    assert world.canvas.selected_box() == "IT"  # the existing box, ready to edit
    assert "already has a IT box" in messages[-1]
    # Drawn anyway (the mode was entered before the class was taken): refused, nothing stored.
    existing = world.canvas.box_item("IT")
    assert existing is not None
    world.controller.add_box("IT", existing.scene_rect().translated(100, 100))
    world.settle()
    assert world.stored(image.id) == {"IT": (10.0, 10.0, 50.0, 50.0, False)}
    assert world.controller.undo_stack.count() == 1


def test_hide_and_delete(world: World) -> None:  # noqa: F811
    image = world.add_image()
    world.open_image(image)
    world.draw("thalami", 20, 20, 80, 70)
    world.controller.toggle_hidden()
    world.settle()
    hidden = {"thalami": (20.0, 20.0, 60.0, 50.0, True)}
    assert world.stored(image.id) == hidden
    item = world.canvas.box_item("thalami")
    assert item is not None and item.tag_text() == "thalami (hidden)"
    world.controller.delete_selected()
    world.settle()
    assert world.stored(image.id) == {}
    assert world.canvas.box_item("thalami") is None
    _steps(world, image.id, [{}, hidden, {"thalami": (20.0, 20.0, 60.0, 50.0, False)}, {}])


def test_useful_and_not_useful(world: World) -> None:  # noqa: F811
    image = world.add_image()
    world.open_image(image)
    controller = world.controller
    controller.set_useful(True)
    world.settle()
    assert world.stored_usefulness(image.id) == 1
    world.draw("NT", 10, 10, 40, 40)
    world.draw("CM", 50, 50, 90, 90)
    boxes = world.stored(image.id)
    controller.set_useful(False)  # N: not useful removes the boxes, as the web does
    world.settle()
    assert (world.stored_usefulness(image.id), world.stored(image.id)) == (0, {})
    assert world.canvas.box_states() == [] and world.canvas._usefulness == 0
    controller.undo_stack.undo()
    world.settle()
    assert (world.stored_usefulness(image.id), world.stored(image.id)) == (1, boxes)
    assert sorted(b.bb_class for b in world.canvas.box_states()) == ["CM", "NT"]
    for _ in range(3):
        controller.undo_stack.undo()
    world.settle()
    assert (world.stored_usefulness(image.id), world.stored(image.id)) == (None, {})
    assert controller.usefulness is None


def test_accept_a_prediction(world: World) -> None:  # noqa: F811
    image = world.add_image()
    store = world.store
    store_box_predictions(
        store.uow, store.actor, image.id, model_version=BOX_MODEL,
        boxes=[
            BoxPredictionIn(bb_class="NT", confidence=0.91, x_min=30.5, y_min=40.2, width=80,
                            height=50),
            BoxPredictionIn(bb_class="CM", confidence=0.3, x_min=300, y_min=200, width=60,
                            height=60),
        ],
    )  # fmt: skip
    world.open_image(image)
    items = {i.bb_class: i for i in world.canvas.prediction_items()}
    assert items["NT"].tag_text() == "NT 0.91 v3" and items["NT"].isVisible()
    assert BOX_MODEL in items["NT"].toolTip()
    assert not items["CM"].isVisible()  # under the 0.5 threshold
    world.canvas.set_prediction_threshold(0.2)
    assert items["CM"].isVisible()

    world.controller.select_class("NT")
    world.controller.accept_prediction()  # the best shown NT prediction
    world.settle()
    assert world.stored(image.id) == {"NT": (30.5, 40.2, 80.0, 50.0, False)}  # as predicted
    assert BOX_MODEL in world.controller.undo_stack.text(0)
    sources = box_sources(store.uow, store.actor, image.id)
    assert {c: (s.model_version, s.confidence) for c, s in sources.items()} == {
        "NT": (BOX_MODEL, 0.91)
    }  # which model and version the box came from is kept

    # Clicked on the canvas (inside the dashed box): it reaches past the image, so it is cut.
    world.canvas.actual_size()
    world.qtbot.mouseClick(
        world.canvas.viewport(), Qt.MouseButton.LeftButton, pos=world.at(310, 230)
    )
    assert world.canvas.selected_prediction() == items["CM"].state
    world.controller.accept_prediction()
    world.settle()
    assert world.stored(image.id)["CM"] == (300.0, 200.0, 20.0, 40.0, False)
    world.controller.undo_stack.undo()
    world.controller.undo_stack.undo()
    world.settle()
    assert world.stored(image.id) == {}
    assert box_sources(store.uow, store.actor, image.id) == {}


def test_copy_the_previous_annotated_frames_boxes(world: World) -> None:  # noqa: F811
    first = world.add_image("first.png")
    second = world.add_image("second.png")
    world.open_image(first)
    world.draw("CM", 10, 10, 50, 50)
    world.draw("NT", 100, 100, 150, 130)
    world.controller.toggle_hidden()
    world.open_image(second)
    world.draw("CM", 200, 20, 260, 80)  # already here: stays as it is
    messages: list[str] = []
    world.controller.message.connect(messages.append)
    world.controller.copy_previous_boxes()
    world.settle()
    assert world.stored(second.id) == {
        "CM": (200.0, 20.0, 60.0, 60.0, False),
        "NT": (100.0, 100.0, 50.0, 30.0, True),
    }
    assert messages[-1] == "Copied 1 box(es) from 'first.png': NT"
    world.controller.undo_stack.undo()
    world.settle()
    assert list(world.stored(second.id)) == ["CM"]
    world.open_image(first)
    world.controller.copy_previous_boxes()
    world.settle()
    assert messages[-1] == "No earlier frame with boxes to copy from."


def test_the_first_edit_of_a_video_frame_takes_its_still(world: World) -> None:  # noqa: F811
    video = world.add_video()
    store = world.store
    changes: list[AnnotationChange] = []
    world.controller.annotations_changed.connect(changes.append)
    world.canvas.show_frame(QImage(320, 240, QImage.Format.Format_RGB888))
    world.controller.set_target(video, 12, 12 / 25)
    world.settle()
    assert list_frames(store.uow, store.actor, video.id) == []  # showing takes nothing
    world.draw("CM", 40, 40, 100, 90)
    frames = list_frames(store.uow, store.actor, video.id)
    assert [(f.frame_number, f.width, f.height) for f in frames] == [(12, 320, 240)]
    still = frames[0].frame_media_id
    assert world.stored(still) == {"CM": (40.0, 40.0, 60.0, 50.0, False)}
    assert changes[-1] == AnnotationChange(still, video.id, 12, still_created=True)

    world.controller.set_target(video, 13, 13 / 25)  # no still there: nothing to show
    world.settle()
    assert world.canvas.box_states() == []
    world.controller.set_target(video, 12, 12 / 25)
    world.settle()
    assert [b.bb_class for b in world.canvas.box_states()] == ["CM"]
    world.controller.set_useful(True)  # the second edit reuses the still
    world.settle()
    assert len(list_frames(store.uow, store.actor, video.id)) == 1
    assert world.stored_usefulness(still) == 1


def test_undo_of_an_edit_on_another_frame(world: World) -> None:  # noqa: F811
    first = world.add_image("first.png")
    second = world.add_image("second.png")
    world.open_image(first)
    world.draw("midbrain", 30, 30, 90, 90)
    world.open_image(second)
    messages: list[str] = []
    world.controller.message.connect(messages.append)
    with world.qtbot.waitSignal(world.controller.navigate_requested) as asked:
        world.controller.undo_stack.undo()
    world.settle()
    assert messages == ["Undone on first.png: Draw the midbrain box"]
    assert world.stored(first.id) == {}  # restored although not shown
    assert asked.args[0].id == first.id and asked.args[1] is None
    assert world.canvas.box_states() == []  # the frame shown is untouched
    world.controller.undo_stack.redo()
    world.settle()
    assert list(world.stored(first.id)) == ["midbrain"]


def test_a_refused_edit_is_undone_on_screen(world: World) -> None:  # noqa: F811
    image = world.add_image()
    world.open_image(image)
    world.draw("nasal tip", 10, 10, 40, 40)
    # Removed behind the window's back (another window, a sync): moving it is refused.
    annotation_service.delete_box(world.store.uow, world.store.actor, image.id, "nasal tip")
    failures: list[str] = []
    world.runner.failed.connect(lambda message, _error: failures.append(message))
    assert world.controller.nudge(5, 0)
    world.settle()
    assert failures and "has no 'nasal tip' box" in failures[0]
    assert world.canvas.box_states() == []  # what the store holds
    assert world.controller.undo_stack.count() == 1  # the refused nudge is gone
    assert world.controller.undo_stack.text(0) == "Draw the nasal tip box"


def test_save_now_reports_when_everything_is_stored(world: World) -> None:  # noqa: F811
    image = world.add_image()
    world.open_image(image)
    world.draw("CM", 10, 10, 40, 40)
    with world.qtbot.waitSignal(world.controller.message) as saved:
        world.controller.save_now()
    assert saved.args == ["All edits are saved."]


def test_a_still_taken_elsewhere_is_found_after_refresh(world: World) -> None:  # noqa: F811
    from iamedic_desktop.services.extraction import extract_frame

    video = world.add_video()
    store = world.store
    world.canvas.show_frame(QImage(320, 240, QImage.Format.Format_RGB888))
    world.controller.set_target(video, 5, 0.2)
    world.settle()
    # The window's "extract frame" (E) takes the still and someone annotates it elsewhere.
    result = extract_frame(store.uow, store.actor, store.media, video.id, frame_number=5)
    annotation_service.set_usefulness(store.uow, store.actor, result.frame.frame_media_id, 1)
    world.controller.refresh_stills(video.id)
    world.settle()
    assert world.controller.usefulness == 1
    assert world.controller.target is not None
    assert world.controller.target.still_id == result.frame.frame_media_id


def test_edits_made_while_the_annotations_are_read_stay_on_screen(world: World) -> None:  # noqa: F811
    image = world.add_image()
    store = world.store
    annotation_service.add_box(
        store.uow, store.actor, image.id, bb_class="NT", x_min=5, y_min=5, width=20, height=20,
        image_width=320, image_height=240,
    )  # fmt: skip
    world.canvas.show_frame(world.image_of(image))
    world.controller.set_target(image)
    assert world.controller.is_loading()
    world.controller.add_box("CM", QRectF(100, 100, 40, 40))  # before the read is back
    messages: list[str] = []
    world.controller.message.connect(messages.append)
    world.controller.set_useful(True)  # needs the label read first: refused for now
    assert messages == ["Reading this frame's annotations; try again in a moment."]
    world.settle()
    world.controller.set_useful(True)  # reads the target again once stored
    world.controller.add_box("IT", QRectF(200, 100, 40, 40))
    world.settle()
    assert sorted(world.stored(image.id)) == ["CM", "IT", "NT"]
    assert sorted(b.bb_class for b in world.canvas.box_states()) == ["CM", "IT", "NT"]
    assert world.controller.usefulness == 1 and not world.controller.is_loading()


def test_an_edit_shows_saving_until_its_commit_returns(world: World) -> None:  # noqa: F811
    image = world.add_image()
    world.open_image(image)
    seen: list[bool] = []
    world.controller.saving_changed.connect(seen.append)
    world.draw("CM", 10, 10, 50, 50)
    world.settle()
    assert seen[0] is True and seen[-1] is False
    assert world.controller.is_saved() and not world.canvas.is_showing_saving()
    assert world.stored(image.id)["CM"] == (10.0, 10.0, 40.0, 40.0, False)
