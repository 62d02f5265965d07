"""The timeline's view geometry: zoom from the whole media to single frames, scroll, cells."""

from __future__ import annotations

import pytest

from iamedic_desktop.ui.timeline_view import TimelineView


def _view(count: int = 1000, width: int = 600, cell: int = 60) -> TimelineView:
    view = TimelineView()
    view.count, view.width, view.cell = count, width, cell
    view.fit_all()
    return view


def test_the_whole_media_fits_the_width() -> None:
    view = _view()
    assert (view.first, view.span) == (0.0, 1000.0)
    assert view.frame_at(0) == 0 and view.frame_at(599.9) == 999
    assert view.x_of(500) == pytest.approx(300.3)


def test_zoom_keeps_the_frame_under_the_pointer_and_stops_at_single_frames() -> None:
    view = _view()
    x = view.x_of(700)
    assert view.zoom(4.0, x)
    assert view.span == 250.0 and view.frame_at(x) == 700
    for _ in range(20):
        view.zoom(4.0, x)
    assert view.span == 10.0  # 600 px / 60 px cells: one thumbnail per frame
    assert view.frame_at(x) == 700
    assert [f for _, f in view.cells()] == list(view.visible_frames())
    assert not view.zoom(4.0, x)  # no further
    view.zoom(1e-9, x)
    assert (view.first, view.span) == (0.0, 1000.0)


def test_pan_and_follow_stay_inside_the_media() -> None:
    view = _view()
    view.zoom(10.0, 0)
    assert view.pan(-50) is False  # already at the start
    view.pan(10_000)
    assert view.first + view.span == 1000.0
    assert view.show_frame(5)
    assert view.first <= 5 < view.first + view.span


def test_cells_cover_the_strip_when_zoomed_out() -> None:
    view = _view()
    cells = view.cells()
    assert len(cells) == 10
    assert cells[0] == (0.0, 50) and cells[-1][1] == 950  # the frame in each cell's middle
