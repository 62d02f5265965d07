"""Background operations: run a callable on a worker thread, get its result on the UI thread.

Threading rules: create an OperationRunner and call ``run`` on the UI thread. The callable runs
on the runner's own QThreadPool and must not touch widgets; ``on_success`` and ``on_failure``
run on the UI thread. Every failure is also emitted on ``failed``, which the window connects to
its one notification path; its message is free of emoji (``core.display_text``): the log line
keeps them, the window may have no font for them. Call ``shutdown`` before the owner goes away
(a window does in its ``closeEvent``): it waits for the running piece with the GIL released
and drops undelivered results, so nothing reaches a closed window.
"""

from __future__ import annotations

import itertools
import logging
import weakref
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot

from iamedic_desktop.core.display_text import plain_message
from iamedic_desktop.core.errors import IamedicError
from iamedic_desktop.core.priority import lower_this_thread

log = logging.getLogger(__name__)

SuccessCallback = Callable[[Any], None]
FailureCallback = Callable[[BaseException], None]

_live_runners: weakref.WeakSet[OperationRunner] = weakref.WeakSet()


def describe_failure(error: BaseException) -> str:
    """The message a person reads for ``error``, as the window shows it (no emoji)."""
    if isinstance(error, IamedicError):
        return plain_message(error.message)
    return plain_message(f"Unexpected error: {error.__class__.__name__}: {error}")


class _Task(QRunnable):
    def __init__(
        self, fn: Callable[[], Any], report: Callable[[bool, object], None] | None
    ) -> None:
        super().__init__()
        self._fn = fn
        self._report = report

    def run(self) -> None:
        lower_this_thread()  # the window's thread comes first when both want a core
        try:
            result = self._fn()
        except BaseException as exc:  # reported to the UI thread, never lost in the pool
            if self._report is None:
                log.error("❌ %s", describe_failure(exc), exc_info=exc)
            else:
                self._report(False, exc)
        else:
            if self._report is not None:
                self._report(True, result)


class OperationRunner(QObject):
    """Runs callables off the UI thread (one at a time by default, like a database executor)."""

    failed = Signal(str, object)  # message for a person, the exception
    # Emitted on a worker, received on the UI thread (queued): token, succeeded, value.
    _finished = Signal(int, bool, object)

    def __init__(self, parent: QObject | None = None, *, max_threads: int = 1) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._tokens = itertools.count(1)
        self._callbacks: dict[int, tuple[SuccessCallback | None, FailureCallback | None]] = {}
        self._closed = False
        self._finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        _live_runners.add(self)

    def run(
        self,
        fn: Callable[[], Any],
        *,
        on_success: SuccessCallback | None = None,
        on_failure: FailureCallback | None = None,
    ) -> None:
        """Start ``fn`` on a worker; report its result or its exception on the UI thread."""
        if self._closed:
            log.warning("⚠️ Operation refused: the runner is shut down")
            return
        token = next(self._tokens)
        self._callbacks[token] = (on_success, on_failure)
        finished = self._finished

        def report(ok: bool, value: object) -> None:
            try:
                finished.emit(token, ok, value)
            except RuntimeError:
                # The runner was destroyed without shutdown (its owner is gone): drop it.
                log.debug("Result of operation %d dropped: its runner is gone", token)

        self._pool.start(_Task(fn, report))

    @Slot(int, bool, object)
    def _deliver(self, token: int, ok: bool, value: Any) -> None:
        callbacks = self._callbacks.pop(token, None)
        if callbacks is None or self._closed:
            return
        on_success, on_failure = callbacks
        if ok:
            if on_success is not None:
                on_success(value)
            return
        if on_failure is not None:
            on_failure(value)
        self.failed.emit(describe_failure(value), value)

    def is_idle(self) -> bool:
        """True when nothing runs and no result waits to be delivered."""
        return not self._callbacks and self._pool.activeThreadCount() == 0

    def shutdown(self, last: Callable[[], Any] | None = None) -> None:
        """Drop queued work, run ``last`` (closing a store) after the running piece, and wait.

        Nothing is delivered after this: the owner is going away.
        """
        self._closed = True
        self._pool.clear()
        if last is not None:
            self._pool.start(_Task(last, None))
        self._pool.waitForDone()
        self._callbacks.clear()


def live_runners() -> list[OperationRunner]:
    """Runners whose Qt side still exists (tests check they are idle)."""
    return [runner for runner in _live_runners if shiboken6.isValid(runner)]
