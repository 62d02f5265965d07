"""Stopping the window's background syncs off the UI thread, and why a sync cannot open here.

A ``SyncRunner`` stops after the sync in progress (seconds, or a connect timeout while the
central database is away), so the UI thread never waits for one: ``SyncStopper.stop`` queues
the stop, and the engine's closing, on the sync controller's own thread. Whoever must not go on
while a stopped sync still uses the store (the database thread, before it closes the store for
another user) calls ``wait``. A stop queued when the window closes runs all the same: the
controller's ``shutdown`` passes ``stop_all`` as its thread's last task.

Threading: ``stop`` on the UI thread; ``stop_all`` on the given runner's thread; ``wait`` on
any thread but the UI's.
"""

from __future__ import annotations

import logging
import threading

from iamedic_desktop.core.errors import (
    AuthenticationError,
    CentralDatabaseError,
    InvalidInputError,
    SyncError,
)
from iamedic_desktop.services.sync_service import close_sync
from iamedic_desktop.sync.engine import SyncEngine
from iamedic_desktop.sync.runner import SyncRunner
from iamedic_desktop.ui.operations import OperationRunner

log = logging.getLogger(__name__)


def refusal(error: BaseException) -> str | None:
    """Why the sync cannot run here, in a few words; None when it may work later (offline)."""
    text = getattr(error, "message", "")
    if isinstance(error, CentralDatabaseError):
        return None
    if isinstance(error, InvalidInputError):
        return "no central database" if "No central database" in text else "central settings"
    if isinstance(error, AuthenticationError):
        if text.startswith("Sign in before syncing"):
            return "local mode"
        return "account inactive" if "deactivated" in text else "central login refused"
    if isinstance(error, SyncError):
        return "account not central" if "not in the central database" in text else "file storage"
    return "unexpected error"


class SyncStopper:
    """Stops runners and closes engines on ``thread``, in the order they were given."""

    def __init__(self, thread: OperationRunner) -> None:
        self._thread = thread
        self._lock = threading.Lock()
        self._left: list[tuple[SyncRunner | None, SyncEngine | None]] = []
        self._stopped = threading.Event()
        self._stopped.set()

    def stop(self, runner: SyncRunner | None, engine: SyncEngine | None) -> None:
        """Stop ``runner`` and close ``engine`` soon (either may be None); returns at once."""
        with self._lock:
            self._left.append((runner, engine))
            self._stopped.clear()
        self._thread.run(self.stop_all)

    def stop_all(self) -> None:
        """The thread's side: stop every runner left and close its engine."""
        while True:
            with self._lock:
                if not self._left:
                    self._stopped.set()
                    return
                runner, engine = self._left.pop(0)
            try:
                if runner is not None:
                    runner.stop()
                if engine is not None:
                    close_sync(engine)
            except Exception:
                log.exception("❌ A background sync did not stop cleanly")

    def wait(self, timeout: float) -> bool:
        """Whether every sync given has stopped (waiting up to ``timeout`` seconds)."""
        return self._stopped.wait(timeout)
