"""The player's transport bar: play/pause, steps, start/end, typed frame or time, speed, loop.

A view that only says what the user asked for (signals) and shows what the player reports
(setters); the player panel connects it to the PlayerController. Frame numbers are 0-based,
as stored in a still's ``frames`` row.

Threading: UI thread only.
"""

from __future__ import annotations

import re

from PySide6.QtCore import Qt, Signal, SignalInstance
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QStyle,
    QToolButton,
    QWidget,
)

from iamedic_desktop.ui.flow_layout import FlowLayout
from iamedic_desktop.ui.player_controller import PlayerMediaInfo

SPEEDS = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0)
_TIME = re.compile(r"^\s*(?:(\d+):)?(?:(\d+):)?(\d+(?:[.,]\d*)?)\s*s?\s*$")


def format_time(seconds: float) -> str:
    """``m:ss.mmm`` (``h:mm:ss.mmm`` past an hour)."""
    millis = round(max(seconds, 0.0) * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}.{millis:03d}"
    return f"{minutes}:{secs:02d}.{millis:03d}"


def parse_time(text: str) -> float | None:
    """Seconds from ``ss.s``, ``m:ss.s`` or ``h:mm:ss.s``; None when it is not a time."""
    match = _TIME.match(text)
    if match is None:
        return None
    first, second, secs = match.groups()
    hours, minutes = (first, second) if second is not None else (None, first)
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(secs.replace(",", "."))


