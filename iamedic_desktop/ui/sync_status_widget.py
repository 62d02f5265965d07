"""The sync's part of the status bar: Online / Offline / Syncing…, pending, last sync, conflicts.

It shows what it is given: the background sync's state (``RunnerState``, re-posted to the UI
thread by ``sync_controller.py``) and the store's sync status (``SyncStatus``, read on the
database runner). "N conflicts" is a button: a click opens the sync panel there. When the sync
cannot run here (no central database, local mode...) one label says "Sync off: <reason>", the
whole message in its tooltip. It never widens the window: given less than it would like, it
leaves out the last sync, then the pending count, then the reason ("Sync off"); the conflicts
always stay.

Threading: UI thread only.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

from iamedic_desktop.sync.engine import SyncStatus
from iamedic_desktop.sync.runner import RunnerState
from iamedic_desktop.ui.theme import ACCENT, ERROR, MUTED, OK, WARNING

_STYLE = f"""
QLabel#syncState {{ padding: 0 6px; color: {MUTED}; }}
QLabel#syncState[state="online"] {{ color: {OK}; }}
QLabel#syncState[state="syncing"], QLabel#syncState[state="connecting"] {{ color: {ACCENT}; }}
QLabel#syncState[state="offline"], QLabel#syncState[state="error"] {{ color: {ERROR}; }}
QLabel#syncPending, QLabel#syncLast {{ padding: 0 6px; color: {MUTED}; }}
QToolButton#syncConflicts {{
    color: {WARNING}; border: 1px solid {WARNING}; border-radius: 8px; padding: 0 8px;
}}
"""


SPACING = 2


def clock(moment: dt.datetime) -> str:
    """ "14:05" in local time."""
    return f"{moment.astimezone():%H:%M}"


def conflicts_text(count: int) -> str:
    """ "1 conflict", "3 conflicts"."""
    return f"{count} conflict{'' if count == 1 else 's'}"


class SyncStatusWidget(QWidget):
    """Labels for the sync in the status bar; ``conflicts_clicked`` when the count is clicked."""

    conflicts_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("syncStatus")
        self.setStyleSheet(_STYLE)
        self.state_label = QLabel(self, objectName="syncState")
        self.pending_label = QLabel(self, objectName="syncPending")
        self.last_label = QLabel(self, objectName="syncLast")
        self.conflicts_button = QToolButton(self, objectName="syncConflicts")
        self.conflicts_button.setAutoRaise(True)
        self.conflicts_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.conflicts_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the canvas
        self.conflicts_button.setToolTip("Open the sync panel to keep one version of each")
        self.conflicts_button.clicked.connect(lambda _checked=False: self.conflicts_clicked.emit())
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(SPACING)
        for widget in (self.state_label, self.pending_label, self.last_label):
            layout.addWidget(widget)
        layout.addWidget(self.conflicts_button)
        self._details = (self.pending_label, self.last_label)
        self._texts = ("", "")  # the state: whole, and short when room is scarce
        self._with_details = False
        self._widths = (0, 0)  # wanted, least
        self._set_state("off", "Sync off", "")
        self.conflicts_button.hide()

    # --- what is shown -------------------------------------------------------------------------

    @property
    def state(self) -> str:
        """The state shown: off, connecting, online, offline, syncing or error."""
        return str(self.state_label.property("state"))

    @property
    def state_text(self) -> str:
        """The state in words ("Sync off: local mode"), whether or not it is cut short."""
        return self._texts[0]

    def show_off(self, reason: str, message: str) -> None:
        """The sync cannot run here: "Sync off: <reason>", the whole message as tooltip."""
        self._with_details = False
        self.conflicts_button.hide()
        self._set_state("off", f"Sync off: {reason}", message, short="Sync off")

    def show_connecting(self) -> None:
        """The sync is being opened (the central database asked for the first time)."""
        self._set_state("connecting", "Connecting…", "Opening the central database")

    def show_offline(self, reason: str) -> None:
        """The central database cannot be reached; ``reason`` as tooltip."""
        self._set_state("offline", "Offline", reason)

    def show_runner(self, state: RunnerState) -> None:
        """The background sync's state: Syncing…, Online, Offline (why), or Sync error (why)."""
        if state.running:
            self._set_state("syncing", "Syncing…", "Sending and receiving changes")
        elif state.online is False:
            self.show_offline(state.last_error or "The central database cannot be reached.")
        elif state.last_error:
            self._set_state("error", "Sync error", state.last_error)
        elif state.online:
            self._set_state("online", "Online", "Connected to the central database")

    def show_status(self, status: SyncStatus) -> None:
        """Pending rows, the last sync and the open conflicts of the store."""
        self.pending_label.setText(f"{status.pending} pending")
        self.pending_label.setToolTip(
            f"{status.pending} change(s) made here wait to be sent to the central database"
        )
        when = clock(status.last_sync_at) if status.last_sync_at else None
        self.last_label.setText(f"Last sync {when}" if when else "Never synced")
        self.conflicts_button.setText(conflicts_text(status.conflicts))
        self.conflicts_button.setVisible(status.conflicts > 0)
        self._with_details = True
        self._fit()

    def _set_state(self, state: str, text: str, tooltip: str, *, short: str = "") -> None:
        label = self.state_label
        self._texts = (text, short or text)
        label.setToolTip(tooltip or text)
        label.setProperty("state", state)
        # A dynamic property only restyles after the style is re-applied.
        label.style().unpolish(label)
        label.style().polish(label)
        self._fit()

    # --- room ----------------------------------------------------------------------------------

    def sizeHint(self) -> QSize:
        return QSize(self._widths[0], super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:
        return QSize(self._widths[1], super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit(measure=False)

    def _fit(self, *, measure: bool = True) -> None:
        # Everything, then less and less until it fits the width given.
        label, (whole, short) = self.state_label, self._texts
        label.setText(whole)
        for widget in self._details:
            widget.setVisible(self._with_details)
        if measure:
            wanted = self._needed()
            label.setText(short)
            least = self._needed(with_details=False)
            label.setText(whole)
            if self._widths != (wanted, least):
                self._widths = (wanted, least)
                self.updateGeometry()
        room = self.width() if self.isVisible() else self._widths[0]
        for widget in (self.last_label, self.pending_label):
            if self._needed() > room:
                widget.hide()
        if self._needed() > room:
            label.setText(short)

    def _needed(self, *, with_details: bool = True) -> int:
        widgets = [self.state_label, self.conflicts_button]
        if with_details:
            widgets += self._details
        widths = [w.sizeHint().width() for w in widgets if not w.isHidden()]
        return sum(widths) + SPACING * max(len(widths) - 1, 0)
