"""The background sync: on a local change, on a central notification, on "sync now", and
every few minutes, with exponential backoff while the central database cannot be reached.

Qt-free: two daemon threads. The worker runs one sync at a time and reports its state through
``on_state`` (called on the worker thread: the window re-posts it to the UI thread). The
listener holds a LISTEN connection (``sync/notifications.py``) and wakes the worker when a
change concerns this user. A local change is seen by polling the outbox's newest entry (a
cheap read), so an edit made by the CLI or another window is pushed too.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy import func, select

from iamedic_desktop.core.errors import CentralDatabaseError, IamedicError
from iamedic_desktop.models import OutboxEntry
from iamedic_desktop.models.base import utcnow
from iamedic_desktop.sync.engine import SyncEngine, SyncReport
from iamedic_desktop.sync.notifications import ChangeListener, listen_for

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunnerState:
    """What the status bar shows of the background sync."""

    online: bool | None = None  # None: not tried yet
    running: bool = False
    last_report: SyncReport | None = None
    last_error: str | None = None
    retry_at: dt.datetime | None = None  # backing off until then


class SyncRunner:
    """Keeps one store in sync in the background."""

    def __init__(
        self,
        engine: SyncEngine,
        on_state: Callable[[RunnerState], None],
        *,
        interval: float = 300.0,
        poll: float = 1.0,
        backoff: tuple[float, float] = (2.0, 300.0),
    ) -> None:
        self._engine = engine
        self._on_state = on_state
        self._interval = interval
        self._poll = poll
        self._backoff_min, self._backoff_max = backoff
        self._backoff = 0.0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._state = RunnerState()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start syncing now and in the background."""
        for target, name in ((self._work, "sync-worker"), (self._listen, "sync-listener")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        self.sync_now()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the sync in progress (if any) ends."""
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)

    def sync_now(self) -> None:
        """Sync as soon as possible, even while backing off."""
        self._backoff = 0.0
        self._wake.set()

    @property
    def state(self) -> RunnerState:
        """The latest state."""
        return self._state

    def _publish(self, **changes: object) -> None:
        self._state = replace(self._state, **changes)  # type: ignore[arg-type]
        try:
            self._on_state(self._state)
        except Exception:  # the receiver's failure must not stop the sync
            log.exception("❌ The sync state could not be shown")

    def _work(self) -> None:
        seen = self._newest_edit()
        next_run = utcnow()
        while not self._stop.is_set():
            woke = self._wake.wait(self._poll)
            self._wake.clear()
            if self._stop.is_set():
                return
            newest = self._newest_edit()
            due = woke or newest != seen or utcnow() >= next_run
            if not due or (self._state.retry_at and utcnow() < self._state.retry_at and not woke):
                continue
            seen = newest
            self._run_once()
            wait = self._backoff if self._backoff else self._interval
            next_run = utcnow() + dt.timedelta(seconds=wait)

    def _run_once(self) -> None:
        self._publish(running=True)
        try:
            report = self._engine.run()
        except CentralDatabaseError as exc:
            self._fail(exc.message, online=False)
            return
        except IamedicError as exc:
            self._fail(exc.message, online=True)
            return
        except Exception as exc:  # a defect: logged with its traceback, sync retried later
            log.exception("❌ The sync failed unexpectedly")
            self._fail(f"The sync failed unexpectedly ({type(exc).__name__}).", online=None)
            return
        self._backoff = 0.0
        self._publish(running=False, online=True, last_report=report, last_error=None,
                      retry_at=None)  # fmt: skip

    def _fail(self, message: str, *, online: bool | None) -> None:
        self._backoff = min(max(self._backoff * 2, self._backoff_min), self._backoff_max)
        retry = utcnow() + dt.timedelta(seconds=self._backoff)
        log.warning("⚠️ Sync failed; next attempt in %.0f s", self._backoff)
        self._publish(running=False, online=online, last_error=message, retry_at=retry)

    def _newest_edit(self) -> int:
        try:
            with self._engine.uow() as uow:
                return uow.session.scalar(select(func.max(OutboxEntry.seq))) or 0
        except IamedicError:
            return -1
        except Exception:
            log.warning("⚠️ The outbox could not be read", exc_info=True)
            return -1

    def _listen(self) -> None:
        concerns = listen_for(self._engine.scope.user_id, self._engine.scope.is_admin)
        pause = self._backoff_min
        while not self._stop.is_set():
            try:
                with ChangeListener(self._engine.central) as listener:
                    pause = self._backoff_min
                    while not self._stop.is_set():
                        if any(concerns(p) for p in listener.wait(1.0)):
                            self._wake.set()
            except IamedicError as exc:
                log.info("🔄 Central notifications unavailable (%s); retrying", exc.message)
            except Exception:
                log.warning("⚠️ Central notifications failed", exc_info=True)
            self._stop.wait(pause)
            pause = min(pause * 2, self._backoff_max)