class TransportWidget(QWidget):
    """Buttons, boxes and labels that drive the player and show where it is."""

    play_pause_clicked = Signal()
    step_requested = Signal(int)  # frames, +-1 or +-10
    start_requested = Signal()
    end_requested = Signal()
    frame_entered = Signal(int)
    time_entered = Signal(float)
    speed_selected = Signal(float)
    loop_in_clicked = Signal()
    loop_out_clicked = Signal()
    loop_clear_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        style = self.style()
        icon = style.standardIcon
        pix = QStyle.StandardPixmap
        self.start_button = self._button("", "Go to the first frame (Home)", self.start_requested)
        self.start_button.setIcon(icon(pix.SP_MediaSkipBackward))
        self.back10_button = self._button("-10", "Ten frames back (Shift+Left)")
        self.back10_button.clicked.connect(lambda: self.step_requested.emit(-10))
        self.back_button = self._button("-1", "One frame back (A or Left)")
        self.back_button.clicked.connect(lambda: self.step_requested.emit(-1))
        self.play_button = self._button("", "Play or pause (Space)", self.play_pause_clicked)
        self.forward_button = self._button("+1", "One frame forward (D or Right)")
        self.forward_button.clicked.connect(lambda: self.step_requested.emit(1))
        self.forward10_button = self._button("+10", "Ten frames forward (Shift+Right)")
        self.forward10_button.clicked.connect(lambda: self.step_requested.emit(10))
        self.end_button = self._button("", "Go to the last frame (End)", self.end_requested)
        self.end_button.setIcon(icon(pix.SP_MediaSkipForward))
        self._play_icon = icon(pix.SP_MediaPlay)
        self._pause_icon = icon(pix.SP_MediaPause)
        self.play_button.setIcon(self._play_icon)

        self.frame_box = QSpinBox(self)

        self.frame_box.setObjectName("frameBox")
        # Arrows hidden by a zero width: NoButtons leaves no room for the digits once the
        # application's style sheet applies (a Qt quirk).
        self.frame_box.setStyleSheet(
            "QSpinBox::up-button, QSpinBox::down-button { width: 0px; border: none; }"
        )
        self.frame_box.setKeyboardTracking(False)
        self.frame_box.setToolTip("Frame number (from 0): type one and press Enter")
        self.frame_box.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.frame_box.setMinimumWidth(72)
        # Click focus only: the window's keys (Space, A/D, arrows) must not land in a box.
        self.frame_box.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.frame_box.editingFinished.connect(self._frame_typed)
        self.frame_box.lineEdit().textEdited.connect(lambda _: self._typing.add("frame"))
        self.frame_total = QLabel("/ 0", self)
        self.frame_total.setObjectName("frameTotal")
        self.time_box = QLineEdit(self)
        self.time_box.setObjectName("timeBox")
        self.time_box.setToolTip("Time (m:ss.mmm or seconds): type one and press Enter")
        self.time_box.setFixedWidth(84)
        self.time_box.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.time_box.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.time_box.returnPressed.connect(self._time_typed)
        self.time_box.textEdited.connect(lambda _: self._typing.add("time"))
        self.time_box.editingFinished.connect(lambda: self._typing.discard("time"))
        self.duration_label = QLabel("/ 0:00.000", self)
        self.duration_label.setObjectName("durationLabel")
        self.fps_label = QLabel("", self)
        self.fps_label.setObjectName("fpsLabel")

        self.speed_box = QComboBox(self)

        self.speed_box.setObjectName("speedBox")
        self.speed_box.setToolTip("Playback speed")
        self.speed_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space must reach the keymap
        for speed in SPEEDS:
            self.speed_box.addItem(f"{speed:g}x", speed)
        self.speed_box.setCurrentIndex(SPEEDS.index(1.0))
        self.speed_box.activated.connect(
            lambda i: self.speed_selected.emit(float(self.speed_box.itemData(i)))
        )
        self.loop_in_button = self._button("[", "Loop from this frame", self.loop_in_clicked)
        self.loop_out_button = self._button("]", "Loop up to this frame", self.loop_out_clicked)
        self.loop_clear_button = self._button("No loop", "Play without a loop")
        self.loop_clear_button.clicked.connect(self.loop_clear_clicked)
        self.loop_label = QLabel("", self)
        self.loop_label.setObjectName("loopLabel")

        # Groups of controls that wrap onto more rows when the review area is narrow, so the
        # window fits a small screen beside its docks (and is never widened by the bar).
        self._flow = FlowLayout(self, spacing=4)
        self._flow.setContentsMargins(4, 2, 4, 2)
        self.add_group(self.start_button, self.back10_button, self.back_button, self.play_button)
        self.add_group(self.forward_button, self.forward10_button, self.end_button)
        self.add_group(QLabel("Frame", self), self.frame_box, self.frame_total)
        self.add_group(self.time_box, self.duration_label)
        self.add_group(self.fps_label, self.speed_box)
        self.add_group(self.loop_in_button, self.loop_out_button, self.loop_clear_button)
        self.add_group(self.loop_label)
        self._shown = 0
        self._typing: set[str] = set()  # boxes the user is typing in: not overwritten
        self.set_media(None)

    def add_group(self, *widgets: QWidget) -> None:
        """Widgets kept together on one row of the bar (the player panel adds its own)."""
        group = QWidget(self)
        row = QHBoxLayout(group)
        row.setContentsMargins(0, 0, 8, 0)
        row.setSpacing(4)
        for widget in widgets:
            row.addWidget(widget)
        self._flow.addWidget(group)

    def _button(self, text: str, tip: str, signal: SignalInstance | None = None) -> QToolButton:
        button = QToolButton(self)
        button.setText(text)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys belong to the window's keymap
        if signal is not None:
            button.clicked.connect(signal)
        return button

    # -- what the player reports ------------------------------------------------------------
    def set_media(self, info: PlayerMediaInfo | None) -> None:
        """Show ``info``'s counts and rate; a still (or nothing) disables the controls."""
        playable = info is not None and info.is_video
        for child in self.findChildren(QWidget):
            child.setEnabled(playable)
        last = max((info.frame_count if info else 1) - 1, 0)
        self.frame_box.setRange(0, last)
        self.frame_box.setValue(0)
        self._shown = 0
        self.frame_total.setText(f"/ {last}")
        self.duration_label.setText(f"/ {format_time(info.duration if info else 0.0)}")
        self.time_box.setText(format_time(0.0))
        if info is None:
            self.fps_label.setText("")
        elif info.is_video:
            self.fps_label.setText(f"{info.fps:.2f} fps")
        else:
            self.fps_label.setText("Still image")
        self.set_playing(False)
        self.set_loop(None)

    def set_position(self, frame: int, seconds: float) -> None:
        """The frame shown and its time."""
        self._shown = frame
        if "frame" not in self._typing:
            self.frame_box.setValue(frame)
        if "time" not in self._typing:
            self.time_box.setText(format_time(seconds))
            self.time_box.setStyleSheet("")

    def set_playing(self, playing: bool) -> None:
        """Show the pause button while playing, the play button while paused."""
        self.play_button.setIcon(self._pause_icon if playing else self._play_icon)
        self.play_button.setToolTip("Pause (Space)" if playing else "Play (Space)")

    def set_speed(self, speed: float) -> None:
        """Show ``speed`` as selected."""
        index = self.speed_box.findData(speed)
        if index < 0:
            self.speed_box.addItem(f"{speed:g}x", speed)
            index = self.speed_box.count() - 1
        self.speed_box.setCurrentIndex(index)

    def set_loop(self, loop: tuple[int, int] | None) -> None:
        """Show the looped range, if any."""
        self.loop_label.setText("" if loop is None else f"Loop {loop[0]}–{loop[1]}")
        self.loop_clear_button.setEnabled(loop is not None and self.play_button.isEnabled())

    # -- what the user typed ----------------------------------------------------------------
    def _frame_typed(self) -> None:
        self._typing.discard("frame")
        value = self.frame_box.value()
        self.frame_box.clearFocus()
        if value != self._shown:
            self._shown = value
            self.frame_entered.emit(value)

    def _time_typed(self) -> None:
        seconds = parse_time(self.time_box.text())
        self._typing.discard("time")
        self.time_box.clearFocus()
        if seconds is None:
            self.time_box.setStyleSheet("color: #e57373;")  # says "not a time" without a dialog
            return
        self.time_box.setStyleSheet("")
        self.time_entered.emit(seconds)
