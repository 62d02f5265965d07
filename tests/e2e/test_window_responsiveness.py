"""No I/O on the UI thread: the event loop never stalls for 100 ms while a long video opens,
its timeline thumbnails are made and an import (with a transcode) runs, all at once."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Qt, QTimer
from pytestqt.qtbot import QtBot

from iamedic_desktop.core.settings import Settings
from iamedic_desktop.services.imports import import_paths
from iamedic_desktop.services.local_store import open_local_store
from iamedic_desktop.ui.main_window import MainWindow
from tests.e2e.window_fixtures import (  # noqa: F401  (fixtures, used by name)
    isolated_qsettings_fixture,
    main_window_factory_fixture,
    no_operation_left_running_fixture,
    seeded_fixture,
    seeded_template_fixture,
)
from tests.e2e.window_session import STUDY_ALIAS, TIMEOUT_MS, Seeded, open_study
from tests.media_samples import VIDEO_SPECS, VideoSpec, make_video

pytestmark = [pytest.mark.gui, pytest.mark.slow, pytest.mark.timing]

WindowFactory = Callable[[Settings], MainWindow]
TICK_MS = 10
MAX_GAP_MS = 100
# Two minutes of 640x360 at 30 fps (3,600 frames, a key frame every 2 s).
LONG_SPEC = VideoSpec(
    "long_640x360_mp4",
    width=640,
    height=360,
    fps=30,
    frames=3600,
    gop=60,
    extra=("-preset", "ultrafast"),
)
# An AVI the browser cannot play: the import transcodes it in a child process.
TRANSCODED_SPEC = VideoSpec(
    "transcoded_mpeg4_avi", container="avi", codec="mpeg4", width=640, height=480, frames=250
)


class GapRecorder(QObject):
    """A 10 ms timer on the UI thread; the longest time between two of its ticks is the stall."""

    def __init__(self) -> None:
        super().__init__()
        self.gaps_ms: list[float] = []
        self._last = 0.0
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        self._tick()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps_ms.append((now - self._last) * 1000)
        self._last = now

    @property
    def worst_ms(self) -> float:
        return max(self.gaps_ms, default=0.0)


def test_the_event_loop_stays_responsive_while_a_long_video_opens_and_an_import_runs(
    qtbot: QtBot,
    main_window_factory: WindowFactory,
    seeded: tuple[Settings, Seeded],
    tmp_path: Path,
) -> None:
    settings, data = seeded
    sources = tmp_path / "sources"
    long_video = make_video(LONG_SPEC, sources)
    store = open_local_store(settings)
    try:
        report = import_paths(
            store.uow, store.actor, store.media, STUDY_ALIAS, [long_video], settings=settings
        )
        long_media = report.imported[0]
    finally:
        store.close()
    to_import = [make_video(TRANSCODED_SPEC, sources), make_video(VIDEO_SPECS["vp9_webm"], sources)]

    window = main_window_factory(settings)
    with qtbot.waitSignal(window.store_ready, timeout=TIMEOUT_MS):
        window.show()
    open_study(window, data.study_id, qtbot.waitUntil)
    wait_rows = window.browser.media_list.model.rowCount()

    gaps = GapRecorder()
    gaps.start()
    try:
        dialog = window.browser.import_files(to_import)
        assert dialog is not None and dialog.running
        window.open_media(long_media)
        panel = window.player_panel
        qtbot.waitUntil(
            lambda: window.player.media_info is not None and window.player.shown_frame == 0,
            timeout=60_000,
        )
        assert window.player.media_info.frame_count == 3600
        # Over the timeline: the overview strip, then exact thumbnails of the frames in view.
        panel.timeline.zoom(40.0)
        qtbot.waitUntil(lambda: dialog.report is not None, timeout=120_000)
        qtbot.waitUntil(panel.thumbnails.is_idle, timeout=120_000)
        qtbot.waitUntil(
            lambda: window.browser.media_list.model.rowCount() == wait_rows + 2, timeout=60_000
        )
    finally:
        gaps.stop()
    assert len(dialog.report.imported) == 2, dialog.report

    worst = gaps.worst_ms
    slow = sorted(g for g in gaps.gaps_ms if g > MAX_GAP_MS)
    print(f"{len(gaps.gaps_ms)} ticks, worst gap {worst:.1f} ms")
    assert len(gaps.gaps_ms) > 100, "the work was too short to prove anything"
    assert not slow, f"the UI thread stalled: gaps {slow} ms (worst {worst:.0f} ms)"
