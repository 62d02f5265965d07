"""Playback of a 720p 30 fps H.264 video through the player, offscreen: frames due vs shown.

The 20 s clip of ``_media.py`` (1280x720, 30 fps, GOP 60, B-frames) is opened in a
``PlayerController`` wired to a ``PlayerPanel`` (transport labels and timeline repainted on
every frame) and to a screen widget that paints each delivered frame scaled to 960x540, as the
canvas does. It plays for 10 s of wall time at 1x from frame 0 once the timeline thumbnails
are made (steady state), then once more straight after opening with an empty thumbnail cache
(the strip's two ffmpeg processes compete for the two cores), then 4 s at 2x (60 frames/s).
For each run: frames that fell due, frames shown, frames dropped (passed over by the clock or
replaced before decoding), where the playhead ended against the wall clock (drift), the delay
from a frame falling due to its image reaching the UI thread, and the longest pause of the
UI event loop (a 5 ms heartbeat timer). The reference is the frame source's own sequential
speed: ``iter_frames`` and ``frame(n)`` in order, no Qt, per frame.
Goal: no dropped frame at 1x on this two-core machine (the steady-state run).

    QT_QPA_PLATFORM=offscreen uv run python benchmarks/bench_playback.py
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from _media import clip_720p, machine, median, percentile, verdict, work_dir

from iamedic_desktop.core.settings import reset_settings_cache
from iamedic_desktop.media.video_source import VideoFrameSource

FPS = 30.0
PLAY_SECONDS = 10.0


def reference(path: Path) -> tuple[float, float]:
    """Milliseconds per frame of the frame source decoding in order: iter_frames, frame(n)."""
    with VideoFrameSource(path, readahead=0, index_cache_dir=work_dir("playback")) as source:
        source.frame(0)
        started = time.perf_counter()
        count = sum(1 for _ in source.iter_frames(0, 300))
        per_iter = (time.perf_counter() - started) / count
        started = time.perf_counter()
        for n in range(1, 300):
            source.frame(n)
        per_frame = (time.perf_counter() - started) / 299
    return per_iter * 1000, per_frame * 1000


def play(path: Path, *, seconds: float, speed: float, start: int, wait_thumbs: bool) -> dict:
    """One playback run in a fresh controller and panel; its counters."""
    from PySide6.QtCore import QEventLoop, Qt, QTimer
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget

    from iamedic_desktop.models.central import MediaType
    from iamedic_desktop.ui.player_controller import PlayerController
    from iamedic_desktop.ui.player_panel import PlayerPanel
    from tests.gui.player_media import media_dto

    app = QApplication.instance() or QApplication(sys.argv)

    class Screen(QWidget):
        """Paints the newest frame scaled into itself, like the canvas."""

        def __init__(self) -> None:
            super().__init__()
            self.image: QImage | None = None
            self.setFixedSize(960, 540)

        def show_frame(self, _: int, image: QImage) -> None:
            self.image = image
            self.repaint()  # paint now, inside the delivery, so its cost is counted

        def paintEvent(self, _: object) -> None:
            if self.image is not None:
                painter = QPainter(self)
                painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
                painter.drawImage(self.rect(), self.image)
                painter.end()

    def wait_until(condition: Callable[[], bool], timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        loop = QEventLoop()
        poll = QTimer()

        def check() -> None:
            if condition() or time.monotonic() > deadline:
                loop.quit()

        poll.timeout.connect(check)
        poll.start(2)
        loop.exec()
        poll.stop()

    controller = PlayerController()
    window = QWidget()
    screen = Screen()
    panel = PlayerPanel(controller)
    layout = QVBoxLayout(window)
    layout.addWidget(screen)
    layout.addWidget(panel)
    window.resize(1280, 800)
    window.show()
    controller.frame_ready.connect(screen.show_frame)
    controller.open_media(path, media_dto(path, MediaType.VIDEO))
    wait_until(lambda: controller.shown_frame == 0)
    if wait_thumbs:
        wait_until(panel.thumbnails.is_idle)
    controller.seek(start)
    wait_until(lambda: controller.shown_frame == start)
    controller.set_speed(speed)

    gaps: list[float] = []
    last = [time.monotonic()]

    def beat() -> None:
        now = time.monotonic()
        gaps.append(now - last[0])
        last[0] = now

    heartbeat = QTimer()
    heartbeat.setTimerType(Qt.TimerType.PreciseTimer)
    heartbeat.timeout.connect(beat)
    heartbeat.start(5)
    controller.reset_stats()
    started = time.monotonic()
    controller.play()
    wait_until(lambda: time.monotonic() - started >= seconds or not controller.is_playing)
    elapsed = time.monotonic() - started
    due_frame = controller.current_frame
    controller.pause()
    heartbeat.stop()
    wait_until(lambda: controller.is_idle)
    result = {
        "elapsed": elapsed,
        "expected": start + min(elapsed * FPS * speed, 599 - start),
        "due_frame": due_frame,
        "due": controller.stats.frames_due,
        "shown": controller.stats.frames_shown,
        "dropped": controller.dropped_frames,
        "passed_over": controller.stats.passed_over,
        "latency": list(controller.stats.latencies),
        "gap": max(gaps) if gaps else 0.0,
        "exact_pause": controller.shown_frame == controller.current_frame,
    }
    controller.close_media()
    window.close()
    window.deleteLater()
    app.processEvents()
    return result


def report(name: str, run: dict) -> None:
    latency = [v * 1000 for v in run["latency"]] or [0.0]
    drift = run["due_frame"] - math.floor(run["expected"])  # the timer ticks every 4 ms
    print(
        f"{name}: {run['shown']} shown of {run['due']} due, {run['dropped']} dropped "
        f"({run['passed_over']} passed over by a late tick, "
        f"{run['dropped'] - run['passed_over']} replaced before decoding); "
        f"playhead at frame {run['due_frame']} after {run['elapsed']:.2f} s "
        f"(wall clock says {run['expected']:.2f}: {drift:+d} frames); "
        f"due-to-UI delay median {median(latency):.1f} ms, p95 {percentile(latency, 0.95):.1f} ms,"
        f" max {max(latency):.1f} ms; longest UI pause {run['gap'] * 1000:.0f} ms; "
        f"paused on the exact frame: {run['exact_pause']}"
    )


def main() -> None:
    path = clip_720p()
    cache = work_dir("playback")
    os.environ["IAMEDIC_CACHE_DIR"] = str(cache)
    reset_settings_cache()
    print(f"Machine: {machine()}")
    per_iter, per_frame = reference(path)
    print(
        f"Reference, frame source alone: iter_frames {per_iter:.2f} ms/frame "
        f"({1000 / per_iter:.0f} frames/s), frame(n) in order without read-ahead "
        f"{per_frame:.2f} ms/frame ({1000 / per_frame:.0f} frames/s); 30 fps needs 33.3 ms/frame"
    )
    steady = play(path, seconds=PLAY_SECONDS, speed=1.0, start=0, wait_thumbs=True)
    report("1x, 10 s, thumbnails made", steady)
    fresh = Path(tempfile.mkdtemp(prefix="thumbs-", dir=cache))
    try:
        os.environ["IAMEDIC_CACHE_DIR"] = str(fresh)
        reset_settings_cache()
        cold = play(path, seconds=PLAY_SECONDS, speed=1.0, start=0, wait_thumbs=False)
        report("1x, 10 s, right after opening (thumbnails being made)", cold)
    finally:
        shutil.rmtree(fresh, ignore_errors=True)
        os.environ["IAMEDIC_CACHE_DIR"] = str(cache)
        reset_settings_cache()
    double = play(path, seconds=4.0, speed=2.0, start=300, wait_thumbs=True)
    report("2x, 4 s (60 frames/s)", double)
    met = steady["dropped"] == 0
    print(
        f"Goal: no dropped frame at 1x: {steady['dropped']} dropped ({cold['dropped']} while "
        f"the thumbnails were being made, for information): {verdict(met)}"
    )


if __name__ == "__main__":
    main()
