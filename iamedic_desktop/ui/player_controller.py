"""The player: frame-exact seeking and drift-free playback, decoded off the UI thread.

A ``FrameWorker`` on its own thread owns the media's FrameSource. While playing, a precise
timer asks the ``PlaybackClock`` which frame is due and requests it; the worker serves only the
newest request, so when decoding cannot keep up the frames in between are dropped (and
counted), never queued. Every request carries a sequence number: a seek raises a barrier and
any result older than it is discarded, so a stale frame is never painted after a newer one.
Paused, the frame shown is always the exact, full-resolution frame asked for.

Threading: create and drive a controller on the UI thread; its signals are emitted there.
``close_media`` closes the source on the worker thread and waits for that thread to end.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, QTimer, Signal, Slot
from PySide6.QtGui import QImage

from iamedic_desktop.media.playback_clock import MAX_SPEED, MIN_SPEED, PlaybackClock
from iamedic_desktop.ui.frame_requests import FrameRequests
from iamedic_desktop.ui.frame_worker import FrameWorker, SourceInfo

log = logging.getLogger(__name__)

_TICK_MS_MAX = 4  # the timer's period: a due frame is requested at most this late


@dataclass(frozen=True)
class PlayerMediaInfo:
    """The opened media as the player sees it (plain data for the panel and the window)."""

    media_id: Any
    frame_count: int
    fps: float
    width: int
    height: int
    duration: float
    is_video: bool
    path: Path | None = None


class PlayerController(QObject):
    """Opens one media at a time and shows its frames: seek, step, play, speed, loop."""

    media_opened = Signal(object)  # PlayerMediaInfo
    media_closed = Signal()
    frame_ready = Signal(int, QImage)  # frame number, RGB888 image of exactly that frame
    position_changed = Signal(int, float)  # frame shown, its time in seconds
    playing_changed = Signal(bool)
    speed_changed = Signal(float)
    loop_changed = Signal(object)  # (first, last) inclusive, or None
    error = Signal(str)  # a message for a person (the window's notification path)

    def __init__(self, workers_parent: QObject | None = None) -> None:
        super().__init__(workers_parent)
        self._thread: QThread | None = None
        self._worker: FrameWorker | None = None
        self._retired: list[tuple[QThread, FrameWorker]] = []
        self._tokens = itertools.count(1)
        self._open_token = 0
        self._pending_media: tuple[Path, Any] | None = None
        self._requests = FrameRequests()
        self._info: PlayerMediaInfo | None = None
        self._times: list[float] = []
        self._clock: PlaybackClock | None = None
        self._current = 0  # the frame asked for last (shown once its result arrives)
        self._shown: int | None = None
        self._speed = 1.0
        self._loop: tuple[int, int] | None = None
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.close_media)

    # -- state ------------------------------------------------------------------------------
    @property
    def media_info(self) -> PlayerMediaInfo | None:
        """The opened media, or None."""
        return self._info

    @property
    def current_frame(self) -> int:
        """The frame asked for last (the one shown once it is decoded)."""
        return self._current

    @property
    def shown_frame(self) -> int | None:
        """The frame last delivered by ``frame_ready``."""
        return self._shown

    @property
    def is_playing(self) -> bool:
        """Whether playback runs."""
        return self._timer.isActive()

    @property
    def speed(self) -> float:
        """The playback speed factor."""
        return self._speed

    @property
    def loop(self) -> tuple[int, int] | None:
        """The looped frame range (inclusive), or None."""
        return self._loop

    @property
    def is_open(self) -> bool:
        """Whether a worker is running for an opened or opening media."""
        return self._worker is not None

    @property
    def is_idle(self) -> bool:
        """Whether every frame asked for has been delivered or dropped."""
        return self._requests.idle

    @property
    def dropped_frames(self) -> int:
        """Frames that fell due while playing and were never shown (decoding fell behind)."""
        return self._requests.dropped_frames

    @property
    def stats(self) -> FrameRequests:
        """The playback counters: frames due, shown, dropped, delays (read them only)."""
        return self._requests

    @property
    def worker_thread(self) -> QThread | None:
        """The decoding thread of the opened media (for diagnostics and tests)."""
        return self._thread

    @property
    def timestamps(self) -> list[float]:
        """Every frame's time in seconds from the first (empty while nothing is open)."""
        return list(self._times)

    def timestamp(self, frame: int) -> float:
        """Seconds from the first frame to ``frame``."""
        if not self._times:
            return 0.0
        return self._times[min(max(frame, 0), len(self._times) - 1)]

    def frame_at_time(self, seconds: float) -> int:
        """The frame shown at ``seconds``."""
        if not self._times:
            return 0
        index = bisect.bisect_right(self._times, seconds + 1e-9) - 1
        return min(max(index, 0), len(self._times) - 1)

    def reset_stats(self) -> None:
        """Zero the playback counters (frames due, shown, dropped, latencies)."""
        self._requests.reset_stats()

    # -- opening and closing ----------------------------------------------------------------
    def open_media(self, path: Path, media: Any) -> None:
        """Open ``media`` (its file at ``path``) on a worker; ``media_opened`` follows."""
        self._retire(wait=False)
        self._info, self._times, self._clock = None, [], None
        self._current, self._shown, self._loop = 0, None, None
        self.reset_stats()
        thread = QThread()
        thread.setObjectName("iamedic-player")
        worker = FrameWorker()
        worker.moveToThread(thread)
        worker.opened.connect(self._on_opened)
        worker.open_failed.connect(self._on_open_failed)
        worker.frame_decoded.connect(self._on_decoded)
        worker.frame_failed.connect(self._on_failed)
        thread.start()
        self._thread, self._worker = thread, worker
        self._open_token = next(self._tokens)
        self._pending_media = (Path(path), media)
        log.info("🔄 Opening %s in the player", Path(path).name)
        worker.open_source(self._open_token, Path(path))

    def close_media(self) -> None:
        """Stop playback, close the source on its thread and wait for the thread to end."""
        had_media = self._worker is not None
        self._retire(wait=True)
        for thread, _ in list(self._retired):
            thread.wait()
        self._retired.clear()
        self._info, self._times, self._clock, self._shown = None, [], None, None
        if had_media:
            self.media_closed.emit()

    def _retire(self, *, wait: bool) -> None:
        if self._timer.isActive():
            self.pause()
        self._requests.forget()
        thread, worker = self._thread, self._worker
        self._thread = self._worker = None
        if thread is None or worker is None:
            return
        worker.shutdown()
        if wait:
            thread.wait()
            worker.deleteLater()
            thread.deleteLater()
            return
        self._retired.append((thread, worker))
        thread.finished.connect(self._forget_retired)

    @Slot()
    def _forget_retired(self) -> None:
        for pair in [p for p in self._retired if p[0].isFinished()]:
            self._retired.remove(pair)
            pair[1].deleteLater()
            pair[0].deleteLater()

    @Slot(int, object)
    def _on_opened(self, token: int, source: SourceInfo) -> None:
        if token != self._open_token or self._pending_media is None:
            return  # a media replaced since
        path, media = self._pending_media
        is_video = source.frame_count > 1 and source.fps > 0
        self._info = PlayerMediaInfo(
            media_id=getattr(media, "id", None),
            frame_count=source.frame_count,
            fps=source.fps,
            width=source.width,
            height=source.height,
            duration=source.duration,
            is_video=is_video,
            path=path,
        )
        self._times = [float(t) for t in source.timestamps]
        if is_video:
            times = self._times if source.variable_rate else None
            self._clock = PlaybackClock(source.frame_count, source.fps, times)
            self._clock.set_speed(self._speed, time.monotonic())
        self._current = min(self._current, source.frame_count - 1)
        self.media_opened.emit(self._info)
        self._request(self._current, playing=False)

    @Slot(int, str)
    def _on_open_failed(self, token: int, message: str) -> None:
        if token != self._open_token:
            return
        self._retire(wait=False)
        self.media_closed.emit()  # whatever the views showed before is gone
        self.error.emit(message)

    # -- navigation -------------------------------------------------------------------------
    def seek(self, frame: int) -> None:
        """Show exactly ``frame`` (clamped); playback, if running, goes on from there."""
        frame = self._clamp(frame)
        self._current = frame
        if self._info is None:
            return  # shown once the media has opened
        if self.is_playing and self._clock is not None:
            self._clock.start(frame, time.monotonic())
            frame = self._clock.tick(time.monotonic()).frame
            self._current = frame
        self._request(frame, playing=False)

    def step(self, delta: int) -> None:
        """Pause and move ``delta`` frames from the frame asked for last."""
        if self.is_playing:
            self.pause()
        self.seek(self._current + delta)

    def seek_start(self) -> None:
        """Show the first frame (of the loop, when one is set)."""
        self.seek(self._loop[0] if self._loop else 0)

    def seek_end(self) -> None:
        """Show the last frame (of the loop, when one is set)."""
        last = self._info.frame_count - 1 if self._info else 0
        self.seek(self._loop[1] if self._loop else last)

    def seek_time(self, seconds: float) -> None:
        """Show the frame on screen at ``seconds``."""
        self.seek(self.frame_at_time(seconds))

    # -- playback ---------------------------------------------------------------------------
    def play(self) -> None:
        """Play from the current frame at the media's own rate times the speed."""
        if self._clock is None or self._info is None or self.is_playing:
            return
        last = self._info.frame_count - 1
        if self._loop is None and self._current >= last:
            self._current = 0  # at the end: play again from the start
        now = time.monotonic()
        loop_start, loop_end = self._loop or (None, None)
        self._clock.set_loop(loop_start, loop_end, now)
        self._clock.start(self._current, now)
        frame = self._clock.tick(now).frame
        if frame != self._current or self._shown != frame:
            self._current = frame
            self._request(frame, playing=False)
        self._timer.start(self._tick_ms())
        log.info("▶ Playing from frame %d at %.2fx", frame, self._speed)
        self.playing_changed.emit(True)

    def pause(self) -> None:
        """Stop on the frame due now; that exact frame stays on screen."""
        if not self._timer.isActive():
            return
        self._timer.stop()
        if self._clock is not None:
            self._clock.stop()
        self.playing_changed.emit(False)

    def toggle_play(self) -> None:
        """Play when paused, pause when playing."""
        if self.is_playing:
            self.pause()
        else:
            self.play()

    def set_speed(self, x: float) -> None:
        """Play at ``x`` times the media's rate (0.25x to 4x)."""
        x = min(MAX_SPEED, max(MIN_SPEED, float(x)))
        if x == self._speed:
            return
        self._speed = x
        if self._clock is not None:
            self._clock.set_speed(x, time.monotonic())
        if self.is_playing:
            self._timer.setInterval(self._tick_ms())
        self.speed_changed.emit(x)

    def set_loop(self, start: int | None, end: int | None) -> None:
        """Repeat frames ``start``..``end`` (inclusive; a missing end is the media's end)."""
        if start is None and end is None:
            loop = None
        else:
            count = self._info.frame_count if self._info else 1
            first = 0 if start is None else min(max(start, 0), count - 1)
            last = count - 1 if end is None else min(max(end, 0), count - 1)
            loop = (min(first, last), max(first, last))
        if loop == self._loop:
            return
        self._loop = loop
        if self._clock is not None:
            loop_start, loop_end = loop or (None, None)
            self._clock.set_loop(loop_start, loop_end, time.monotonic())
        self.loop_changed.emit(loop)

    @Slot()
    def _tick(self) -> None:
        if self._clock is None:
            return
        now = time.monotonic()
        tick = self._clock.tick(now)
        if tick.changed:
            self._requests.fell_due(tick.skipped)
            self._current = tick.frame
            self._request(tick.frame, playing=True, due=now)
        if tick.finished:
            self.pause()

    def _tick_ms(self) -> int:
        fps = self._info.fps if self._info else 30.0
        period_ms = 1000.0 / max(fps * self._speed, 1.0)
        return max(1, min(_TICK_MS_MAX, int(period_ms / 4)))

    # -- requests and results ---------------------------------------------------------------
    def _request(self, frame: int, *, playing: bool, due: float | None = None) -> None:
        if self._worker is None:
            return
        due = time.monotonic() if due is None else due
        self._worker.request(self._requests.ask(frame, playing=playing, due=due), frame)

    @Slot(int, int, QImage)
    def _on_decoded(self, seq: int, frame: int, image: QImage) -> None:
        if not self._requests.answered(seq, time.monotonic()):
            return  # stale (a newer jump was asked for) or from a media closed since
        self._shown = frame
        self.frame_ready.emit(frame, image)
        self.position_changed.emit(frame, self.timestamp(frame))

    @Slot(int, int, str)
    def _on_failed(self, seq: int, frame: int, message: str) -> None:
        if self._requests.failed(seq):
            self.pause()
            self.error.emit(message)

    def _clamp(self, frame: int) -> int:
        count = self._info.frame_count if self._info else None
        return max(0, int(frame)) if count is None else min(max(int(frame), 0), count - 1)
