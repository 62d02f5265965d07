"""Sync conflicts where the media is shown: your boxes over the central ones, Keep central / mine.

When the annotated media (an image, a still, a video frame's still) has open conflicts, the
canvas draws this workstation's version of each conflicting box over the central one the store
holds (``sync_conflict_item.py``), the annotation dock says both usefulness labels ("Central:
useful · Yours: not useful"), and a notice at the top of the canvas offers Keep central / Keep
mine for them all (``SyncController.resolve``). The conflicts are read again when another media
is annotated and whenever the sync says they may have changed.

Threading: UI thread; the reads run on the database runner, the latest one wins.
"""

from __future__ import annotations

import functools
import uuid
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from iamedic_desktop.services.sync_overview import read_media_conflicts, usefulness_text
from iamedic_desktop.sync.conflicts import ConflictView
from iamedic_desktop.ui.operations import OperationRunner
from iamedic_desktop.ui.sync_conflict_item import ConflictBoxState

if TYPE_CHECKING:
    from iamedic_desktop.ui.annotation_controller import AnnotationController
    from iamedic_desktop.ui.annotation_dock import AnnotationDock
    from iamedic_desktop.ui.sync_controller import SyncController

BOXES = "picture_bb_annotations"
USEFULNESS = "picture_classification_annotations"


def conflict_sentence(view: ConflictView) -> str:
    """ "Box NT was changed here and centrally" (or deleted on one side)."""
    what = view.what
    if view.central is None:
        return f"{what} was deleted centrally and changed here"
    if view.local is None:
        return f"{what} was changed centrally and deleted here"
    return f"{what} was changed here and centrally"


def notice_text(views: list[ConflictView]) -> str:
    """The canvas notice for the shown media's conflicts."""
    if len(views) == 1:
        return conflict_sentence(views[0])
    kinds = ", ".join(v.what for v in views)
    return f"{len(views)} conflicts with the central database: {kinds}"


def usefulness_line(view: ConflictView) -> str:
    """ "Central: useful · Yours: not useful"."""

    def side(row: dict | None) -> str:
        return "deleted" if row is None else usefulness_text(row.get("usefulness"))

    return f"Central: {side(view.central)} · Yours: {side(view.local)}"


class SyncConflictView(QObject):
    """Shows the open conflicts of the annotated media on the canvas and in the dock."""

    def __init__(
        self,
        sync: SyncController,
        annotation: AnnotationController,
        dock: AnnotationDock,
        database: OperationRunner,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._sync = sync
        self._annotation = annotation
        self._canvas = annotation.canvas
        self._dock = dock
        self._database = database
        self._media_id: uuid.UUID | None = None  # whose conflicts are shown (or being read)
        self._reads = 0
        self.views: list[ConflictView] = []
        annotation.state_changed.connect(self._target_changed)
        sync.conflicts_changed.connect(self.refresh)

    def _target_changed(self) -> None:
        target = self._annotation.target
        media_id = target.still_id if target is not None else None
        if media_id != self._media_id:
            self._media_id = media_id
            self._show([])  # nothing of the last media's conflicts over this one
            self.refresh()

    def refresh(self) -> None:
        """Read the annotated media's open conflicts again."""
        self._reads += 1
        store, media_id = self._sync.store, self._media_id
        if store is None or media_id is None:
            self._show([])
            return
        OperationRunner.run(
            self._database,
            functools.partial(read_media_conflicts, store, media_id),
            on_success=functools.partial(self._read, self._reads, media_id),
        )

    def _read(self, serial: int, media_id: uuid.UUID, views: list[ConflictView]) -> None:
        if serial == self._reads and media_id == self._media_id:
            self._show(views)

    def _show(self, views: list[ConflictView]) -> None:
        self.views = views
        self._canvas.set_conflict_boxes(
            ConflictBoxState.from_row(v.id, v.local)
            for v in views
            if v.table == BOXES and v.local is not None
        )
        labels = [usefulness_line(v) for v in views if v.table == USEFULNESS]
        self._dock.set_usefulness_conflict(labels[0] if labels else None)
        notice = self._canvas.conflict_notice
        if not views:
            notice.dismiss()
            return
        ids = [v.id for v in views]
        notice.show_notice(
            notice_text(views),
            "Keep central",
            functools.partial(self._sync.resolve, ids, "central"),
            second=("Keep mine", functools.partial(self._sync.resolve, ids, "local")),
            persistent=True,
        )
