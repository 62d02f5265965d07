"""Undoable annotation edits: each redo and undo shows its result at once and stores it.

A command knows two things per direction: the view change (boxes by class, the usefulness
label) shown immediately, and the service calls that make it durable (through a
``TargetWriter``), run in order on the database runner by the command host (the controller).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Protocol

from PySide6.QtGui import QUndoCommand

from iamedic_desktop.ui.annotation_target import EditTarget, Job, TargetWriter, ViewChange
from iamedic_desktop.ui.box_item import BoxState
from iamedic_desktop.ui.prediction_item import PredictionState

log = logging.getLogger(__name__)

NUDGE_COMMAND_ID = 4101  # consecutive nudges of one box merge into one undo step


class CommandHost(Protocol):
    """The controller, as commands see it."""

    def execute(
        self, command: AnnotationCommand, view: ViewChange, job: Job, *, undoing: bool = False
    ) -> None: ...


class AnnotationCommand(QUndoCommand):
    """An edit of one target: view changes both ways and the service calls both ways."""

    reload_after = False  # reread the target once stored (the service decides part of it)

    def __init__(self, host: CommandHost, target: EditTarget, text: str) -> None:
        super().__init__(text)
        self.host = host
        self.target = target
        self.failed = False  # refused by a service: a no-op step, dropped from the stack

    def after(self) -> ViewChange:
        raise NotImplementedError

    def before(self) -> ViewChange:
        raise NotImplementedError

    def forward(self, writer: TargetWriter) -> object:
        raise NotImplementedError

    def backward(self, writer: TargetWriter) -> object:
        raise NotImplementedError

    def redo(self) -> None:
        if not self.failed:
            self.host.execute(self, self.after(), self.forward)

    def undo(self) -> None:
        if not self.failed:
            self.host.execute(self, self.before(), self.backward, undoing=True)


class AddBoxCommand(AnnotationCommand):
    """Draw a box (or put one back)."""

    def __init__(
        self, host: CommandHost, target: EditTarget, state: BoxState, text: str | None = None
    ) -> None:
        super().__init__(host, target, text or f"Draw the {state.bb_class} box")
        self.state = state

    def after(self) -> ViewChange:
        return ViewChange({self.state.bb_class: self.state})

    def before(self) -> ViewChange:
        return ViewChange({self.state.bb_class: None})

    def forward(self, writer: TargetWriter) -> object:
        return writer.add(self.state)

    def backward(self, writer: TargetWriter) -> object:
        return writer.delete(self.state.bb_class)


class DeleteBoxCommand(AddBoxCommand):
    """Delete a box; undo draws it again where it was, hidden or not."""

    def __init__(self, host: CommandHost, target: EditTarget, state: BoxState) -> None:
        super().__init__(host, target, state, f"Delete the {state.bb_class} box")

    def after(self) -> ViewChange:
        return super().before()

    def before(self) -> ViewChange:
        return super().after()

    def forward(self, writer: TargetWriter) -> object:
        return super().backward(writer)

    def backward(self, writer: TargetWriter) -> object:
        return super().forward(writer)


class ChangeBoxCommand(AnnotationCommand):
    """Move or resize a box (mouse, or arrow nudges that merge into one step)."""

    def __init__(
        self,
        host: CommandHost,
        target: EditTarget,
        old: BoxState,
        new: BoxState,
        *,
        nudge: bool = False,
        text: str | None = None,
    ) -> None:
        verb = "Nudge" if nudge else "Move" if old.rect().size() == new.rect().size() else "Resize"
        super().__init__(host, target, text or f"{verb} the {old.bb_class} box")
        self.old = old
        self.new = new
        self.nudge = nudge

    def id(self) -> int:
        return NUDGE_COMMAND_ID if self.nudge else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not (
            isinstance(other, ChangeBoxCommand)
            and other.nudge
            and other.target is self.target
            and other.new.bb_class == self.new.bb_class
            and not (self.failed or other.failed)
        ):
            return False
        self.new = other.new  # other has already been shown and stored
        return True

    def after(self) -> ViewChange:
        return ViewChange({self.new.bb_class: self.new})

    def before(self) -> ViewChange:
        return ViewChange({self.old.bb_class: self.old})

    def forward(self, writer: TargetWriter) -> object:
        return writer.update(self.new)

    def backward(self, writer: TargetWriter) -> object:
        return writer.update(self.old)


class SetHiddenCommand(AnnotationCommand):
    """Hide a box from exports and statistics, or show it again."""

    def __init__(self, host: CommandHost, target: EditTarget, state: BoxState) -> None:
        verb = "Show" if state.hidden else "Hide"
        super().__init__(host, target, f"{verb} the {state.bb_class} box")
        self.old = state
        self.new = BoxState(
            state.bb_class, state.x, state.y, state.width, state.height, not state.hidden
        )

    def after(self) -> ViewChange:
        return ViewChange({self.new.bb_class: self.new})

    def before(self) -> ViewChange:
        return ViewChange({self.old.bb_class: self.old})

    def forward(self, writer: TargetWriter) -> object:
        return writer.hide(self.new.bb_class, self.new.hidden)

    def backward(self, writer: TargetWriter) -> object:
        return writer.hide(self.old.bb_class, self.old.hidden)


class SetUsefulnessCommand(AnnotationCommand):
    """Label useful or not useful; "not useful" removes the boxes and undo brings them back."""

    reload_after = True

    def __init__(
        self,
        host: CommandHost,
        target: EditTarget,
        old: int | None,
        new: int,
        boxes: Iterable[BoxState],
    ) -> None:
        super().__init__(host, target, "Mark useful" if new else "Mark not useful")
        self.old = old
        self.new = new
        # What the view shows now; the service's own list of removed boxes replaces it.
        self.removed = [] if new else list(boxes)

    def after(self) -> ViewChange:
        return ViewChange({b.bb_class: None for b in self.removed}, self.new)

    def before(self) -> ViewChange:
        return ViewChange({b.bb_class: b for b in self.removed}, self.old)

    def forward(self, writer: TargetWriter) -> object:
        change = writer.usefulness(self.new)
        removed = getattr(change, "removed_boxes", None)
        if removed:
            self.removed = [BoxState.from_dto(b) for b in removed]
        return change

    def backward(self, writer: TargetWriter) -> object:
        result = writer.usefulness(self.old)
        for state in self.removed:
            writer.add(state)
        return result


class AcceptPredictionCommand(AnnotationCommand):
    """Make a predicted box the clinician's box of its class (replacing one already there)."""

    def __init__(
        self,
        host: CommandHost,
        target: EditTarget,
        prediction: PredictionState,
        state: BoxState,
        previous: BoxState | None,
    ) -> None:
        # The central table has no column for the source model: box_sources keeps it locally.
        super().__init__(
            host,
            target,
            f"Accept the {prediction.bb_class} prediction of {prediction.model_version} "
            f"({prediction.confidence:.2f})",
        )
        self.prediction = prediction
        self.state = state
        self.previous = previous

    def after(self) -> ViewChange:
        return ViewChange({self.state.bb_class: self.state})

    def before(self) -> ViewChange:
        return ViewChange({self.state.bb_class: self.previous})

    def forward(self, writer: TargetWriter) -> object:
        previous = self.previous
        result = writer.add(self.state) if previous is None else writer.update(self.state)
        prediction = self.prediction
        writer.credit(self.state.bb_class, prediction.model_version, prediction.confidence)
        log.info(
            "✅ Prediction of %s (%s, confidence %.3f) accepted as the %s box of media %s",
            self.prediction.model_version,
            self.prediction.bb_class,
            self.prediction.confidence,
            self.state.bb_class,
            writer.media_id(),
        )
        return result

    def backward(self, writer: TargetWriter) -> object:
        if self.previous is None:
            return writer.delete(self.state.bb_class)  # deleting the box forgets its source
        writer.uncredit(self.state.bb_class)
        return writer.update(self.previous)


