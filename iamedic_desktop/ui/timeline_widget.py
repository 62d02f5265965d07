"""The frame timeline under the player: thumbnails, playhead, markers, a score lane, seeking.

Custom-painted (one widget, no scene): a ruler with times, a thumbnail strip zoomable from the
whole media to single frames, three marker rows (extracted stills, annotated frames,
predictions) and a lane drawing any per-frame series. A click or a drag asks to seek; the wheel
zooms around the pointer (Shift+wheel pans). Thumbnails come from outside: an overview strip
of evenly spaced ones, and exact per-frame ones the widget asks for (``detail_wanted``) when
the view is narrow enough to show single frames.

Threading: UI thread only; it never decodes, it only paints the images it is given.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPolygonF,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from iamedic_desktop.ui import theme
from iamedic_desktop.ui.timeline_view import TimelineView

RULER_H = 18
THUMB_H = 54
MARKER_ROW_H = 6
SCORE_H = 34
MARKER_KINDS = ("still", "annotated", "prediction")
MARKER_COLOURS = {"still": "#4fc3f7", "annotated": "#66bb6a", "prediction": "#ffa726"}
SCORE_COLOUR = "#b39ddb"
PLAYHEAD_COLOUR = "#f2f2f2"
LOOP_COLOUR = "#3a6ea5"
DETAIL_MAX_SPAN = 900  # frames in view at most for exact per-frame thumbnails
_TICK_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)  # seconds
_FRAME_STEPS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000)


class TimelineWidget(QWidget):
    """A zoomable frame timeline: thumbnails, playhead, markers and a per-frame score lane."""

    seek_requested = Signal(int)  # frame
    detail_wanted = Signal(list)  # frames whose exact thumbnails would be shown now
    view_changed = Signal(float, float)  # first frame in view, frames in view

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMouseTracking(False)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._view = TimelineView()
        self._fps = 0.0
        self._times: list[float] = []
        self._position = 0
        self._markers: dict[str, list[int]] = {kind: [] for kind in MARKER_KINDS}
        self._scores: list[float] | None = None
        self._score_range = (0.0, 1.0)
        self._loop: tuple[int, int] | None = None
        self._overview: list[tuple[float, QImage] | None] = []
        self._details: dict[int, QImage] = {}
        self._dragging = False
        self._asked: list[int] = []

    # -- content ----------------------------------------------------------------------------
    def set_media(
        self, frame_count: int, fps: float, aspect: float, timestamps: Sequence[float] = ()
    ) -> None:
        """Show a media of ``frame_count`` frames (aspect: width / height of a frame)."""
        self._view.count = max(0, frame_count)
        self._view.cell = max(8, round((THUMB_H - 4) * (aspect if aspect > 0 else 4 / 3)))
        self._fps = fps
        self._times = [float(t) for t in timestamps]
        self._position = 0
        self._markers = {kind: [] for kind in MARKER_KINDS}
        self._scores, self._loop = None, None
        self._overview, self._details, self._asked = [], {}, []
        self.fit_all()

    def clear(self) -> None:
        """Show nothing."""
        self.set_media(0, 0.0, 4 / 3)

    def set_position(self, frame: int) -> None:
        """Move the playhead to ``frame``, scrolling the view to keep it visible."""
        if frame == self._position:
            return
        self._position = frame
        if self._view.count:
            self._changed(self._view.show_frame(frame))
        self.update()

    def set_markers(self, kind: str, frames: list[int]) -> None:
        """Mark ``frames`` as ``kind``: "still", "annotated" or "prediction"."""
        if kind not in self._markers:
            raise ValueError(f"Unknown marker kind {kind!r}; expected one of {MARKER_KINDS}.")
        self._markers[kind] = sorted(set(frames))
        self.update()

    def markers(self, kind: str) -> list[int]:
        """The frames marked as ``kind``."""
        return list(self._markers[kind])

    def set_scores(self, scores: Sequence[float] | None) -> None:
        """Draw one value per frame in the score lane (None: an empty lane)."""
        self._scores = None if scores is None else [float(s) for s in scores]
        if self._scores:
            low, high = min(self._scores), max(self._scores)
            inside = low >= 0.0 and high <= 1.0
            self._score_range = (0.0, 1.0) if inside else (low, high if high > low else low + 1)
        self.update()

    def scores(self) -> list[float] | None:
        """The values the score lane draws, one per frame (None: an empty lane)."""
        return None if self._scores is None else list(self._scores)

    def set_loop(self, loop: tuple[int, int] | None) -> None:
        """Shade the looped range (inclusive), or none."""
        self._loop = loop
        self.update()

    def begin_thumbnails(self, count: int) -> None:
        """An overview strip of ``count`` evenly spaced thumbnails is on its way."""
        self._overview = [None] * count
        self.update()

    def set_thumbnail(self, index: int, seconds: float, image: QImage) -> None:
        """Overview thumbnail ``index`` (taken at ``seconds``) has arrived."""
        if 0 <= index < len(self._overview):
            self._overview[index] = (seconds, image)
            self.update()

    def set_frame_thumbnail(self, frame: int, image: QImage) -> None:
        """The exact thumbnail of ``frame`` has arrived."""
        self._details[frame] = image
        self.update()

    # -- view -------------------------------------------------------------------------------
    def view_range(self) -> tuple[float, float]:
        """The first frame in view and how many frames the view spans."""
        return self._view.first, self._view.span

    def cell_width(self) -> int:
        """Width of one thumbnail cell in pixels."""
        return self._view.cell

    def x_of(self, frame: float) -> float:
        """The x of the middle of ``frame`` in the widget."""
        return self._view.x_of(frame)

    def frame_at(self, x: float) -> int:
        """The frame under ``x``."""
        return self._view.frame_at(x)

    def fit_all(self) -> None:
        """Show the whole media."""
        self._changed(self._view.fit_all())

    def zoom(self, factor: float, anchor_x: float | None = None) -> None:
        """Zoom by ``factor`` (> 1 in) keeping the frame under ``anchor_x`` in place."""
        if self._view.count:
            x = self.width() / 2 if anchor_x is None else anchor_x
            self._changed(self._view.zoom(factor, x))

    def _changed(self, changed: bool) -> None:
        """Repaint and tell after the view moved; ask for the exact thumbnails it shows."""
        if not changed:
            return
        self.update()
        self.view_changed.emit(self._view.first, self._view.span)
        self._ask_for_details()

    def _ask_for_details(self) -> None:
        view = self._view
        if not view.count or view.span > DETAIL_MAX_SPAN:
            return
        if self._overview and view.cell / view.ppf >= view.count / len(self._overview):
            return  # a cell spans an overview slot or more: the overview tells them apart
        wanted = [f for _, f in self._view.cells() if f not in self._details]
        if wanted and wanted != self._asked:
            self._asked = wanted
            self.detail_wanted.emit(wanted)

    # -- events -----------------------------------------------------------------------------
    def sizeHint(self) -> QSize:
        return QSize(640, RULER_H + THUMB_H + 3 * MARKER_ROW_H + 4 + SCORE_H)

    def minimumSizeHint(self) -> QSize:
        return QSize(120, self.sizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        view = self._view
        view.width = max(1, self.width())
        view.set_view(view.first, view.span)  # the narrowest span depends on the width
        self.update()
        self._ask_for_details()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._view.count:
            self._dragging = True
            self.seek_requested.emit(self.frame_at(event.position().x()))
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._dragging:
            x = event.position().x()
            frame = self.frame_at(x)
            if x < 0 or x > self.width():  # dragging past an edge scrolls the view
                past = x if x < 0 else x - self.width()
                self._changed(self._view.pan(past / self._view.ppf))
            self.seek_requested.emit(frame)
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._dragging and event.button() == Qt.MouseButton.LeftButton:
            self._dragging = False
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta()
        if not self._view.count:
            return
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier or abs(delta.x()) > abs(delta.y()):
            steps = (delta.x() or delta.y()) / 120
            self._changed(self._view.pan(-steps * self._view.span * 0.1))
        elif delta.y():
            self.zoom(1.25 ** (delta.y() / 120), event.position().x())
        event.accept()

    # -- painting ---------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(theme.BASE))
        if self._view.count:
            self._paint_loop(painter)
            self._paint_ruler(painter)
            self._paint_thumbnails(painter)
            self._paint_markers(painter)
            self._paint_scores(painter)
            self._paint_playhead(painter)
        painter.end()

    def _thumb_rect(self) -> QRectF:
        return QRectF(0, RULER_H, self.width(), THUMB_H)

    def _marker_top(self) -> int:
        return RULER_H + THUMB_H + 2

    def _score_rect(self) -> QRectF:
        top = self._marker_top() + 3 * MARKER_ROW_H + 2
        return QRectF(0, top, self.width(), SCORE_H)

    def _paint_loop(self, painter: QPainter) -> None:
        if self._loop is None:
            return
        left = self.x_of(self._loop[0] - 0.5)
        right = self.x_of(self._loop[1] + 0.5)
        colour = QColor(LOOP_COLOUR)
        colour.setAlpha(70)
        painter.fillRect(QRectF(left, 0, right - left, self.height()), colour)

    def _paint_ruler(self, painter: QPainter) -> None:
        painter.setPen(QColor(theme.MUTED))
        view = self._view
        ppf = view.ppf
        first, last = view.visible_frames()[0], view.visible_frames()[-1]
        fps = self._fps if self._fps > 0 else 1.0
        step_s = next((s for s in _TICK_STEPS if s * fps * ppf >= 70), None)
        if step_s is None or step_s * fps > view.span:
            # Less than a labelled second in view: label frame numbers instead.
            step = next((k for k in _FRAME_STEPS if k * ppf >= 50), _FRAME_STEPS[-1])
            for f in range(first - first % step, last + 1, step):
                x = self.x_of(f) - ppf / 2
                painter.drawLine(QPointF(x, RULER_H - 5), QPointF(x, RULER_H))
                painter.drawText(QPointF(x + 3, RULER_H - 6), f"#{f}")
        else:
            t = math.floor(self._time_of(first) / step_s) * step_s
            while t <= self._time_of(last) + step_s:
                x = self.x_of(self._frame_of_time(t)) - ppf / 2
                if 0 <= x <= self.width():
                    painter.drawLine(QPointF(x, RULER_H - 5), QPointF(x, RULER_H))
                    painter.drawText(QPointF(x + 3, RULER_H - 6), _clock(t))
                t += step_s
        if ppf >= 6:  # a tick per frame once frames are wide enough to tell apart
            for f in range(first, last + 1):
                x = self.x_of(f) - ppf / 2
                painter.drawLine(QPointF(x, RULER_H - 2), QPointF(x, RULER_H))

    def _paint_thumbnails(self, painter: QPainter) -> None:
        strip = self._thumb_rect()
        painter.fillRect(strip, QColor("#0b0b0c"))
        width = self.cell_width()
        for x, frame in self._view.cells():
            image = self._details.get(frame) or self._overview_image(frame)
            if image is None:
                continue
            target = QRectF(x + 1, strip.top() + 2, width - 2, strip.height() - 4)
            painter.drawImage(target, image)

    def _overview_image(self, frame: int) -> QImage | None:
        if not self._overview:
            return None
        count = len(self._overview)
        slot = min(count - 1, max(0, int(frame * count / max(self._view.count, 1))))
        best = self._overview[slot]
        if best is None:  # not there yet: the nearest that is
            for offset in range(1, count):
                for k in (slot - offset, slot + offset):
                    if 0 <= k < count and self._overview[k] is not None:
                        best = self._overview[k]
                        break
                if best is not None:
                    break
        return None if best is None else best[1]

    def _paint_markers(self, painter: QPainter) -> None:
        top = self._marker_top()
        view = self._view
        width = max(2.0, min(view.ppf, 6.0))
        first, last = view.first - 1, view.first + view.span + 1
        for row, kind in enumerate(MARKER_KINDS):
            colour = QColor(MARKER_COLOURS[kind])
            frames = self._markers[kind]
            lo = bisect.bisect_left(frames, first)
            hi = bisect.bisect_right(frames, last)
            y = top + row * MARKER_ROW_H
            for frame in frames[lo:hi]:
                x = self.x_of(frame)
                painter.fillRect(QRectF(x - width / 2, y, width, MARKER_ROW_H - 1), colour)
                painter.fillRect(QRectF(x - 0.5, RULER_H, 1, THUMB_H), colour)

    def _paint_scores(self, painter: QPainter) -> None:
        lane = self._score_rect()
        painter.fillRect(lane, QColor(theme.ALTERNATE))
        if not self._scores:
            return
        low, high = self._score_range
        values = self._scores
        points = QPolygonF()
        ppf = self._view.ppf
        frames = self._view.visible_frames()
        first, last = frames[0], min(len(values) - 1, frames[-1])
        if first > last:
            return
        step = max(1, math.floor(1 / ppf))  # several frames per pixel: their maximum
        for f in range(first, last + 1, step):
            value = max(values[f : f + step])
            y = lane.bottom() - 2 - (value - low) / (high - low) * (lane.height() - 4)
            points.append(QPointF(self.x_of(f + (step - 1) / 2), y))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(QColor(SCORE_COLOUR), 1.5))
        painter.drawPolyline(points)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)

    def _paint_playhead(self, painter: QPainter) -> None:
        x = self.x_of(self._position)
        if not -2 <= x <= self.width() + 2:
            return
        colour = QColor(PLAYHEAD_COLOUR)
        painter.fillRect(QRectF(x - 1, 0, 2, self.height()), colour)
        painter.setBrush(colour)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawPolygon(QPolygonF([QPointF(x - 5, 0), QPointF(x + 5, 0), QPointF(x, 6)]))

    # -- time -------------------------------------------------------------------------------
    def _time_of(self, frame: int) -> float:
        if self._times:
            return self._times[min(max(frame, 0), len(self._times) - 1)]
        return frame / self._fps if self._fps > 0 else float(frame)

    def _frame_of_time(self, seconds: float) -> float:
        if self._times:
            return float(max(0, bisect.bisect_left(self._times, seconds - 1e-9)))
        return seconds * self._fps if self._fps > 0 else seconds


def _clock(seconds: float) -> str:
    """``m:ss`` (or ``h:mm:ss``) for a ruler label."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
