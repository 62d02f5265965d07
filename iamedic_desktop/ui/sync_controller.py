"""The window's background sync: opened for the signed-in user, stopped when the user changes.

``start`` opens the sync of the window's store (``services.sync_service.open_sync``) on this
controller's own thread (asking the central database may take its connect timeout; the
database runner stays free for the views). A refusal (no central database, local mode, an
account the central database does not hold, file storage settings that disagree) is shown as
"Sync off: <reason>"; an unreachable central database as Offline, tried again later. Once open,
a ``SyncRunner`` syncs in the background; its states arrive on its worker thread and are
re-posted to the UI thread through a queued signal. The store's sync status (pending rows,
conflicts, last sync) is read on the database runner after every sync and whenever the store
follower sees a change (``refresh``).

Threading: created and used on the UI thread. ``stop`` returns at once: the runner is stopped
and the engine closed on this controller's thread (``sync_stopper.py``); ``wait_stopped`` (any
thread: the database thread before it closes the store) waits for that. ``shutdown`` (the window
closes) waits.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

from iamedic_desktop.services.sync_service import close_sync, open_sync
from iamedic_desktop.sync.conflicts import resolve
from iamedic_desktop.sync.engine import SyncEngine, SyncStatus, sync_status
from iamedic_desktop.sync.runner import RunnerState, SyncRunner
from iamedic_desktop.ui.operations import OperationRunner, describe_failure
from iamedic_desktop.ui.sync_stopper import SyncStopper, refusal

if TYPE_CHECKING:
    from iamedic_desktop.services.local_store import LocalStore
    from iamedic_desktop.ui.sync_status_widget import SyncStatusWidget

log = logging.getLogger(__name__)

RETRY_S = (5.0, 300.0)  # opening again while the central database is away: first, longest


class SyncController(QObject):
    """Runs the sync of the window's store in the background and says how it goes."""

    status_read = Signal(object)  # SyncStatus, after every read
    state_changed = Signal()  # opened, refused, offline, syncing, synced, stopped
    synced = Signal(object)  # RunnerState of a sync that ended (well or not)
    conflicts_changed = Signal()  # the open conflicts may differ: views showing them read again
    message = Signal(str)  # a notice for the status bar
    _posted = Signal(int, object)  # generation, RunnerState (emitted on the sync worker)

    def __init__(
        self, database: OperationRunner, widget: SyncStatusWidget, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._database = database
        self._widget = widget
        self._thread = OperationRunner(self, max_threads=1)
        self._store: LocalStore | None = None
        self._runner: SyncRunner | None = None
        self._engine: SyncEngine | None = None
        self._generation = 0  # one per start: results of an earlier one are dropped
        self._stopper = SyncStopper(self._thread)
        self._status: SyncStatus | None = None
        self._reading = self._read_again = False
        self._retry = QTimer(self, singleShot=True)
        self._retry.timeout.connect(self._open)
        self._retry_s = RETRY_S[0]
        self.refused: str | None = None  # the whole message of a refusal
        self.offline_reason: str | None = None  # why the sync could not be opened yet
        self.runner_options: dict[str, Any] = {}  # SyncRunner's intervals (tests)
        self._posted.connect(self._runner_state)

    # --- state ---------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the background sync runs (opened, not stopped)."""
        return self._runner is not None

    @property
    def status(self) -> SyncStatus | None:
        """The store's sync status as last read."""
        return self._status

    @property
    def store(self) -> LocalStore | None:
        """The store being synced."""
        return self._store

    # --- start and stop ------------------------------------------------------------------------

    def start(self, store: LocalStore) -> None:
        """Open the sync of ``store`` for its user (refused with a reason when it cannot)."""
        self.stop()
        self._store = store
        self._retry_s = RETRY_S[0]
        self._widget.show_connecting()
        self._open()

    def _open(self) -> None:
        store, generation = self._store, self._generation
        if store is None:
            return
        self._thread.run(
            functools.partial(self._open_engine, store, generation),
            on_success=functools.partial(self._opened, generation),
            on_failure=functools.partial(self._open_failed, generation),
        )

    def _open_engine(self, store: LocalStore, generation: int) -> SyncEngine | None:
        # This controller's thread.
        engine = open_sync(store)
        if generation != self._generation:  # stopped meanwhile
            close_sync(engine)
            return None
        return engine

    def _opened(self, generation: int, engine: SyncEngine | None) -> None:
        if engine is None:
            return
        if generation != self._generation:
            self._stopper.stop(None, engine)
            return
        self.refused = self.offline_reason = None
        self._engine = engine
        self._runner = SyncRunner(
            engine, functools.partial(self._post, generation), **self.runner_options
        )
        self._runner.start()
        log.info("🔄 Background sync started")
        self.state_changed.emit()
        self.refresh()

    def _open_failed(self, generation: int, error: BaseException) -> None:
        if generation != self._generation:
            return
        reason = refusal(error)
        text = describe_failure(error)
        if reason == "unexpected error":
            log.error("❌ The sync could not be opened", exc_info=error)
        if reason is None:
            self._widget.show_offline(text)
            log.info("🔄 Central database unreachable; trying again in %.0f s", self._retry_s)
            self._retry.start(round(self._retry_s * 1000))
            self._retry_s = min(self._retry_s * 2, RETRY_S[1])
        else:
            self.refused = text
            self._widget.show_off(reason, text)
            log.info("🔄 Sync off: %s", reason)
        self.offline_reason = text if reason is None else None
        self.state_changed.emit()

    def stop(self) -> None:
        """Stop syncing (the user changes, the store closes); returns at once."""
        self._generation += 1
        self._retry.stop()
        runner, engine = self._runner, self._engine
        self._runner = self._engine = None
        self._store = None
        self._status = None
        self.refused = self.offline_reason = None
        self._stopper.stop(runner, engine)
        self._widget.show_off("store closed", "The sync starts once the store is open.")
        self.state_changed.emit()

    def wait_stopped(self, timeout: float = 60.0) -> bool:
        """Wait (any thread but the UI's) until no stopped sync still uses the old store."""
        return self._stopper.wait(timeout)

    def shutdown(self) -> None:
        """The window closes: stop the sync and this controller's thread, and wait for both."""
        self.stop()
        self._thread.shutdown(last=self._stopper.stop_all)

    # --- the runner's states -------------------------------------------------------------------

    def _post(self, generation: int, state: RunnerState) -> None:
        self._posted.emit(generation, state)  # sync worker thread: queued to the UI thread

    def _runner_state(self, generation: int, state: RunnerState) -> None:
        if generation != self._generation:
            return
        self._widget.show_runner(state)
        self.state_changed.emit()
        if not state.running:
            self.refresh()
            if state.last_report is not None and state.last_report.conflicts:
                self.conflicts_changed.emit()
            self.synced.emit(state)

    @property
    def runner_state(self) -> RunnerState | None:
        """The background sync's latest state (None: not running)."""
        return self._runner.state if self._runner is not None else None

    # --- actions -------------------------------------------------------------------------------

    def sync_now(self) -> None:
        """Sync at once (even while backing off); open the sync again if it was offline."""
        if self._runner is not None:
            self._runner.sync_now()
            self.message.emit("Syncing with the central database…")
        elif self.refused is not None:
            self.message.emit(f"Sync is off: {self.refused}")
        elif self._store is not None:
            self._retry.stop()
            self._widget.show_connecting()
            self._open()
        else:
            self.message.emit("The store is not open yet: try again in a moment.")

    def resolve(self, conflict_ids: Iterable[int], keep: str) -> None:
        """Keep the ``central`` or the ``local`` ("mine") side of these conflicts."""
        store, ids = self._store, list(conflict_ids)
        if store is None or not ids:
            return

        def work() -> int:  # database thread
            for conflict_id in ids:
                resolve(store.uow, conflict_id, keep)
            return len(ids)

        self._database.run(
            work,
            on_success=functools.partial(self._resolved, keep),
            on_failure=lambda _error: self._resolved(keep, 0),  # the error went to the window
        )

    def _resolved(self, keep: str, count: int) -> None:
        done = "Conflict resolved" if count == 1 else f"{count} conflicts resolved"
        if count and keep == "local":
            self.message.emit(f"{done}: your version is kept and goes out with the next sync.")
        elif count:
            self.message.emit(f"{done}: the central version is kept.")
        self.refresh()
        self.conflicts_changed.emit()

    # --- the store's sync status ---------------------------------------------------------------

    def refresh(self) -> None:
        """Read the pending rows, conflicts and last sync again (database runner)."""
        store = self._store
        if store is None or self.refused is not None:
            return  # nothing syncs: nothing pending to speak of
        if self._reading:
            self._read_again = True
            return
        self._reading = True
        # The base class's run: a read after every change must not blink the busy indicator.
        OperationRunner.run(
            self._database,
            functools.partial(sync_status, store.uow),
            on_success=functools.partial(self._status_done, store),
            on_failure=lambda _error: self._read_done(),
        )

    def _status_done(self, store: LocalStore, status: SyncStatus) -> None:
        self._read_done()
        if store is not self._store or self.refused is not None:
            return
        before, self._status = self._status, status
        self._widget.show_status(status)
        self.status_read.emit(status)
        if before is None or before.conflicts != status.conflicts:
            self.conflicts_changed.emit()

    def _read_done(self) -> None:
        self._reading = False
        if self._read_again:
            self._read_again = False
            self.refresh()
