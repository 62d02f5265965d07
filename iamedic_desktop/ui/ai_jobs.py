"""The window's AI jobs: one at a time on a runner of their own, progress and Cancel shown.

Predictions, scoring every frame of a video and automatic frames take seconds to minutes, so
they run neither on the database runner (edits would wait behind them) nor on the media
workers (the player's thumbnails would): on the "AI" runner, one job at a time. While one runs
the status bar shows its progress with a Cancel button; Cancel sets the job's CancelToken and
the service stops between steps, keeping what it finished.

Threading: create and call on the UI thread. A job runs on the runner's thread and gets a
progress callback (forwarded to the UI thread by a queued signal) and its CancelToken.
``shutdown`` cancels the running job and waits for it (the window's ``closeEvent``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal

from iamedic_desktop.core.progress import CancelToken, Progress, ProgressCallback
from iamedic_desktop.ui.status_bar_widget import ActivityRunner, StatusBarWidget

log = logging.getLogger(__name__)

Job = Callable[[ProgressCallback, CancelToken], Any]


class AiJobs(QObject):
    """Runs one AI job at a time with its progress and Cancel in the status bar."""

    started = Signal(str)  # the job's title
    ended = Signal(str, bool)  # the job's title, whether it succeeded
    _progress = Signal(object, object)  # CancelToken of the job, Progress (worker -> UI)

    def __init__(self, status: StatusBarWidget, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._status = status
        self.runner = ActivityRunner("AI", self, max_threads=1)
        self._token: CancelToken | None = None
        self._title = ""
        self._progress.connect(self._show, Qt.ConnectionType.QueuedConnection)

    @property
    def running(self) -> str | None:
        """The title of the job running, if any."""
        return self._title if self._token is not None else None

    def start(
        self,
        title: str,
        job: Job,
        on_success: Callable[[Any], None],
        on_failure: Callable[[BaseException], None] | None = None,
    ) -> bool:
        """Start ``job`` unless another runs (False: the caller says so)."""
        if self._token is not None:
            return False
        token = self._token = CancelToken()
        self._title = title
        self._status.set_progress(0, 0, f"{title}…", cancel=self.cancel)
        progress = self._progress

        def forward(report: Progress) -> None:
            with contextlib.suppress(RuntimeError):  # the window is gone; the job ends soon
                progress.emit(token, report)

        def succeeded(value: Any) -> None:
            self._end(token, True)
            on_success(value)

        def failed(error: BaseException) -> None:
            self._end(token, False)
            if on_failure is not None:
                on_failure(error)

        log.info("🚀 %s started", title)
        self.started.emit(title)
        self.runner.run(lambda: job(forward, token), on_success=succeeded, on_failure=failed)
        return True

    def cancel(self) -> None:
        """Ask the running job to stop at its next step."""
        if self._token is not None and not self._token.cancelled:
            self._token.cancel()
            self._status.set_progress(0, 0, f"{self._title}: cancelling…", cancel=self.cancel)
            log.info("🔧 %s cancelled by the user", self._title)

    def is_idle(self) -> bool:
        """True when no job runs or waits to be delivered."""
        return self._token is None and self.runner.is_idle()

    def shutdown(self) -> None:
        """Stop the running job and wait for it (the window is closing)."""
        if self._token is not None:
            self._token.cancel()
        self.runner.shutdown()
        self._token = None

    def _show(self, token: CancelToken, report: Progress) -> None:
        if token is not self._token or token.cancelled:
            return  # a finished job's late report, or "cancelling…" is shown
        text = f"{self._title}: {report.message}" if report.message else self._title
        self._status.set_progress(report.done, report.total, text, cancel=self.cancel)

    def _end(self, token: CancelToken, ok: bool) -> None:
        if token is self._token:
            self._token = None
            self._status.clear_progress()
            self.ended.emit(self._title, ok)
