"""The central review area: the canvas above the player panel, in a resizable split; while no
scan is shown, a line saying what to do or what is happening (a file being fetched)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSplitter, QStackedWidget, QVBoxLayout, QWidget

EMPTY_TEXT = "Open a study, then double-click a scan to review it"
PLAYER_HEIGHT = 190


class ReviewAreaWidget(QWidget):
    """Holds the canvas and the player panel; says what to do while nothing is open."""

    def __init__(self, canvas: QWidget, player_panel: QWidget, parent: QWidget | None = None):
        super().__init__(parent)
        self.canvas = canvas
        self.player_panel = player_panel
        self.empty_state = QLabel(EMPTY_TEXT, objectName="viewerPlaceholder")
        self.empty_state.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_state.setWordWrap(True)  # a hint never sets the review area's width
        # The canvas keeps its place in the split; the hint shows over it until a scan opens.
        self._top = QStackedWidget(self)
        self._top.addWidget(self.empty_state)
        self._top.addWidget(canvas)
        self.splitter = QSplitter(Qt.Orientation.Vertical, self, objectName="reviewSplitter")
        self.splitter.addWidget(self._top)
        self.splitter.addWidget(player_panel)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 0)
        self.splitter.setCollapsible(0, False)
        self.splitter.setSizes([600, PLAYER_HEIGHT])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)
        self.set_media_open(False)

    def set_media_open(self, is_open: bool) -> None:
        """Show the canvas and player (a scan is open) or the hint (none is)."""
        self.empty_state.setText(EMPTY_TEXT)
        self._top.setCurrentWidget(self.canvas if is_open else self.empty_state)
        self.player_panel.setEnabled(is_open)

    def show_notice(self, text: str) -> None:
        """Show ``text`` where the scan will be (it is on its way, or why it cannot come)."""
        self.empty_state.setText(text)
        self._top.setCurrentWidget(self.empty_state)
        self.player_panel.setEnabled(False)

    @property
    def notice(self) -> str:
        """The line shown while no scan is (the hint, or a notice)."""
        return self.empty_state.text() if not self.media_open else ""

    @property
    def media_open(self) -> bool:
        """Whether the canvas is showing."""
        return self._top.currentWidget() is self.canvas
