"""The annotation actions the keymap, the dock and the canvas call (part of the controller).

Each action reads what is shown (the current target's boxes, the canvas's selection), makes
one undo command and pushes it; the controller shows and stores it. Actions that cannot apply
say why in a ``message`` instead of failing.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QRectF

from iamedic_desktop.models.central import BB_CLASSES
from iamedic_desktop.ui.annotation_commands import (
    AcceptPredictionCommand,
    AddBoxCommand,
    ChangeBoxCommand,
    ChangeClassCommand,
    CopyBoxesCommand,
    DeleteBoxCommand,
    SetHiddenCommand,
    SetUsefulnessCommand,
)
from iamedic_desktop.ui.annotation_target import EditTarget, fit_inside
from iamedic_desktop.ui.box_item import BoxState, move_within

if TYPE_CHECKING:
    from PySide6.QtCore import SignalInstance
    from PySide6.QtGui import QUndoStack

    from iamedic_desktop.services.local_store import LocalStore
    from iamedic_desktop.ui.annotation_canvas import AnnotationCanvasView
    from iamedic_desktop.ui.prediction_item import PredictionState

log = logging.getLogger(__name__)


class AnnotationActions:
    """Keyboard and dock actions of the annotation controller."""

    # Provided by AnnotationController.
    canvas: AnnotationCanvasView
    undo_stack: QUndoStack
    message: SignalInstance
    class_changed: SignalInstance
    _store: LocalStore | None
    _target: EditTarget | None
    _boxes: dict[str, BoxState]
    _usefulness: int | None
    _predictions: list[PredictionState]
    _class: str
    _loading: bool

    def _run(self, fn: Any, on_success: Any, on_failure: Any = None) -> None:
        raise NotImplementedError

    def _editable_target(self) -> EditTarget | None:
        target = self._target
        if self._store is None or target is None:
            self.message.emit("Open an image or a video frame to annotate it.")
            return None
        return target

    def _loaded_target(self) -> EditTarget | None:
        # For edits that depend on all the target's annotations being known.
        target = self._editable_target()
        if target is not None and self._loading:
            self.message.emit("Reading this frame's annotations; try again in a moment.")
            return None
        return target

    def _image_size(self) -> tuple[int, int] | None:
        if not self.canvas.has_image():
            self.message.emit("Wait until the frame is shown.")
            return None
        size = self.canvas.image_size()
        return size.width(), size.height()

    def _selected(self) -> BoxState | None:
        bb_class = self.canvas.selected_box()
        state = self._boxes.get(bb_class) if bb_class is not None else None
        if state is None:
            self.message.emit("Select a box first (click it, or press its class key 1-9).")
        return state

    # --- classes and drawing -------------------------------------------------------------------

    def select_class(self, which: int | str) -> None:
        """Choose the class of new boxes (1-9 or a name); selects that class's box if present."""
        if isinstance(which, int):
            if not 1 <= which <= len(BB_CLASSES):
                return
            which = BB_CLASSES[which - 1]
        if which not in BB_CLASSES:
            return
        self._class = which
        self.canvas.set_draw_mode(self.canvas.draw_mode, which)
        self.canvas.select_box(which if which in self._boxes else None)
        self.class_changed.emit(which)

    def class_key(self, number: int) -> None:
        """1-9: give the selected box that class; with none selected, choose the next box's."""
        if not 1 <= number <= len(BB_CLASSES):
            return
        bb_class = BB_CLASSES[number - 1]
        selected = self.canvas.selected_box()
        old = self._boxes.get(selected) if selected is not None else None
        if old is None:
            self.select_class(bb_class)
            return
        target = self._loaded_target()
        if target is None or bb_class == old.bb_class:
            return
        if bb_class in self._boxes:
            self.message.emit(
                f"This frame already has a {bb_class} box (one box per class): the "
                f"{old.bb_class} box keeps its class."
            )
            return
        self.undo_stack.push(ChangeClassCommand(self, target, old, bb_class))
        self.select_class(bb_class)  # the re-classed box stays selected

    def new_box_mode(self) -> None:
        """Draw a box of the current class with the next left-drag on the image."""
        if self._editable_target() is None or self._image_size() is None:
            return
        if self._class in self._boxes:
            self.canvas.select_box(self._class)
            self.message.emit(
                f"This frame already has a {self._class} box (one per class): it is selected "
                "to move or resize. Pick another class with 1-9 to draw a new box."
            )
            return
        self.canvas.set_draw_mode(True, self._class)

    def add_box(self, bb_class: str, rect: QRectF) -> None:
        """Store a new box of ``bb_class`` at ``rect`` (image pixels) on the current target."""
        target, size = self._editable_target(), self._image_size()
        if target is None or size is None:
            return
        if bb_class in self._boxes:
            self.canvas.select_box(bb_class)
            self.message.emit(
                f"This frame already has a {bb_class} box (one per class); move or resize it."
            )
            return
        state = fit_inside(bb_class, rect, size)
        if state is None:
            self.message.emit("A box is at least 10 x 10 pixels inside the image.")
            return
        self.undo_stack.push(AddBoxCommand(self, target, state))
        self.canvas.select_box(bb_class)

    # --- editing the selected box --------------------------------------------------------------

    def nudge(self, dx: int, dy: int) -> bool:
        """Move the selected box by (dx, dy) pixels; False when no box is selected."""
        target = self._target
        bb_class = self.canvas.selected_box()
        old = self._boxes.get(bb_class) if bb_class is not None else None
        if target is None or old is None or self._store is None or not self.canvas.has_image():
            return False
        size = self.canvas.image_size()
        rect = move_within(old.rect(), dx, dy, QRectF(0, 0, size.width(), size.height()))
        if rect == old.rect():
            return True  # at the edge already
        command = ChangeBoxCommand(self, target, old, old.moved_to(rect), nudge=True)
        self.undo_stack.push(command)
        return True

    def delete_selected(self) -> None:
        """Delete the selected box."""
        target, state = self._editable_target(), self._selected()
        if target is not None and state is not None:
            self.undo_stack.push(DeleteBoxCommand(self, target, state))

    def toggle_hidden(self) -> None:
        """Hide the selected box from exports and statistics, or show it again."""
        target, state = self._editable_target(), self._selected()
        if target is not None and state is not None:
            self.undo_stack.push(SetHiddenCommand(self, target, state))
            self.canvas.select_box(state.bb_class)

    # --- usefulness ----------------------------------------------------------------------------

    def set_useful(self, useful: bool) -> None:
        """Label the target useful (U) or not useful (N, which removes its boxes)."""
        target = self._loaded_target()
        value = 1 if useful else 0
        if target is None or self._usefulness == value:
            return
        boxes = list(self._boxes.values())
        command = SetUsefulnessCommand(self, target, self._usefulness, value, boxes)
        self.undo_stack.push(command)
        if boxes and not useful:
            names = ", ".join(sorted((b.bb_class for b in boxes), key=str.lower))
            count = f"{len(boxes)} box{'es' if len(boxes) > 1 else ''}"
            text = f"Not useful: {count} removed ({names})"
            self.canvas.notice.show_notice(text, "Undo", lambda: self._undo_exactly(command))

    def _undo_exactly(self, command: object) -> None:
        # Only while that step is the last one done (the next edit takes the notice away).
        stack = self.undo_stack
        if stack.index() > 0 and stack.command(stack.index() - 1) is command:
            stack.undo()

    # --- predictions ---------------------------------------------------------------------------

    def accept_prediction(self) -> None:
        """Make the selected prediction (else the current class's best shown) a clinician's box."""
        target, size = self._editable_target(), self._image_size()
        if target is None or size is None:
            return
        prediction = self.canvas.selected_prediction()
        if prediction is None and self.canvas.layer_visible("predictions"):
            threshold = self.canvas.prediction_threshold
            shown = self.canvas.prediction_version  # None: every version is drawn
            candidates = [
                p
                for p in self._predictions
                if p.bb_class == self._class
                and p.confidence >= threshold
                and (shown is None or p.model_version == shown)
            ]
            prediction = max(candidates, key=lambda p: p.confidence, default=None)
        if prediction is None and not self._predictions:
            self.message.emit(
                "No model has made predictions for this frame: predict it with AI → Predict "
                "this image or frame (Ctrl+P); predictions synced from the web show too."
            )
            return
        if prediction is None:
            self.message.emit(
                f"No {self._class} prediction is shown: select a dashed box, or lower the "
                "confidence threshold."
            )
            return
        previous = self._boxes.get(prediction.bb_class)
        state = fit_inside(
            prediction.bb_class,
            prediction.rect(),
            size,
            hidden=previous.hidden if previous else False,
        )
        if state is None:
            self.message.emit("That prediction lies outside the image; it cannot be accepted.")
            return
        command = AcceptPredictionCommand(self, target, prediction, state, previous)
        self.undo_stack.push(command)
        self.canvas.select_box(state.bb_class)

    def set_prediction_threshold(self, threshold: float) -> None:
        """Show only predictions with at least this confidence (0..1)."""
        self.canvas.set_prediction_threshold(threshold)

    def set_layer_visible(self, layer: str, visible: bool) -> None:
        """Show or hide the "annotations" or "predictions" layer."""
        self.canvas.set_layer_visible(layer, visible)

    # --- copy from the previous annotated frame ------------------------------------------------

    def copy_previous_boxes(self) -> None:
        """Copy the boxes of the previous annotated frame (or image) onto this one, once."""
        target, size, store = self._loaded_target(), self._image_size(), self._store
        if target is None or size is None or store is None:
            return
        from iamedic_desktop.services.annotation_workflow import previous_annotated_boxes

        media_id = target.still_id or target.media.id
        number = target.frame_number if target.still_id is None else None

        def find() -> Any:
            return previous_annotated_boxes(store.uow, store.actor, media_id, frame_number=number)

        self._run(find, lambda found: self._copy_found(target, size, found))

    def _copy_found(self, target: EditTarget, size: tuple[int, int], found: Any) -> None:
        if target is not self._target:
            self.message.emit("Boxes not copied: another frame is shown now.")
            return
        if found is None:
            self.message.emit("No earlier frame with boxes to copy from.")
            return
        source = (
            f"frame {found.frame_number}"
            if found.frame_number is not None
            else f"'{found.source_filename}'"
        )
        states = []
        for box in found.boxes:
            if box.bb_class in self._boxes:
                continue  # one box per class: the box already here stays
            rect = QRectF(box.x_min, box.y_min, box.width, box.height)
            state = fit_inside(box.bb_class, rect, size, hidden=box.is_hidden)
            if state is not None:
                states.append(state)
        if not states:
            self.message.emit(f"Every box of {source} already has its class here.")
            return
        self.undo_stack.push(CopyBoxesCommand(self, target, states, source))
        names = ", ".join(s.bb_class for s in states)
        self.message.emit(f"Copied {len(states)} box(es) from {source}: {names}")

    # --- saving --------------------------------------------------------------------------------

    def save_now(self) -> None:
        """Every edit is stored as it is made; this says so once the queue is through."""
        if self._store is None:
            return
        self._run(lambda: None, lambda _: self.message.emit("All edits are saved."))
