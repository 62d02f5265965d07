"""Following changes made elsewhere on the annotated target (part of the controller).

When another connection changes the store (a second window, the CLI, the sync) the window asks
the controller to follow: the shown target is read again on the database runner and only what
differs reaches the canvas, so this window's own edits, seen again, change nothing on screen.
Never in the middle of an edit (a drag, a box being drawn, a save on its way): the change waits
and the window asks again at its next look. The undo stack is never touched.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from iamedic_desktop.ui.box_item import BoxState
from iamedic_desktop.ui.prediction_item import PredictionState

if TYPE_CHECKING:
    from iamedic_desktop.services.local_store import LocalStore
    from iamedic_desktop.ui.annotation_canvas import AnnotationCanvasView
    from iamedic_desktop.ui.annotation_target import EditTarget


@dataclass(frozen=True)
class LoadedTarget:
    """What a read of a target found (database thread to UI thread)."""

    frames: dict[int, uuid.UUID] | None  # a video's stills by frame number, when read
    still_id: uuid.UUID | None
    annotations: Any  # MediaAnnotationsDTO | None
    predictions: Any  # MediaPredictionsDTO | None


class AnnotationFollowing:
    """The controller's side of following the store."""

    # Provided by AnnotationController.
    canvas: AnnotationCanvasView
    _store: LocalStore | None
    _target: EditTarget | None
    _stills: dict[uuid.UUID, dict[int, uuid.UUID]]
    _boxes: dict[str, BoxState]
    _usefulness: int | None
    _predictions: list[PredictionState]
    _classifications: list[Any]
    _reads: int
    _edits: int
    _follow_pending: bool

    def _run(self, fn: Any, on_success: Any, on_failure: Any = None) -> None:
        raise NotImplementedError

    def _show(
        self,
        *,
        boxes: list[BoxState],
        usefulness: int | None,
        predictions: list[PredictionState],
        classifications: list[Any],
    ) -> None:
        raise NotImplementedError

    def is_saved(self) -> bool:
        raise NotImplementedError

    @property
    def follow_pending(self) -> bool:
        """Whether a change made elsewhere waits for the edit in progress to end."""
        return self._follow_pending

    def is_editing(self) -> bool:
        """Whether the user is in the middle of an edit (a drag, a box being drawn, a save)."""
        grabbing = self.canvas.scene().mouseGrabberItem() is not None
        return grabbing or self.canvas.draw_mode or not self.is_saved()

    def follow_store(self) -> None:
        """Read the shown target again (changed elsewhere); on screen only what differs changes.

        Never during an edit: it waits (``follow_pending``) and the window asks again. The undo
        stack stays: an undo then restores this window's last state of the box (last write
        wins, per box, and the other window follows).
        """
        target, store = self._target, self._store
        self._follow_pending = False
        self._stills.clear()  # a still may have been taken or deleted elsewhere
        if target is None or store is None:
            return
        if self.is_editing():
            self._follow_pending = True
            return
        serial, edits = self._reads, self._edits

        def read() -> LoadedTarget | None:
            return read_again(store, target)

        self._run(read, lambda loaded: self._followed(serial, edits, target, loaded))

    def _followed(
        self, serial: int, edits: int, target: EditTarget, loaded: LoadedTarget | None
    ) -> None:
        if serial != self._reads or target is not self._target:
            return  # another target, or a newer read of this one, came since
        if edits != self._edits or self.is_editing():
            self._follow_pending = True  # an edit began meanwhile: read again after it
            return
        if loaded is None:
            return  # the media itself is gone: the window closes it
        if loaded.frames is not None:
            self._stills[target.media.id] = loaded.frames
        if target.is_video_frame:
            target.still_id = loaded.still_id
        annotations, predictions = loaded.annotations, loaded.predictions
        boxes = [BoxState.from_dto(b) for b in annotations.boxes] if annotations else []
        usefulness = (
            annotations.usefulness.usefulness if annotations and annotations.usefulness else None
        )
        predicted = [PredictionState.from_dto(p) for p in predictions.boxes] if predictions else []
        classifications = list(predictions.classifications) if predictions else []
        if (
            {b.bb_class: b for b in boxes} == self._boxes
            and usefulness == self._usefulness
            and predicted == self._predictions
            and classifications == self._classifications
        ):
            return  # nothing differs (this window's own edit, seen again): nothing blinks
        self._show(
            boxes=boxes,
            usefulness=usefulness,
            predictions=predicted,
            classifications=classifications,
        )


def read_again(store: LocalStore, target: EditTarget) -> LoadedTarget | None:
    """Database thread: a target read afresh, its video's stills too (None: the media is gone)."""
    from iamedic_desktop.core.errors import NotFoundError
    from iamedic_desktop.services import annotations as annotation_service
    from iamedic_desktop.services.frames import list_frames
    from iamedic_desktop.services.predictions import list_predictions

    frames: dict[int, uuid.UUID] | None = None
    media_id = target.still_id
    try:
        if target.is_video_frame:
            frames = {}
            for frame in list_frames(store.uow, store.actor, target.media.id):
                if frame.frame_index is not None:  # None: its place is unknown
                    frames.setdefault(frame.frame_index, frame.frame_media_id)
            media_id = frames.get(target.frame_number) if target.frame_number is not None else None
        if media_id is None:
            return LoadedTarget(frames, None, None, None)
        annotations = annotation_service.get_annotations(store.uow, store.actor, media_id)
        predictions = list_predictions(store.uow, store.actor, media_id)
    except NotFoundError:
        return None
    return LoadedTarget(frames, media_id, annotations, predictions)
