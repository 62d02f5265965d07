"""The timeline's view geometry: which frames are in view and where each one is drawn.

Plain Python (no Qt), so the zoom and scroll rules are easy to reason about and test: the view
spans ``span`` frames from ``first`` (fractional) across ``width`` pixels, from the whole media
down to one thumbnail cell per frame.
"""

from __future__ import annotations

import math


class TimelineView:
    """The visible frame range of a timeline ``width`` pixels wide with ``cell``-wide thumbs."""

    def __init__(self) -> None:
        self.count = 0  # frames in the media
        self.width = 1  # pixels
        self.cell = 64  # width of one thumbnail cell in pixels
        self.first = 0.0  # first frame in view (fractional)
        self.span = 1.0  # frames in view

    @property
    def ppf(self) -> float:
        """Pixels per frame."""
        return max(self.width, 1) / self.span

    def min_span(self) -> float:
        """The narrowest view: one thumbnail cell per frame (single frames)."""
        return min(max(1.0, self.width / self.cell), float(max(self.count, 1)))

    def x_of(self, frame: float) -> float:
        """The x of the middle of ``frame``."""
        return (frame + 0.5 - self.first) * self.ppf

    def frame_at(self, x: float) -> int:
        """The frame under ``x`` (clamped to the media)."""
        frame = math.floor(self.first + x / self.ppf)
        return min(max(frame, 0), max(self.count - 1, 0))

    def set_view(self, first: float, span: float) -> bool:
        """Show ``span`` frames from ``first`` (clamped); whether the view changed."""
        count = float(max(self.count, 1))
        span = min(max(span, self.min_span()), count)
        first = min(max(first, 0.0), count - span)
        if (first, span) == (self.first, self.span):
            return False
        self.first, self.span = first, span
        return True

    def fit_all(self) -> bool:
        """Show the whole media."""
        return self.set_view(0.0, float(max(self.count, 1)))

    def zoom(self, factor: float, anchor_x: float) -> bool:
        """Zoom by ``factor`` (> 1: in) keeping the frame under ``anchor_x`` where it is."""
        at = self.first + anchor_x / self.ppf
        span = min(max(self.span / factor, self.min_span()), float(max(self.count, 1)))
        return self.set_view(at - anchor_x * span / max(self.width, 1), span)

    def pan(self, frames: float) -> bool:
        """Scroll by ``frames`` (negative: back)."""
        return self.set_view(self.first + frames, self.span)

    def show_frame(self, frame: int) -> bool:
        """Scroll so that ``frame`` is in view (a tenth from the left when it was not)."""
        if self.first <= frame + 0.5 <= self.first + self.span:
            return False
        return self.set_view(frame - self.span * 0.1, self.span)

    def visible_frames(self) -> range:
        """The frames at least partly in view."""
        first = max(0, math.floor(self.first))
        last = min(self.count - 1, math.ceil(self.first + self.span) - 1)
        return range(first, last + 1)

    def cells(self) -> list[tuple[float, int]]:
        """Each visible thumbnail cell's left x and the frame at its middle."""
        if not self.count:
            return []
        cell, ppf = self.cell, self.ppf
        if ppf >= cell:  # single frames: one cell per frame
            return [(self.x_of(f) - cell / 2, f) for f in self.visible_frames()]
        start = math.floor(self.first * ppf / cell)
        cells = []
        for c in range(start, start + self.width // cell + 2):
            if c * cell >= self.count * ppf:
                break
            frame = min(math.floor((c + 0.5) * cell / ppf), self.count - 1)
            cells.append((c * cell - self.first * ppf, frame))
        return cells
