"""Background work yields the CPU to the window: worker tasks, the player's read-ahead and what
they start run at a lower priority than the window's thread (Linux gives each thread its own)."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from iamedic_desktop.core.priority import BACKGROUND_NICE, lower_this_thread
from iamedic_desktop.media.video_source import VideoFrameSource
from iamedic_desktop.ui.operations import OperationRunner
from tests.media_samples import VIDEO_SPECS, make_video

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(sys.platform != "linux", reason="per-thread priorities are Linux's"),
]


def _nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def _in_thread(work: Callable[[], list[int]]) -> list[int]:
    seen: list[int] = []
    thread = threading.Thread(target=lambda: seen.extend(work()))
    thread.start()
    thread.join()
    return seen


def test_a_lowered_thread_and_what_it_starts_run_at_the_background_priority() -> None:
    own = _nice()

    def work() -> list[int]:
        before = _nice()
        lower_this_thread()
        child = _in_thread(lambda: [_nice()])
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICE + 5)
        lower_this_thread()  # already lower: stays where it is
        return [before, *child, _nice()]

    assert _in_thread(work) == [own, BACKGROUND_NICE, BACKGROUND_NICE + 5]
    assert _nice() == own  # the calling thread (the window's, in the app) is untouched


def test_worker_tasks_run_at_the_background_priority(qtbot: QtBot) -> None:
    runner = OperationRunner()
    seen: list[int] = []
    runner.run(_nice, on_success=seen.append)
    qtbot.waitUntil(lambda: bool(seen), timeout=10_000)
    runner.shutdown()
    assert seen == [BACKGROUND_NICE]
    assert _nice() < BACKGROUND_NICE


def test_the_players_read_ahead_runs_at_the_background_priority(
    qtbot: QtBot, tmp_path: Path
) -> None:
    path = make_video(VIDEO_SPECS["h264_mp4"], tmp_path)
    with VideoFrameSource(path, readahead=4, cache_index=False) as source:
        source.frame(0)
        workers = [t for t in threading.enumerate() if t.name.startswith("iamedic-readahead")]
        assert len(workers) == 1 and workers[0].native_id is not None
        worker_id = workers[0].native_id

        def lowered() -> bool:
            return os.getpriority(os.PRIO_PROCESS, worker_id) == BACKGROUND_NICE

        qtbot.waitUntil(lowered, timeout=5_000)  # set as its first step
        assert _nice() < BACKGROUND_NICE
