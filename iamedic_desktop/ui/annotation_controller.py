"""The annotation controller: what the canvas shows for a target, and every edit, undoable.

Threading: the controller lives on the UI thread and never touches the store there. Reads and
writes run on the window's database runner (one thread, in order). Edits are optimistic: the
canvas shows an edit at once, its service call is queued at once, and a refusal undoes it on
screen (the runner's ``failed`` signal carries the message to the window). Because the runner
runs calls in order and each call commits, an edit is durable when its call returns; on quit,
``MainWindow.closeEvent`` lets the queued calls finish before it shuts the runner down. A kill -9
can lose only the edits still queued or committing: from the moment an edit is shown until its
commit returns, that is the wait behind earlier calls plus one commit (milliseconds; the first
edit of a video frame also takes its still, tens of milliseconds). SQLite in WAL mode keeps a
committed transaction across a process kill.

Undo across frames: an undo or redo of an edit made on another frame restores the store there
(the command knows its target) and asks the window, through ``navigate_requested``, to show
that frame, as an editor scrolls to the line it undoes.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QObject, QRectF, Signal
from PySide6.QtGui import QUndoStack

from iamedic_desktop.models.central import BB_CLASSES, MediaType
from iamedic_desktop.ui.annotation_actions import AnnotationActions
from iamedic_desktop.ui.annotation_commands import AnnotationCommand, ChangeBoxCommand
from iamedic_desktop.ui.annotation_following import AnnotationFollowing, LoadedTarget
from iamedic_desktop.ui.annotation_target import EditTarget, Job, TargetWriter, ViewChange
from iamedic_desktop.ui.box_item import BoxState
from iamedic_desktop.ui.prediction_item import PredictionState

if TYPE_CHECKING:
    from iamedic_desktop.schemas.media import MediaDTO
    from iamedic_desktop.services.local_store import LocalStore
    from iamedic_desktop.ui.annotation_canvas import AnnotationCanvasView
    from iamedic_desktop.ui.operations import OperationRunner

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnnotationChange:
    """What a stored edit changed: the annotated media, and its video frame if it is a still."""

    media_id: uuid.UUID
    video_media_id: uuid.UUID | None
    frame_number: int | None
    still_created: bool = False


class AnnotationController(QObject, AnnotationActions, AnnotationFollowing):
    """Shows a target's boxes, label and predictions on the canvas and stores every edit."""

    annotations_changed = Signal(object)  # AnnotationChange
    busy_changed = Signal(bool)  # edits or reads queued on the database runner
    saving_changed = Signal(bool)  # True while an edit shown on screen is not yet committed
    message = Signal(str)  # a notice for the status bar
    state_changed = Signal()  # the current target's boxes, label or predictions changed
    class_changed = Signal(str)  # the class new boxes get
    navigate_requested = Signal(object, object)  # MediaDTO, frame number or None

    def __init__(
        self,
        canvas: AnnotationCanvasView,
        database: OperationRunner,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.canvas = canvas
        self._database = database
        self._store: LocalStore | None = None
        self.undo_stack = QUndoStack(self)
        self._target: EditTarget | None = None
        self._targets: dict[object, EditTarget] = {}  # edited targets, reused on return
        self._stills: dict[uuid.UUID, dict[int, uuid.UUID]] = {}  # video -> frame -> still
        self._boxes: dict[str, BoxState] = {}
        self._usefulness: int | None = None
        self._predictions: list[PredictionState] = []
        self._classifications: list[Any] = []
        self._class = BB_CLASSES[0]
        self._reads = 0  # serial of the latest read: only its result is shown
        self._loading = False
        self._stale = False  # edited while a read was under way: read again
        self._pending = 0
        self._unsaved = 0  # edits applied on screen whose commit has not returned yet
        self._edits = 0  # edits made so far: a read for a change elsewhere started before one
        self._follow_pending = False  # a change elsewhere waits for the edit in progress
        canvas.box_drawn.connect(self._box_drawn)
        canvas.box_edited.connect(self._box_edited)
        canvas.nudge_requested.connect(self.nudge)
        self.undo_stack.indexChanged.connect(canvas.notice.dismiss)  # the next edit or undo

    # --- state ---------------------------------------------------------------------------------

    def set_store(self, store: LocalStore | None) -> None:
        """The store edits go to (None: no store, nothing is shown)."""
        self._store = store
        self._stills.clear()
        self._targets.clear()
        self.undo_stack.clear()
        self.clear_target()

    @property
    def target(self) -> EditTarget | None:
        """What is annotated now."""
        return self._target

    @property
    def current_class(self) -> str:
        """The class a new box gets."""
        return self._class

    @property
    def usefulness(self) -> int | None:
        """The current target's usefulness label (None: not labelled)."""
        return self._usefulness

    def boxes(self) -> dict[str, BoxState]:
        """The current target's boxes by class, as shown."""
        return dict(self._boxes)

    def predictions(self) -> list[PredictionState]:
        """The current target's predicted boxes."""
        return list(self._predictions)

    def classifications(self) -> list[Any]:
        """The current target's usefulness predictions (ClassificationPredictionDTO)."""
        return list(self._classifications)

    def is_loading(self) -> bool:
        """Whether the current target's annotations are being read."""
        return self._loading

    def is_idle(self) -> bool:
        """True when no read or edit waits on the database runner."""
        return self._pending == 0

    def is_saved(self) -> bool:
        """True when every edit shown on screen is committed to the store (durable)."""
        return self._unsaved == 0

    def _saving(self, delta: int) -> None:
        # The canvas says "Saving" until the commit returns: an edit counts as applied, and
        # survives a crash or a kill, once the badge is gone.
        self._unsaved += delta
        if self._unsaved == (1 if delta > 0 else 0):
            saving = self._unsaved > 0
            self.canvas.set_saving(saving)
            self.saving_changed.emit(saving)

    # --- targets -------------------------------------------------------------------------------

    def set_target(
        self, media: MediaDTO, frame_number: int | None = None, timestamp: float | None = None
    ) -> None:
        """Annotate ``media``: an image or still, or frame ``frame_number`` of a video."""
        video = media.media_type is MediaType.VIDEO
        if video and frame_number is None:
            raise ValueError("A video is annotated one frame at a time: give the frame number.")
        key: object = (media.id, frame_number) if video else media.id
        current = self._target
        if current is not None and self._key(current) == key:
            return
        target = self._targets.get(key) or EditTarget(
            media=media,
            frame_number=frame_number if video else None,
            timestamp=timestamp if video else None,
            still_id=None if video else media.id,
        )
        known = self._stills.get(media.id) if video else None
        if target.still_id is None and known is not None and frame_number is not None:
            target.still_id = known.get(frame_number)
        self._target = target
        self._reads += 1
        self.canvas.set_draw_mode(False)
        self._show(boxes=[], usefulness=None, predictions=[], classifications=[])
        if video and known is not None and target.still_id is None:
            self._loading = False  # no still at this frame: nothing to read
            return
        self._read(target)

    def clear_target(self) -> None:
        """Annotate nothing (no media open)."""
        self._target = None
        self._reads += 1
        self._loading = False
        self.canvas.set_draw_mode(False)
        self._show(boxes=[], usefulness=None, predictions=[], classifications=[])

    def refresh_stills(self, video_media_id: uuid.UUID | None = None) -> None:
        """Forget what is known of a video's stills (one was taken or deleted elsewhere)."""
        if video_media_id is None:
            self._stills.clear()
        else:
            self._stills.pop(video_media_id, None)
        target = self._target
        if target is not None and target.is_video_frame:
            if video_media_id in (None, target.media.id):
                target.still_id = None  # found again by the read (it may have been deleted)
            self._read(target)

    @staticmethod
    def _key(target: EditTarget) -> object:
        return (target.media.id, target.frame_number) if target.is_video_frame else target.media.id

    def _read(self, target: EditTarget) -> None:
        store = self._store
        if store is None:
            return
        self._loading = True
        self._stale = False
        self._reads += 1
        serial = self._reads
        need_frames = target.is_video_frame and target.media.id not in self._stills

        def read() -> LoadedTarget:
            return _read_target(store, target, need_frames)

        self._run(read, lambda loaded: self._read_done(serial, target, loaded))

    def _read_done(self, serial: int, target: EditTarget, loaded: LoadedTarget) -> None:
        if loaded.frames is not None:
            self._stills[target.media.id] = loaded.frames
        if serial != self._reads or target is not self._target:
            return  # latest wins: another target, or a newer read of this one, came since
        if self._stale:
            self._read(target)  # edits were queued after this read: read what they made
            return
        self._loading = False
        annotations, predictions = loaded.annotations, loaded.predictions
        self._show(
            boxes=[BoxState.from_dto(b) for b in annotations.boxes] if annotations else [],
            usefulness=(
                annotations.usefulness.usefulness
                if annotations and annotations.usefulness
                else None
            ),
            predictions=[PredictionState.from_dto(p) for p in predictions.boxes]
            if predictions
            else [],
            classifications=list(predictions.classifications) if predictions else [],
        )

    def _show(
        self,
        *,
        boxes: list[BoxState],
        usefulness: int | None,
        predictions: list[PredictionState],
        classifications: list[Any],
    ) -> None:
        self._boxes = {b.bb_class: b for b in boxes}
        self._usefulness = usefulness
        self._predictions = predictions
        self._classifications = classifications
        self.canvas.set_boxes(boxes)
        self.canvas.set_predictions(predictions)
        self.canvas.set_usefulness(usefulness)
        self.state_changed.emit()

    # --- running edits -------------------------------------------------------------------------

    def execute(
        self, command: AnnotationCommand, view: ViewChange, job: Job, *, undoing: bool = False
    ) -> None:
        """Show ``view`` now if its target is shown, and store ``job`` on the database thread."""
        target = command.target
        store = self._store
        if store is None:
            return
        self._edits += 1
        self._targets[self._key(target)] = target
        if target.image_size is None and target is self._target and self.canvas.has_image():
            size = self.canvas.image_size()
            target.image_size = (size.width(), size.height())
        if target is self._target:
            self._apply_view(view)
            if self._loading:
                self._stale = True
        else:
            verb = "Undone" if undoing else "Redone"
            self.message.emit(f"{verb} on {target.describe()}: {command.text()}")
            self.navigate_requested.emit(target.media, target.frame_number)

        def work() -> tuple[Any, Any]:
            writer = TargetWriter(store, target)
            value = job(writer)
            return writer.extracted, value

        def stored(result: Any) -> None:
            self._saving(-1)
            self._stored(command, target, result)

        def refused(error: BaseException) -> None:
            self._saving(-1)
            self._refused(command, target, error)

        self._saving(+1)
        self._run(work, stored, refused)

    def _apply_view(self, view: ViewChange) -> None:
        for bb_class, state in view.boxes.items():
            if state is None:
                self._boxes.pop(bb_class, None)
            else:
                self._boxes[bb_class] = state
            self.canvas.set_box(bb_class, state)
        if view.changes_usefulness:
            self._usefulness = view.usefulness
            self.canvas.set_usefulness(view.usefulness)
        self.state_changed.emit()

    def _stored(self, command: AnnotationCommand, target: EditTarget, result: Any) -> None:
        extracted, _value = result
        still_id = target.still_id
        if still_id is None:  # pragma: no cover - every job resolves the media
            return
        if extracted is not None and target.frame_number is not None:
            self._stills.setdefault(target.media.id, {})[target.frame_number] = still_id
            self.message.emit(f"Frame {target.frame_number} taken as a still")
        video_id = target.media.id if target.is_video_frame else None
        self.annotations_changed.emit(
            AnnotationChange(still_id, video_id, target.frame_number, extracted is not None)
        )
        if shiboken6.isValid(command) and command.reload_after and target is self._target:
            self._read(target)

    def _refused(
        self, command: AnnotationCommand, target: EditTarget, error: BaseException
    ) -> None:
        log.warning("⚠️ Edit refused and undone on %s: %s", target.describe(), error)
        if shiboken6.isValid(command) and not command.failed:
            command.failed = True
            command.setObsolete(True)  # the stack drops an obsolete command without calling it
            stack = self.undo_stack
            index = stack.index()
            if index > 0 and stack.command(index - 1) is command:
                stack.undo()
            elif index < stack.count() and stack.command(index) is command:
                stack.redo()
        if target is self._target:
            self._read(target)  # show what the store holds

    def _run(self, fn: Any, on_success: Any, on_failure: Any = None) -> None:
        self._pending += 1
        if self._pending == 1:
            self.busy_changed.emit(True)

        def finish() -> None:
            self._pending -= 1
            if self._pending == 0:
                self.busy_changed.emit(False)

        def succeeded(value: Any) -> None:
            finish()
            on_success(value)

        def failed(error: BaseException) -> None:
            finish()
            if on_failure is not None:
                on_failure(error)
            elif self._loading:
                self._loading = False

        self._database.run(fn, on_success=succeeded, on_failure=failed)

    # --- gestures from the canvas --------------------------------------------------------------

    def _box_drawn(self, rect: QRectF) -> None:
        self.add_box(self._class, rect)

    def _box_edited(self, bb_class: str, before: QRectF, after: QRectF) -> None:
        target, old = self._target, self._boxes.get(bb_class)
        if target is None or old is None:
            return
        self.undo_stack.push(ChangeBoxCommand(self, target, old, old.moved_to(after)))


def _read_target(store: LocalStore, target: EditTarget, need_frames: bool) -> LoadedTarget:
    """Database thread: the still of a video frame (if any), its annotations and predictions."""
    from iamedic_desktop.services import annotations as annotation_service
    from iamedic_desktop.services.frames import list_frames
    from iamedic_desktop.services.predictions import list_predictions

    frames: dict[int, uuid.UUID] | None = None
    if need_frames:
        frames = {}
        for frame in list_frames(store.uow, store.actor, target.media.id):
            if frame.frame_index is not None:  # None: its place is unknown
                frames.setdefault(frame.frame_index, frame.frame_media_id)
    if target.still_id is None and frames is not None and target.frame_number is not None:
        target.still_id = frames.get(target.frame_number)
    media_id = target.still_id
    if media_id is None:
        return LoadedTarget(frames, None, None, None)
    annotations = annotation_service.get_annotations(store.uow, store.actor, media_id)
    predictions = list_predictions(store.uow, store.actor, media_id)
    return LoadedTarget(frames, media_id, annotations, predictions)
