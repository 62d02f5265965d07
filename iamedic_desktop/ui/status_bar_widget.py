"""The status bar: background work in progress, the connection indicator, passing messages.

Background work reaches it two ways: an ``ActivityRunner`` (an OperationRunner that counts
what it has in flight) reports when it starts and ends work, and long jobs with progress
(predictions, scoring a video's frames) call ``set_progress``, with a ``cancel`` callback when
the job can be stopped: a Cancel button beside the bar calls it. The connection indicator
says who acts ("Local mode", or "Signed in" with the user's name and, offline, until when
the session holds; "Signed out"). Beside it, ``sync_status`` (``sync_status_widget.py``)
shows how the sync goes: Online or Offline, what is pending, the last sync and the open
conflicts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, QRect, Qt, Signal
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QLabel,
    QProgressBar,
    QStatusBar,
    QStyle,
    QStyleOption,
    QToolButton,
    QWidget,
)

from iamedic_desktop.ui.elided_label import ElidedLabel
from iamedic_desktop.ui.operations import FailureCallback, OperationRunner, SuccessCallback
from iamedic_desktop.ui.sync_status_widget import SyncStatusWidget

NOTICE_MS = 8000
CONNECTION_TEXT = {
    "local": "Local mode",
    "signed_in": "Signed in",
    "signed_out": "Signed out",
    "connected": "Central database",
    "offline": "Central unreachable",
    "syncing": "Syncing",
    "error": "Sync error",
}


class ActivityRunner(OperationRunner):
    """An OperationRunner that says how many operations it has in flight (for the status bar)."""

    activity_changed = Signal(int, str)  # operations in flight, label of the newest

    def __init__(self, label: str, parent: QObject | None = None, *, max_threads: int = 1) -> None:
        super().__init__(parent, max_threads=max_threads)
        self._label = label
        self._in_flight = 0

    @property
    def in_flight(self) -> int:
        """Operations started and not yet delivered."""
        return self._in_flight

    def run(
        self,
        fn: Callable[[], Any],
        *,
        on_success: SuccessCallback | None = None,
        on_failure: FailureCallback | None = None,
    ) -> None:
        """As ``OperationRunner.run``; the count goes down before the callbacks run."""
        if self._closed:
            super().run(fn)  # refused and logged there
            return

        def succeeded(value: object) -> None:
            self._done()
            if on_success is not None:
                on_success(value)

        def failed(error: BaseException) -> None:
            self._done()
            if on_failure is not None:
                on_failure(error)

        self._in_flight += 1
        self.activity_changed.emit(self._in_flight, self._label)
        super().run(fn, on_success=succeeded, on_failure=failed)

    def drain(self, timeout_s: float) -> bool:
        """Wait (UI thread) until nothing is queued, running or undelivered; False on timeout.

        Results are delivered while waiting, so work a callback chains (an edit saved after
        its still was made) is waited for too. Used when the window closes.
        """
        deadline = time.monotonic() + timeout_s
        while not self.is_idle():
            if time.monotonic() > deadline:
                return False
            self._pool.waitForDone(20)
            QCoreApplication.sendPostedEvents(self)
        return True

    def _done(self) -> None:
        self._in_flight = max(0, self._in_flight - 1)
        self.activity_changed.emit(self._in_flight, self._label)


STATUS_TEXT_MAX_W = 380  # px: a status-bar text never takes more (the rest shows on hover)


class StatusBarWidget(QStatusBar):
    """Messages on the left; work in progress and the connection state on the right."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._activity: dict[str, int] = {}
        self._progress_text = ""
        self._cancel: Callable[[], None] | None = None
        # Elided and bounded: a long job text never widens the window past the screen.
        self.operation_label = ElidedLabel(object_name="operationLabel")
        self.operation_label.setMaximumWidth(STATUS_TEXT_MAX_W)
        self.progress_bar = QProgressBar(objectName="operationProgress")
        self.progress_bar.setFixedWidth(140)
        self.progress_bar.setMaximumHeight(14)
        self.progress_bar.setTextVisible(False)
        self.cancel_button = QToolButton(objectName="operationCancel")
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip("Stop this job; what it finished stays done")
        self.cancel_button.clicked.connect(self._cancel_clicked)
        self.connection_indicator = QLabel(objectName="modeIndicator")
        self.sync_status = SyncStatusWidget(self)
        self.addPermanentWidget(self.operation_label)
        self.addPermanentWidget(self.progress_bar)
        self.addPermanentWidget(self.cancel_button)
        self.addPermanentWidget(self.sync_status)
        self.addPermanentWidget(self.connection_indicator)
        self._connection = ("local", "")
        self.set_connection_state("local", "")
        # The whole message, however much of it fits; gone with the message.
        self.messageChanged.connect(self.setToolTip)
        self._refresh_activity()

    # --- passing messages ---------------------------------------------------------------------

    def show_notice(self, message: str, timeout_ms: int = NOTICE_MS) -> None:
        """A message that goes away by itself (0: until the next one)."""
        self.showMessage(message, timeout_ms)

    def paintEvent(self, event: QPaintEvent) -> None:
        # As QStatusBar paints, but a long message ends in "…" instead of being cut mid-letter.
        message = self.currentMessage()
        if not message:
            super().paintEvent(event)
            return
        painter = QPainter(self)
        option = QStyleOption()
        option.initFrom(self)
        self.style().drawPrimitive(QStyle.PrimitiveElement.PE_PanelStatusBar, option, painter, self)
        right = self.width()
        permanent = (self.operation_label, self.progress_bar, self.cancel_button, self.sync_status)
        for widget in (*permanent, self.connection_indicator):
            if widget.isVisible():
                right = min(right, widget.x())
        rect = QRect(6, 0, max(right - 12, 0), self.height())
        text = self.fontMetrics().elidedText(message, Qt.TextElideMode.ElideRight, rect.width())
        painter.setPen(self.palette().windowText().color())
        painter.drawText(rect, Qt.AlignmentFlag.AlignLeading | Qt.AlignmentFlag.AlignVCenter, text)

    # --- background work ----------------------------------------------------------------------

    def watch(self, runner: ActivityRunner) -> None:
        """Show ``runner``'s work in flight as a busy indicator."""
        runner.activity_changed.connect(self._on_activity)

    def _on_activity(self, count: int, label: str) -> None:
        if count:
            self._activity[label] = count
        else:
            self._activity.pop(label, None)
        self._refresh_activity()

    def set_progress(
        self, done: int, total: int, text: str, *, cancel: Callable[[], None] | None = None
    ) -> None:
        """Progress of a long job: done of total, what it works on now, and how to stop it."""
        self._progress_text = text
        if cancel != self._cancel:  # a new job (bound methods compare equal): Cancel anew
            self._cancel = cancel
            self.cancel_button.setEnabled(True)
        if total > 0:
            self.progress_bar.setRange(0, total)
            self.progress_bar.setValue(min(done, total))
        else:
            self.progress_bar.setRange(0, 0)  # how much is to do is not known yet: busy
        self._refresh_activity()

    def clear_progress(self) -> None:
        """The long job is over."""
        self._progress_text = ""
        self._cancel = None
        self._refresh_activity()

    @property
    def busy(self) -> bool:
        """Whether the indicator shows work in progress."""
        return bool(self._activity or self._progress_text)

    def _refresh_activity(self) -> None:
        if self._progress_text:
            self.operation_label.setText(self._progress_text)
        elif self._activity:
            count = sum(self._activity.values())
            labels = " and ".join(sorted(self._activity))
            self.operation_label.setText(f"{labels}: {count} task{'s' if count > 1 else ''}")
            self.progress_bar.setRange(0, 0)  # busy: a moving bar without an end
        self.operation_label.setVisible(self.busy)
        self.progress_bar.setVisible(self.busy)
        self.cancel_button.setVisible(bool(self._progress_text) and self._cancel is not None)

    def _cancel_clicked(self) -> None:
        cancel = self._cancel
        if cancel is not None:
            self.cancel_button.setEnabled(False)  # once: the job stops at its next step
            cancel()

    # --- connection ---------------------------------------------------------------------------

    def set_connection_state(self, state: str, detail: str) -> None:
        """The connection indicator: one of ``CONNECTION_TEXT``'s states, with a detail."""
        if state not in CONNECTION_TEXT:
            raise ValueError(f"unknown connection state {state!r}")
        self._connection = (state, detail)
        text = CONNECTION_TEXT[state]
        self.connection_indicator.setText(f"{text} · {detail}" if detail else text)
        self.connection_indicator.setProperty("state", state)
        self.connection_indicator.setToolTip(detail or text)
        # A dynamic property only restyles after the style is re-applied.
        self.connection_indicator.style().unpolish(self.connection_indicator)
        self.connection_indicator.style().polish(self.connection_indicator)

    @property
    def connection_state(self) -> tuple[str, str]:
        """The last state and detail given."""
        return self._connection
