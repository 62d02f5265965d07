"""What the annotation keys do on the canvas: 1-9 on a selected box, N's notice, P's answer."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from iamedic_desktop.models.central import BB_CLASSES
from iamedic_desktop.schemas.predictions import BoxPredictionIn
from iamedic_desktop.services.box_sources import box_sources
from iamedic_desktop.services.predictions import store_box_predictions
from tests.gui.annotation_support import World, world  # noqa: F401

pytestmark = pytest.mark.gui

BOX_MODEL = "fetal_structures_bb_regressor_224x224 - 3"


def _key(bb_class: str) -> int:
    return BB_CLASSES.index(bb_class) + 1


def test_a_class_key_on_a_selected_box_changes_its_class(world: World) -> None:  # noqa: F811
    image = world.add_image()
    world.open_image(image)
    world.draw("NT", 10, 10, 40, 40)
    world.draw("CM", 50, 50, 90, 90)
    controller, canvas = world.controller, world.canvas
    controller.toggle_hidden()  # CM is selected: hidden, and it must stay so
    world.settle()
    canvas.select_box("NT")

    controller.class_key(_key("palate"))
    assert canvas.selected_box() == "palate"  # the same box, still selected
    world.settle()
    assert world.stored(image.id) == {
        "palate": (10.0, 10.0, 30.0, 30.0, False),
        "CM": (50.0, 50.0, 40.0, 40.0, True),
    }
    assert sorted(s.bb_class for s in canvas.box_states()) == ["CM", "palate"]

    canvas.select_box("CM")
    controller.class_key(_key("IT"))
    world.settle()
    assert world.stored(image.id)["IT"] == (50.0, 50.0, 40.0, 40.0, True)  # still hidden

    controller.undo_stack.undo()
    controller.undo_stack.undo()
    world.settle()
    assert set(world.stored(image.id)) == {"NT", "CM"}
    assert sorted(s.bb_class for s in canvas.box_states()) == ["CM", "NT"]
    controller.undo_stack.redo()
    world.settle()
    assert set(world.stored(image.id)) == {"palate", "CM"}


def test_a_class_key_for_a_class_already_boxed_is_refused_with_the_reason(
    world: World,  # noqa: F811
) -> None:
    image = world.add_image()
    world.open_image(image)
    world.draw("NT", 10, 10, 40, 40)
    world.draw("CM", 50, 50, 90, 90)
    messages: list[str] = []
    world.controller.message.connect(messages.append)
    world.canvas.select_box("NT")
    world.controller.class_key(_key("CM"))
    world.settle()
    assert "already has a CM box" in messages[-1] and "one box per class" in messages[-1]
    assert world.canvas.selected_box() == "NT"
    assert set(world.stored(image.id)) == {"NT", "CM"}
    assert world.controller.undo_stack.count() == 2  # the two drawings only


def test_a_class_key_with_no_box_selected_sets_the_next_boxs_class(
    world: World,  # noqa: F811
) -> None:
    image = world.add_image()
    world.open_image(image)
    world.draw("NT", 10, 10, 40, 40)
    world.canvas.select_box(None)
    world.controller.class_key(_key("thalami"))
    assert world.controller.current_class == "thalami"
    assert world.canvas.selected_box() is None
    world.controller.class_key(_key("NT"))  # that class's box is selected, as before
    assert world.canvas.selected_box() == "NT"
    assert set(world.stored(image.id)) == {"NT"}


def test_a_reclassed_accepted_prediction_is_no_longer_credited(world: World) -> None:  # noqa: F811
    image = world.add_image()
    store = world.store
    store_box_predictions(
        store.uow, store.actor, image.id, model_version=BOX_MODEL,
        boxes=[BoxPredictionIn(bb_class="CM", confidence=0.9, x_min=30, y_min=40, width=80,
                               height=50)],
    )  # fmt: skip
    world.open_image(image)
    world.controller.select_class("CM")
    world.controller.accept_prediction()
    world.settle()
    assert set(box_sources(store.uow, store.actor, image.id)) == {"CM"}
    world.controller.class_key(_key("NT"))  # the accepted box is selected
    world.settle()
    assert world.stored(image.id) == {"NT": (30.0, 40.0, 80.0, 50.0, False)}
    assert box_sources(store.uow, store.actor, image.id) == {}
    world.controller.undo_stack.undo()
    world.settle()
    assert set(box_sources(store.uow, store.actor, image.id)) == {"CM"}


def test_not_useful_shows_what_it_removed_with_undo(world: World) -> None:  # noqa: F811
    image = world.add_image()
    world.open_image(image)
    controller, canvas = world.controller, world.canvas
    controller.set_useful(True)
    for column, bb_class in enumerate(("palate", "CM", "NT")):
        world.draw(bb_class, 10 + 80 * column, 10, 60 + 80 * column, 60)
    boxes = world.stored(image.id)
    assert len(boxes) == 3

    controller.set_useful(False)
    assert canvas.notice.text() == "Not useful: 3 boxes removed (CM, NT, palate)"
    assert canvas.notice.button.text() == "Undo"
    world.settle()
    assert world.stored(image.id) == {}

    world.qtbot.mouseClick(canvas.notice.button, Qt.MouseButton.LeftButton)
    world.settle()
    assert world.stored(image.id) == boxes  # exactly that step undone
    assert world.stored_usefulness(image.id) == 1
    assert canvas.notice.text() == ""  # gone with its step

    controller.set_useful(False)
    assert canvas.notice.text().startswith("Not useful: 3 boxes removed")
    world.draw("IT", 10, 10, 60, 60)  # the next edit: the notice goes
    assert canvas.notice.text() == ""


def test_the_not_useful_notice_goes_away_after_a_while(world: World) -> None:  # noqa: F811
    image = world.add_image()
    world.open_image(image)
    world.draw("NT", 10, 10, 40, 40)
    world.canvas.notice.timeout_ms = 200
    world.controller.set_useful(False)
    assert world.canvas.notice.text() == "Not useful: 1 box removed (NT)"
    world.qtbot.waitUntil(lambda: world.canvas.notice.text() == "", timeout=3000)
    world.settle()


def test_p_with_no_predictions_says_no_model_has_scored_the_frame(
    world: World,  # noqa: F811
) -> None:
    image = world.add_image()
    world.open_image(image)
    messages: list[str] = []
    world.controller.message.connect(messages.append)
    world.controller.accept_prediction()
    assert messages[-1].startswith("No model has made predictions for this frame")
    assert "AI → Predict this image or frame" in messages[-1]
    assert "threshold" not in messages[-1]


def test_p_with_predictions_under_the_threshold_names_it(world: World) -> None:  # noqa: F811
    image = world.add_image()
    store = world.store
    store_box_predictions(
        store.uow, store.actor, image.id, model_version=BOX_MODEL,
        boxes=[BoxPredictionIn(bb_class="CM", confidence=0.2, x_min=30, y_min=40, width=80,
                               height=50)],
    )  # fmt: skip
    world.open_image(image)
    messages: list[str] = []
    world.controller.message.connect(messages.append)
    world.controller.accept_prediction()
    assert "lower the confidence threshold" in messages[-1]
