"""The player panel under the canvas: the transport bar over the frame timeline.

It wires a PlayerController to its views: what the player reports moves the labels and the
playhead, what the user asks (buttons, typed frame or time, a click on the timeline) goes to
the player, and the timeline's thumbnails are made by a loader off the UI thread. The extract
button asks the window (``extract_requested``) to store the current frame as a still.

Threading: UI thread only.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QToolButton, QVBoxLayout, QWidget

from iamedic_desktop.ui.player_controller import PlayerController, PlayerMediaInfo
from iamedic_desktop.ui.timeline_thumbnails import TimelineThumbnailLoader
from iamedic_desktop.ui.timeline_widget import THUMB_H, TimelineWidget
from iamedic_desktop.ui.transport_widget import TransportWidget


class PlayerPanel(QWidget):
    """Transport bar, extract button and frame timeline, bound to one PlayerController."""

    extract_requested = Signal(int)  # frame

    def __init__(self, controller: PlayerController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.transport = TransportWidget(self)
        self.timeline = TimelineWidget(self)
        self.thumbnails = TimelineThumbnailLoader(self, height=THUMB_H - 4)
        self.extract_button = QToolButton(self)
        self.extract_button.setObjectName("extractButton")
        self.extract_button.setText("Extract frame")
        self.extract_button.setToolTip("Store this frame as a still of the video (E)")
        self.extract_button.clicked.connect(
            lambda: self.extract_requested.emit(self.controller.current_frame)
        )
        self.extract_button.setEnabled(False)
        self._loop_in: int | None = None
        self._loop_out: int | None = None

        self.transport.add_group(self.extract_button)  # wraps with the bar on a small screen
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.transport)
        layout.addWidget(self.timeline)
        self._wire()

    def _wire(self) -> None:
        player, transport, timeline = self.controller, self.transport, self.timeline
        player.media_opened.connect(self._media_opened)
        player.media_closed.connect(self._media_closed)
        player.position_changed.connect(transport.set_position)
        player.position_changed.connect(lambda frame, _: timeline.set_position(frame))
        player.playing_changed.connect(transport.set_playing)
        player.speed_changed.connect(transport.set_speed)
        player.loop_changed.connect(transport.set_loop)
        player.loop_changed.connect(timeline.set_loop)

        transport.play_pause_clicked.connect(player.toggle_play)
        transport.step_requested.connect(player.step)
        transport.start_requested.connect(player.seek_start)
        transport.end_requested.connect(player.seek_end)
        transport.frame_entered.connect(player.seek)
        transport.time_entered.connect(player.seek_time)
        transport.speed_selected.connect(player.set_speed)
        transport.loop_in_clicked.connect(self.set_loop_in)
        transport.loop_out_clicked.connect(self.set_loop_out)
        transport.loop_clear_clicked.connect(self.clear_loop)

        timeline.seek_requested.connect(player.seek)
        timeline.detail_wanted.connect(self.thumbnails.want_frames)
        self.thumbnails.overview_started.connect(timeline.begin_thumbnails)
        self.thumbnails.overview_thumb.connect(timeline.set_thumbnail)
        self.thumbnails.frame_thumb.connect(timeline.set_frame_thumbnail)

    # -- loop -------------------------------------------------------------------------------
    def set_loop_in(self) -> None:
        """Loop from the current frame (to the loop's end, or the media's end)."""
        self._loop_in = self.controller.current_frame
        if self._loop_out is not None and self._loop_out < self._loop_in:
            self._loop_out = None
        self.controller.set_loop(self._loop_in, self._loop_out)

    def set_loop_out(self) -> None:
        """Loop up to the current frame (from the loop's start, or the media's start)."""
        self._loop_out = self.controller.current_frame
        if self._loop_in is not None and self._loop_in > self._loop_out:
            self._loop_in = None
        self.controller.set_loop(self._loop_in, self._loop_out)

    def clear_loop(self) -> None:
        """Play without a loop."""
        self._loop_in = self._loop_out = None
        self.controller.set_loop(None, None)

    # -- media ------------------------------------------------------------------------------
    def _media_opened(self, info: PlayerMediaInfo) -> None:
        self._loop_in = self._loop_out = None
        self.transport.set_media(info)
        self.extract_button.setEnabled(info.is_video)
        aspect = info.width / info.height if info.height else 4 / 3
        self.timeline.set_media(info.frame_count, info.fps, aspect, self.controller.timestamps)
        self.timeline.setEnabled(info.is_video)
        if info.is_video and info.path is not None:
            self.thumbnails.load(info.path, info.width, info.height)
        else:
            self.thumbnails.stop(wait=False)

    def _media_closed(self) -> None:
        self.thumbnails.stop(wait=True)
        self.transport.set_media(None)
        self.timeline.clear()
        self.extract_button.setEnabled(False)
