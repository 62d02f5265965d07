"""Progress reports and cancellation for long work (imports, extraction, thumbnails).

Threading: a CancelToken is set from any thread (the UI's Cancel button, Ctrl+C) and polled by
the worker between steps; a progress callback is called on the worker's thread, so a UI adapter
must forward it to the UI thread (ui/operations.py does).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from iamedic_desktop.core.errors import IamedicError


@dataclass(frozen=True)
class Progress:
    """``done`` of ``total`` steps, with a short description of the current one."""

    done: int
    total: int
    message: str = ""

    @property
    def fraction(self) -> float:
        """0.0 to 1.0 (1.0 when there is nothing to do)."""
        return 1.0 if self.total <= 0 else min(1.0, self.done / self.total)


ProgressCallback = Callable[[Progress], None]


def no_progress(_: Progress) -> None:
    """The progress callback of callers that do not show progress."""


class CancelledError(IamedicError):
    """The user cancelled the operation; what was finished before stays done."""


class CancelToken:
    """A thread-safe flag a worker polls between steps."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the work to stop at its next step."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """Whether cancel() was called."""
        return self._event.is_set()

    def raise_if_cancelled(self, what: str = "The operation") -> None:
        """Raise CancelledError once cancel() was called."""
        if self._event.is_set():
            raise CancelledError(f"{what} was cancelled.")
