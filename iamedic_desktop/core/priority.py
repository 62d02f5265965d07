"""Background work yields the CPU to the window.

On a two-core workstation an import's transcode, timeline thumbnails, the player's read-ahead
and a sync can keep every core busy; the window's thread then waits its turn with them and the
window stalls (measured: gaps of 130-270 ms in the UI thread's event loop while a long video
opened and an import ran, against a goal of 100 ms). Background threads therefore run at a
lower priority (``nice`` 10): they still take every idle cycle, but the window's thread comes
first when both want a core. On Linux each thread has its own nice value, and the threads and
processes a thread starts (ffmpeg's frame threads, an ffmpeg child) inherit it; elsewhere
nothing changes.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

log = logging.getLogger(__name__)

BACKGROUND_NICE = 10


def lower_this_thread() -> None:
    """Run the calling thread, and what it starts from now on, at ``BACKGROUND_NICE``.

    Never raises: a priority is a preference, and a thread already lower stays where it is.
    """
    if sys.platform != "linux":
        return
    tid = threading.get_native_id()
    try:
        if os.getpriority(os.PRIO_PROCESS, tid) < BACKGROUND_NICE:
            os.setpriority(os.PRIO_PROCESS, tid, BACKGROUND_NICE)
    except OSError as exc:
        log.debug("thread priority unchanged: %s", exc)
