"""The annotation dock: usefulness, model predictions, class picker, the frame's boxes, the view.

Bound to an AnnotationController: every button calls one of its actions (the same the keymap
calls), and the dock redraws from the controller's state when it changes. A usefulness label in
a sync conflict shows both sides under it (``set_usefulness_conflict``). The model versions
whose predictions are shown are chosen in ``version_picker`` (``model_version_picker.py``).
"""

from __future__ import annotations

from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import (
    QCheckBox,
    QDockWidget,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from iamedic_desktop.ui.annotation_controller import AnnotationController
from iamedic_desktop.ui.class_picker_widget import ClassPickerWidget
from iamedic_desktop.ui.elided_label import ElidedLabel
from iamedic_desktop.ui.model_version_picker import ModelVersionPicker
from iamedic_desktop.ui.sync_conflict_item import CONFLICT_COLOR

_USEFULNESS_TEXT = {None: "Not labelled", 1: "Useful", 0: "Not useful"}


def _button(text: str, tip: str, slot: Callable[[], object], parent: QWidget) -> QPushButton:
    button = QPushButton(text, parent)
    button.setToolTip(tip)
    button.clicked.connect(lambda _=False: slot())
    return button


def _slider(low: int, high: int, value: int, parent: QWidget) -> QSlider:
    slider = QSlider(Qt.Orientation.Horizontal, parent)
    slider.setRange(low, high)
    slider.setValue(value)
    return slider


class _HistoryButton(QToolButton):
    """Undo or Redo with a short text: what it would undo is its tooltip, never its width."""

    def __init__(self, kind: str, stack: QUndoStack, parent: QWidget) -> None:
        super().__init__(parent)
        # The stack keeps the action's text and enabled state.
        make = stack.createUndoAction if kind == "Undo" else stack.createRedoAction
        action = self._action = make(self, kind)
        self.setText(kind)
        self.clicked.connect(action.trigger)
        action.changed.connect(self._follow)
        self._follow()

    def _follow(self) -> None:
        if not shiboken6.isValid(self._action):
            return  # a closing widget deletes its children before its connections
        self.setEnabled(self._action.isEnabled())
        self.setToolTip(self._action.text())


class AnnotationDock(QDockWidget):
    """Controls of the annotation of the frame on the canvas."""

    def __init__(self, controller: AnnotationController, parent: QWidget | None = None) -> None:
        super().__init__("Annotation", parent)
        self.setObjectName("annotationDock")
        self.controller = controller
        self.canvas = controller.canvas
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self._usefulness_group(body))
        self.version_picker = ModelVersionPicker(controller, body)
        layout.addWidget(self.version_picker)
        layout.addWidget(self._classes_group(body))
        layout.addWidget(self._boxes_group(body), 1)
        layout.addWidget(self._view_group(body))
        for group in body.findChildren(QGroupBox):
            # Tight enough for an 800 px wide screen, and a 720 px high one under a title bar.
            group.layout().setContentsMargins(6, 4, 6, 4)
            group.layout().setSpacing(3)
        # Scrolled up and down, so the dock never sets a minimum height on the window; never
        # sideways: the dock is as wide as its controls need, so none is cut under a scroll bar.
        self._scroll = scroll = QScrollArea(self)
        scroll.setWidget(body)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body.installEventFilter(self)
        self.setWidget(scroll)
        self._fit_width()

        controller.state_changed.connect(self.refresh)
        controller.class_changed.connect(self.picker.set_current)
        controller.saving_changed.connect(self._busy)
        self.canvas.box_selected.connect(self._box_selected)
        self.canvas.zoom_changed.connect(self._zoom_changed)
        self.picker.set_current(controller.current_class)
        self.refresh()
        self._zoom_changed(self.canvas.zoom)

    # --- sections ------------------------------------------------------------------------------

    def _usefulness_group(self, parent: QWidget) -> QGroupBox:
        group = QGroupBox("Usefulness", parent)
        self.usefulness_label = QLabel("", group, objectName="usefulnessLabel")
        self.usefulness_conflict = ElidedLabel("", group, object_name="usefulnessConflict")
        self.usefulness_conflict.setStyleSheet(f"color: {CONFLICT_COLOR.name()};")
        self.usefulness_conflict.hide()
        c = self.controller
        self.useful_button = _button("Useful", "Mark useful (U)", lambda: c.set_useful(True), group)
        self.not_useful_button = _button(
            "Not useful",
            "Mark not useful, removing the boxes (N)",
            lambda: c.set_useful(False),
            group,
        )
        row = QHBoxLayout()
        row.addWidget(self.usefulness_label, 1)
        row.addWidget(self.useful_button)
        row.addWidget(self.not_useful_button)
        box = QVBoxLayout(group)
        box.addLayout(row)
        box.addWidget(self.usefulness_conflict)
        return group

    def _classes_group(self, parent: QWidget) -> QGroupBox:
        group = QGroupBox("Class of the next box (1-9)", parent)
        self.picker = ClassPickerWidget(group)
        self.picker.class_chosen.connect(self.controller.select_class)
        QVBoxLayout(group).addWidget(self.picker)
        return group

    def _boxes_group(self, parent: QWidget) -> QGroupBox:
        group = QGroupBox("Boxes on this frame", parent)
        c = self.controller
        self.box_list = QListWidget(group)
        self.box_list.setMinimumHeight(2 * self.box_list.fontMetrics().height() + 8)
        self.box_list.itemClicked.connect(
            lambda item: self.canvas.select_box(item.data(Qt.ItemDataRole.UserRole))
        )
        tools = QHBoxLayout()
        for text, tip, slot in (
            ("New", "Draw a box of the chosen class (W)", c.new_box_mode),
            ("Hide/Show", "Hide the selected box from exports, or show it (H)", c.toggle_hidden),
            ("Delete", "Delete the selected box (Del)", c.delete_selected),
        ):
            tools.addWidget(_button(text, tip, slot, group))
        more = QHBoxLayout()
        accept_tip = "Make the selected (or best shown) prediction the box of its class (P)"
        copy_tip = "Copy the boxes of the previous annotated frame (C)"
        more.addWidget(_button("Accept prediction", accept_tip, c.accept_prediction, group))
        more.addWidget(_button("Copy previous", copy_tip, c.copy_previous_boxes, group))
        history = QHBoxLayout()
        self.undo_button = _HistoryButton("Undo", c.undo_stack, group)
        self.redo_button = _HistoryButton("Redo", c.undo_stack, group)
        history.addWidget(self.undo_button)
        history.addWidget(self.redo_button)
        history.addStretch(1)
        # Beside the history rather than on a row of its own: the dock fits a 720 px screen.
        self.save_state = QLabel("", group, objectName="saveState")
        history.addWidget(self.save_state)
        box = QVBoxLayout(group)
        box.addWidget(self.box_list, 1)
        box.addLayout(tools)
        box.addLayout(more)
        box.addLayout(history)
        return group

    def _view_group(self, parent: QWidget) -> QGroupBox:
        # The layers shown are part of the view; the predictions' confidence is set beside their
        # versions (``ModelVersionPicker``). One group fewer keeps the dock whole on 720 px.
        group = QGroupBox("View (not saved with the image)", parent)
        self.annotations_check = QCheckBox("Annotations", group, checked=True)
        self.predictions_check = QCheckBox("Predictions", group, checked=True)
        for check, layer in (
            (self.annotations_check, "annotations"),
            (self.predictions_check, "predictions"),
        ):
            check.toggled.connect(
                lambda on, name=layer: self.controller.set_layer_visible(name, on)
            )
        layers = QHBoxLayout()
        layers.addWidget(self.annotations_check)
        layers.addWidget(self.predictions_check)
        self.zoom_label = QLabel("", group)
        fit = _button("Fit", "Fit the image to the view (F)", self.canvas.fit, group)
        one = _button("1:1", "One image pixel per screen pixel", self.canvas.actual_size, group)
        self.brightness_slider = _slider(-100, 100, self.canvas.brightness(), group)
        self.contrast_slider = _slider(-100, 100, self.canvas.contrast(), group)
        self.brightness_slider.valueChanged.connect(self.canvas.set_brightness)
        self.contrast_slider.valueChanged.connect(self.canvas.set_contrast)
        reset = _button("Reset", "Brightness and contrast as stored", self._reset_levels, group)
        row = QHBoxLayout()
        row.addWidget(self.zoom_label, 1)
        row.addWidget(fit)
        row.addWidget(one)
        row.addWidget(reset)
        form = QFormLayout(group)
        form.addRow(layers)
        form.addRow(row)
        form.addRow("Brightness", self.brightness_slider)
        form.addRow("Contrast", self.contrast_slider)
        return group

    # --- width ---------------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:
            self._fit_width()
        return super().eventFilter(watched, event)

    def _fit_width(self) -> None:
        # The scroll area would ask for almost nothing: it asks for its controls' width instead.
        scroll, body = self._scroll, self._scroll.widget()
        width = body.minimumSizeHint().width() if body is not None else 0
        scroll.setMinimumWidth(width + scroll.verticalScrollBar().sizeHint().width())

    # --- updates -------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Show the controller's current state."""
        c = self.controller
        self.usefulness_label.setText(_USEFULNESS_TEXT.get(c.usefulness, "Not labelled"))
        boxes = c.boxes()
        self.picker.set_present({cls: box.hidden for cls, box in boxes.items()})
        selected = self.canvas.selected_box()
        self.box_list.clear()
        for bb_class in sorted(boxes):
            box = boxes[bb_class]
            hidden = " (hidden)" if box.hidden else ""
            text = f"{bb_class}  {box.x:.0f}, {box.y:.0f}  {box.width:.0f} x {box.height:.0f}"
            item = QListWidgetItem(text + hidden, self.box_list)
            item.setData(Qt.ItemDataRole.UserRole, bb_class)
            item.setSelected(bb_class == selected)

    def set_usefulness_conflict(self, text: str | None) -> None:
        """Both sides of a usefulness label in conflict ("Central: useful · Yours: not useful")."""
        self.usefulness_conflict.setText(text or "")
        self.usefulness_conflict.setVisible(bool(text))

    def _box_selected(self, bb_class: object) -> None:
        for row in range(self.box_list.count()):
            item = self.box_list.item(row)
            item.setSelected(item.data(Qt.ItemDataRole.UserRole) == bb_class)

    def _zoom_changed(self, zoom: float) -> None:
        self.zoom_label.setText(f"Zoom {zoom * 100:.0f} %")

    def _reset_levels(self) -> None:
        self.brightness_slider.setValue(0)
        self.contrast_slider.setValue(0)

    def _busy(self, busy: bool) -> None:
        self.save_state.setText("Saving…" if busy else "All edits saved")
