"""Progress on the terminal and Ctrl+C for long commands (import, extraction).

One bar and one Ctrl+C rule for every command: the first Ctrl+C asks the work to stop after
its current step (what was done stays done), a second one stops at once.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from iamedic_desktop.core.progress import CancelToken, Progress

BAR_WIDTH = 24


class ProgressBar:
    """A self-overwriting progress bar on a terminal; silent when not a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self.shown = False

    def __call__(self, progress: Progress) -> None:
        if not self.enabled:
            return
        filled = int(progress.fraction * BAR_WIDTH)
        bar = "█" * filled + "·" * (BAR_WIDTH - filled)
        line = f"⏳ [{bar}] {progress.done}/{progress.total}  {progress.message[:60]}"
        self.stream.write(f"\r\x1b[K{line}")
        self.stream.flush()
        self.shown = True

    def end(self) -> None:
        """Clear the bar once the work is over."""
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False


@contextmanager
def cancel_on_ctrl_c(token: CancelToken, step: str) -> Iterator[None]:
    """While inside, the first Ctrl+C cancels ``token`` (stopping after the current ``step``)."""

    def handler(signum: int, frame: object) -> None:
        if token.cancelled:
            raise KeyboardInterrupt
        token.cancel()
        print(f"\n⚠️ Stopping after the current {step}...", file=sys.stderr, flush=True)

    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach the main thread only; a caller elsewhere cancels by the token
        return
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