class CopyBoxesCommand(AnnotationCommand):
    """Copy the previous annotated frame's boxes onto this one (classes not yet here)."""

    def __init__(
        self, host: CommandHost, target: EditTarget, states: list[BoxState], source: str
    ) -> None:
        super().__init__(host, target, f"Copy {len(states)} box(es) from {source}")
        self.states = states

    def after(self) -> ViewChange:
        return ViewChange({s.bb_class: s for s in self.states})

    def before(self) -> ViewChange:
        return ViewChange({s.bb_class: None for s in self.states})

    def forward(self, writer: TargetWriter) -> object:
        return [writer.add(s) for s in self.states]

    def backward(self, writer: TargetWriter) -> object:
        return [writer.delete(s.bb_class) for s in self.states]


class ChangeClassCommand(AnnotationCommand):
    """Give a box another class (1-9 on a selected box); it stays where it is, hidden or not."""

    def __init__(self, host: CommandHost, target: EditTarget, old: BoxState, bb_class: str) -> None:
        super().__init__(host, target, f"Make the {old.bb_class} box {bb_class}")
        self.old = old
        self.new = BoxState(bb_class, old.x, old.y, old.width, old.height, old.hidden)
        self.source: object = None  # the prediction credit it lost; database thread only

    def after(self) -> ViewChange:
        return ViewChange({self.old.bb_class: None, self.new.bb_class: self.new})

    def before(self) -> ViewChange:
        return ViewChange({self.new.bb_class: None, self.old.bb_class: self.old})

    def forward(self, writer: TargetWriter) -> object:
        change = writer.change_class(self.old.bb_class, self.new.bb_class)
        self.source = getattr(change, "source", None)
        return change

    def backward(self, writer: TargetWriter) -> object:
        return writer.change_class(self.new.bb_class, self.old.bb_class, source=self.source)
