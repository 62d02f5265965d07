"""Following the store: a timer asks the watcher, on the database runner, whether it changed.

On a change, the parts that show the store (the study browser, the annotation controller)
read again what they show; an annotation change that waits for an edit in progress is asked for
again at each following look.

Threading: lives on the UI thread. Each tick (about a second) queues one ``poll`` of a
``services.store_changes.StoreChangeWatcher`` on the window's database runner, never SQL on the
UI thread; ``checked`` and ``changed`` come back on the UI thread. A tick while the last poll is
still queued (behind a long read) is skipped, so polls never pile up. The watcher's connection
is made by ``start``; ``stop`` before the runner shuts down and ``close_watcher`` on the database
thread after the last poll.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from iamedic_desktop.services.store_changes import StoreChangeWatcher
from iamedic_desktop.ui.operations import OperationRunner

if TYPE_CHECKING:
    from pathlib import Path

    from iamedic_desktop.ui.annotation_controller import AnnotationController
    from iamedic_desktop.ui.study_browser_dock import StudyBrowserDock

log = logging.getLogger(__name__)

POLL_INTERVAL_MS = 1000


class StoreFollower(QObject):
    """Tells the window, within about a second, that another connection changed the store."""

    checked = Signal(bool)  # after every look: whether the store changed
    changed = Signal(int)  # the watcher's version token, when the store changed
    notice = Signal(str)  # what a person is told (the open study was deleted elsewhere)

    def __init__(
        self,
        database: OperationRunner,
        browser: StudyBrowserDock,
        annotation: AnnotationController,
        parent: QObject | None = None,
        *,
        interval_ms: int = POLL_INTERVAL_MS,
    ) -> None:
        super().__init__(parent)
        self._database = database
        self._watcher: StoreChangeWatcher | None = None
        self._browser = browser
        self._annotation = annotation
        browser.study_vanished.connect(
            lambda study: self.notice.emit(f"The study '{study.alias}' was deleted elsewhere")
        )
        self._in_flight = False
        self._missed = False  # a look failed: the next one counts as a change
        self._timer = QTimer(self, interval=interval_ms)
        self._timer.timeout.connect(self.check)

    def start(self, db_path: Path) -> None:
        """Follow the store at ``db_path``: take the baseline now, look again every interval."""
        self._watcher = StoreChangeWatcher(db_path)
        self._timer.start()
        self.check()

    def stop(self) -> None:
        """No more looks (the window is closing)."""
        self._timer.stop()

    def close_watcher(self) -> None:
        """Database thread, after the last look: release the watcher's connection."""
        if self._watcher is not None:
            self._watcher.close()

    @property
    def active(self) -> bool:
        """Whether the store is being followed."""
        return self._timer.isActive()

    def check(self) -> None:
        """Look once (skipped while the previous look is still queued)."""
        watcher = self._watcher
        if self._in_flight or watcher is None:
            return
        self._in_flight = True
        # The base class's run, not the status bar's counted one: a look every second must not
        # blink the busy indicator.
        OperationRunner.run(
            self._database, watcher.poll, on_success=self._polled, on_failure=self._failed
        )

    def _polled(self, version: int | None) -> None:
        self._in_flight = False
        changed = version is not None or self._missed
        self._missed = False
        if changed:
            log.debug("Store changed elsewhere (version %s)", version)
            # Another connection committed (or this window's own edit, seen from the watcher's
            # connection): each part reads again and changes on screen only what differs.
            self._browser.follow_store()
            self._annotation.follow_store()
            self.changed.emit(version or 0)
        elif self._annotation.follow_pending:
            self._annotation.follow_store()  # deferred during an edit: try again now
        self.checked.emit(changed)

    def _failed(self, _error: BaseException) -> None:
        # Reported by the runner's failed signal. The next look takes a new baseline, so what
        # changed meanwhile is refreshed then.
        self._in_flight = False
        self._missed = True
