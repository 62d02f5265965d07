"""The annotation dock bound to a controller: its buttons act, its labels follow the frame."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt

from iamedic_desktop.schemas.predictions import ClassificationPredictionDTO
from iamedic_desktop.services.predictions import store_classification_prediction
from iamedic_desktop.ui.annotation_dock import AnnotationDock
from tests.gui.annotation_support import World, world  # noqa: F401

pytestmark = pytest.mark.gui


@pytest.fixture
def dock(world: World) -> Iterator[AnnotationDock]:  # noqa: F811
    panel = AnnotationDock(world.controller)
    world.qtbot.addWidget(panel)
    panel.show()
    yield panel


def test_the_class_picker_and_the_box_list(world: World, dock: AnnotationDock) -> None:  # noqa: F811
    image = world.add_image()
    world.open_image(image)
    world.qtbot.mouseClick(dock.picker.button("midbrain"), Qt.MouseButton.LeftButton)
    assert world.controller.current_class == "midbrain"
    world.controller.select_class(2)  # the key 2
    assert dock.picker.current() == "IT"
    world.draw("NT", 10, 20, 60, 50)
    world.controller.toggle_hidden()
    world.draw("CM", 100, 100, 130, 140)
    world.settle()
    rows = [dock.box_list.item(i).text() for i in range(dock.box_list.count())]
    assert rows == ["CM  100, 100  30 x 40", "NT  10, 20  50 x 30 (hidden)"]
    assert dock.picker.button("NT").font().bold() and dock.picker.button("NT").font().italic()
    assert not dock.picker.button("IT").font().bold()
    item = dock.box_list.item(1)
    dock.box_list.itemClicked.emit(item)
    assert world.canvas.selected_box() == "NT"
    assert item.isSelected()


def test_usefulness_buttons_and_the_models_opinion(world: World, dock: AnnotationDock) -> None:  # noqa: F811
    image = world.add_image()
    store = world.store
    prediction: ClassificationPredictionDTO = store_classification_prediction(
        store.uow, store.actor, image.id, prediction=0.87,
        model_version="frame_classifier_224x224 - 4",
    )  # fmt: skip
    world.open_image(image)
    assert dock.usefulness_label.text() == "Not labelled"
    picker = dock.version_picker
    assert picker.shown_classifier_version() == prediction.model_version
    assert (picker.classifier_combo.currentText(), picker.probability_label.text()) == (
        "v4",
        "useful 0.87",
    )
    world.qtbot.mouseClick(dock.not_useful_button, Qt.MouseButton.LeftButton)
    world.settle()
    assert dock.usefulness_label.text() == "Not useful"
    assert world.stored_usefulness(image.id) == 0
    world.qtbot.mouseClick(dock.useful_button, Qt.MouseButton.LeftButton)
    world.settle()
    assert (dock.usefulness_label.text(), world.stored_usefulness(image.id)) == ("Useful", 1)
    assert dock.save_state.text() == "All edits saved"


def test_layers_threshold_and_view_levels(world: World, dock: AnnotationDock) -> None:  # noqa: F811
    canvas = world.canvas
    dock.predictions_check.setChecked(False)
    assert not canvas.layer_visible("predictions")
    dock.annotations_check.setChecked(False)
    assert not canvas.layer_visible("annotations")
    dock.version_picker.threshold_slider.setValue(80)
    assert canvas.prediction_threshold == pytest.approx(0.8)
    assert dock.version_picker.threshold_label.text() == "Confidence 0.80"
    dock.brightness_slider.setValue(30)
    dock.contrast_slider.setValue(-20)
    assert (canvas.brightness(), canvas.contrast()) == (30, -20)
    canvas.set_zoom(2.0)
    assert dock.zoom_label.text() == "Zoom 200 %"
