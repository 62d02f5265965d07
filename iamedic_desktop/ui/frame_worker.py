"""The player's decoding thread: one FrameSource, serving only the newest frame request.

Threading: a ``FrameWorker`` is moved to its own ``QThread`` and its source is opened, used and
closed on that thread only. ``request`` may be called from any thread: it replaces whatever
request is still waiting (latest wins) and wakes the worker; a request already being decoded
finishes. Results leave as signals (queued to the UI thread) carrying the request's sequence
number, so the receiver can tell a stale result from the newest one. ``shutdown`` closes the
source on the worker thread and then ends that thread's event loop.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QObject, QThread, Signal, Slot
from PySide6.QtGui import QImage

from iamedic_desktop.media.frame_source import FrameSource
from iamedic_desktop.ui.operations import describe_failure

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SourceInfo:
    """What the player needs to know of an opened source (built on the worker thread)."""

    frame_count: int
    fps: float
    width: int
    height: int
    duration: float
    timestamps: npt.NDArray[np.float64]  # frame n's time in seconds from the first frame
    variable_rate: bool  # timestamps are not n / fps: the clock must follow them


def qimage_from_rgb(pixels: npt.NDArray[np.uint8]) -> QImage:
    """An RGB888 QImage owning a copy of ``pixels`` (H x W x 3, uint8)."""
    pixels = np.ascontiguousarray(pixels)
    height, width = pixels.shape[:2]
    view = QImage(pixels.data, width, height, width * 3, QImage.Format.Format_RGB888)
    return view.copy()  # the view borrows the array's memory; the copy owns its pixels


def rgb_from_qimage(image: QImage) -> npt.NDArray[np.uint8]:
    """The pixels of ``image`` as an H x W x 3 uint8 array (a copy; for tests and export)."""
    if image.format() != QImage.Format.Format_RGB888:
        image = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height, stride = image.width(), image.height(), image.bytesPerLine()
    raw = np.frombuffer(image.constBits(), dtype=np.uint8, count=stride * height)
    return raw.reshape(height, stride)[:, : width * 3].reshape(height, width, 3).copy()


class FrameWorker(QObject):
    """Owns one FrameSource on its own thread and decodes the newest frame asked for."""

    opened = Signal(int, object)  # open token, SourceInfo
    open_failed = Signal(int, str)  # open token, message for a person
    frame_decoded = Signal(int, int, QImage)  # sequence number, frame, RGB888 image
    frame_failed = Signal(int, int, str)  # sequence number, frame, message

    _open = Signal(int, str)
    _wake = Signal()
    _close = Signal()

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._pending: tuple[int, int] | None = None  # (sequence, frame) not yet started
        self._closing = False
        self._source: FrameSource | None = None
        self._open.connect(self._on_open)
        self._wake.connect(self._serve)
        self._close.connect(self._on_close)

    # -- any thread -------------------------------------------------------------------------
    def open_source(self, token: int, path: Path) -> None:
        """Open ``path`` on the worker thread; ``opened`` or ``open_failed`` answers."""
        self._open.emit(token, str(path))

    def request(self, seq: int, frame: int) -> None:
        """Ask for ``frame``; replaces a request still waiting (latest wins)."""
        with self._lock:
            if self._closing:
                return
            self._pending = (seq, frame)
        self._wake.emit()

    def shutdown(self) -> None:
        """Drop waiting requests, close the source on its thread, then end the thread."""
        with self._lock:
            self._closing = True
            self._pending = None
        self._close.emit()

    # -- worker thread ----------------------------------------------------------------------
    @Slot(int, str)
    def _on_open(self, token: int, path: str) -> None:
        from iamedic_desktop.media.open_source import open_frame_source

        try:
            source = open_frame_source(Path(path))
            info = _describe(source)
        except Exception as exc:  # reported to the person, never lost on the thread
            log.warning("⚠️ The player could not open %s: %s", Path(path).name, exc)
            self.open_failed.emit(token, describe_failure(exc))
            return
        if self._closing:
            source.close()
            return
        self._source = source
        log.info("✅ Player opened %s (%d frames)", Path(path).name, info.frame_count)
        self.opened.emit(token, info)

    @Slot()
    def _serve(self) -> None:
        with self._lock:
            job, self._pending = self._pending, None
        source = self._source
        if job is None or source is None:
            return
        seq, n = job
        try:
            image = qimage_from_rgb(source.frame(n))
        except Exception as exc:
            log.warning("⚠️ Frame %d could not be decoded: %s", n, exc)
            self.frame_failed.emit(seq, n, describe_failure(exc))
            return
        self.frame_decoded.emit(seq, n, image)

    @Slot()
    def _on_close(self) -> None:
        source, self._source = self._source, None
        try:
            if source is not None:
                source.close()
        except Exception as exc:
            log.warning("⚠️ Closing the player's source failed: %s", exc)
        finally:
            thread = QThread.currentThread()
            if thread is self.thread():
                thread.quit()


def _describe(source: FrameSource) -> SourceInfo:
    """The numbers the player needs of ``source`` (a FrameSource)."""
    count = int(source.frame_count)
    fps = float(source.fps)
    index = getattr(source, "index", None)
    if index is not None and hasattr(index, "seconds"):
        times = np.asarray(index.seconds, dtype=np.float64)
        duration = float(index.duration)
    else:
        times = np.array([source.timestamp(n) for n in range(count)], dtype=np.float64)
        duration = count / fps if fps > 0 and count > 1 else 0.0
    variable = False
    if count > 1 and fps > 0:
        expected = times[0] + np.arange(count) / fps
        variable = bool(np.max(np.abs(times - expected)) > 0.25 / fps)
    return SourceInfo(
        frame_count=count,
        fps=fps,
        width=int(source.width),
        height=int(source.height),
        duration=duration,
        timestamps=times,
        variable_rate=variable,
    )
