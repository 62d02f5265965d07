"""The timeline's thumbnails, made off the UI thread and delivered one by one as they come.

Two kinds: an overview strip of evenly spaced thumbnails over the whole media
(``media.thumbnails.timeline_strip``: keyframes, cached on disk), and the exact thumbnails of
the frames in view when the timeline is zoomed in to single frames (decoded by a FrameSource
of their own). A newer request for exact thumbnails replaces an older one (latest wins).

Threading: call everything on the UI thread. The work runs on OperationRunners made for each
media (one for the strip, one for the exact frames), so changing media never waits for the
previous one; ``stop(wait=True)`` cancels everything and waits for it (closing media).
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal, SignalInstance, Slot
from PySide6.QtGui import QImage

from iamedic_desktop.core.progress import CancelledError, CancelToken
from iamedic_desktop.media.frame_source import RGBFrame
from iamedic_desktop.ui.frame_worker import qimage_from_rgb
from iamedic_desktop.ui.operations import OperationRunner

log = logging.getLogger(__name__)

OVERVIEW_COUNT = 64  # thumbnails over the whole media
BACKGROUND_NICE = 10  # the thumbnail threads' nice value (Linux)


class TimelineThumbnailLoader(QObject):
    """Makes the overview strip and the exact per-frame thumbnails of one media at a time."""

    overview_started = Signal(int)  # how many overview thumbnails will come
    overview_thumb = Signal(int, float, QImage)  # index, seconds, image
    frame_thumb = Signal(int, QImage)  # frame, image

    _overview_arrived = Signal(int, int, float, QImage)  # generation, index, seconds, image
    _frame_arrived = Signal(int, int, QImage)  # generation, frame, image

    def __init__(self, parent: QObject | None = None, *, height: int = 50) -> None:
        super().__init__(parent)
        self._height = height
        self._generation = 0
        self._path: Path | None = None
        self._size = (height, height)
        self._token = CancelToken()
        self._strip: OperationRunner | None = None
        self._detail: OperationRunner | None = None
        self._retiring: list[OperationRunner] = []
        self._wanted: list[int] | None = None  # the newest ask, waiting for the detail runner
        self._detail_busy = False
        self._want_generation = 0
        self._overview_arrived.connect(self._on_overview)
        self._frame_arrived.connect(self._on_frame)

    def load(self, path: Path, width: int, height: int, count: int = OVERVIEW_COUNT) -> None:
        """Start the overview strip of ``path`` (frames width x height) and forget the last."""
        self.stop(wait=False)
        self._generation += 1
        self._path = Path(path)
        self._size = (max(1, round(self._height * width / max(height, 1))), self._height)
        self._token = CancelToken()
        self._strip = OperationRunner(self, max_threads=1)
        self._detail = OperationRunner(self, max_threads=1)
        self.overview_started.emit(count)
        job = functools.partial(
            _overview, self._path, count, self._height, self._token, self._emitter()
        )
        self._strip.run(job, on_failure=self._failed)

    def want_frames(self, frames: list[int]) -> None:
        """Make the exact thumbnails of ``frames`` (replaces an ask not yet started)."""
        if self._detail is None or self._path is None or not frames:
            return
        self._wanted = list(frames)
        self._want_generation += 1
        if not self._detail_busy:
            self._next_detail()

    def stop(self, *, wait: bool) -> None:
        """Cancel the work of the current media; with ``wait``, also wait until it has ended."""
        self._token.cancel()
        self._wanted = None
        self._want_generation += 1
        self._detail_busy = False
        for runner in (self._strip, self._detail):
            if runner is not None:
                self._retiring.append(runner)
        self._strip = self._detail = None
        self._path = None
        if wait:
            for runner in self._retiring:
                runner.shutdown()
                runner.deleteLater()
            self._retiring.clear()
        else:
            for runner in [r for r in self._retiring if r.is_idle()]:
                self._retiring.remove(runner)
                runner.shutdown()
                runner.deleteLater()

    def is_idle(self) -> bool:
        """Whether no thumbnail is being made."""
        runners = [self._strip, self._detail, *self._retiring]
        return all(r is None or r.is_idle() for r in runners)

    # -- detail ------------------------------------------------------------------------------
    def _next_detail(self) -> None:
        frames, self._wanted = self._wanted, None
        if frames is None or self._detail is None or self._path is None:
            self._detail_busy = False
            return
        self._detail_busy = True
        generation = self._want_generation
        job = functools.partial(
            _exact,
            self._path,
            frames,
            self._size,
            self._token,
            lambda: self._want_generation != generation,
            self._frame_emitter(),
        )
        runner = self._detail
        runner.run(
            job,
            on_success=lambda _: self._detail_ended(runner),
            on_failure=lambda error: self._detail_ended(runner, error),
        )

    def _detail_ended(self, runner: OperationRunner, error: BaseException | None = None) -> None:
        if error is not None:
            self._failed(error)
        if runner is self._detail:  # not a media closed since
            self._next_detail()

    # -- delivery ----------------------------------------------------------------------------
    def _emitter(self) -> functools.partial[None]:
        return functools.partial(_emit_overview, self._overview_arrived, self._generation)

    def _frame_emitter(self) -> functools.partial[None]:
        return functools.partial(_emit_frame, self._frame_arrived, self._generation)

    @Slot(int, int, float, QImage)
    def _on_overview(self, generation: int, index: int, seconds: float, image: QImage) -> None:
        if generation == self._generation and self._strip is not None:
            self.overview_thumb.emit(index, seconds, image)

    @Slot(int, int, QImage)
    def _on_frame(self, generation: int, frame: int, image: QImage) -> None:
        if generation == self._generation and self._detail is not None:
            self.frame_thumb.emit(frame, image)

    def _failed(self, error: BaseException) -> None:
        if not isinstance(error, CancelledError):
            log.warning("⚠️ Timeline thumbnails failed: %s", error)


def _emit_overview(
    signal: SignalInstance, generation: int, i: int, seconds: float, pixels: RGBFrame
) -> None:
    signal.emit(generation, i, seconds, qimage_from_rgb(pixels))


def _emit_frame(signal: SignalInstance, generation: int, frame: int, pixels: RGBFrame) -> None:
    signal.emit(generation, frame, qimage_from_rgb(pixels))


def _yield_to_playback() -> None:
    """Lower this worker thread's priority (and its ffmpeg children's): playback comes first.

    On Linux the nice value is per thread and inherited by the threads and processes it
    starts; a nice of 10 leaves thumbnails about a tenth of a busy core, never nothing.
    """
    if not hasattr(os, "setpriority"):
        return
    try:
        thread = threading.get_native_id()
        current = os.getpriority(os.PRIO_PROCESS, thread)
        if current < BACKGROUND_NICE:
            os.setpriority(os.PRIO_PROCESS, thread, BACKGROUND_NICE)
    except OSError as exc:
        log.debug("Thumbnail thread keeps its priority: %s", exc)


def _overview(
    path: Path, count: int, height: int, token: CancelToken, deliver: functools.partial[None]
) -> None:
    """Worker: the evenly spaced strip, each thumbnail delivered as it is made."""
    from iamedic_desktop.media.thumbnails import timeline_strip

    _yield_to_playback()
    timeline_strip(path, count, height=height, cancel=token, on_thumb=deliver)


def _exact(
    path: Path,
    frames: list[int],
    size: tuple[int, int],
    token: CancelToken,
    superseded: Callable[[], bool],
    deliver: functools.partial[None],
) -> None:
    """Worker: exact thumbnails of ``frames``, until cancelled or asked for others."""
    from iamedic_desktop.media.thumbnails import exact_thumbnails

    _yield_to_playback()
    exact_thumbnails(path, frames, size, cancel=token, superseded=superseded, on_thumb=deliver)
