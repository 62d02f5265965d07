"""The study list panel on its own: paging as the view scrolls, the latest search wins."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QTableView
from pytestqt.qtbot import QtBot

from iamedic_desktop.schemas.common import Page
from iamedic_desktop.schemas.studies import StudyDTO
from iamedic_desktop.ui.operations import OperationRunner
from iamedic_desktop.ui.study_list_widget import PAGE_SIZE, StudyListWidget

pytestmark = pytest.mark.gui

DOCTOR = uuid.uuid4()
START = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)


def _study(number: int) -> StudyDTO:
    at = START + dt.timedelta(minutes=number)
    return StudyDTO(
        id=uuid.uuid4(),
        doctor_id=DOCTOR,
        alias=f"Study {number:03d}",
        is_active=True,
        created_at=at,
        updated_at=at,
        media_count=number % 4,
    )


class FakeStudySource:
    """Serves pages from a list; records every call; can hold a call until released."""

    def __init__(self, studies: list[StudyDTO]) -> None:
        self.studies = studies
        self.calls: list[tuple[str | None, int, int]] = []
        self.hold: dict[str, threading.Event] = {}

    def __call__(self, *, search: str | None, offset: int, limit: int) -> Page[StudyDTO]:
        self.calls.append((search, offset, limit))
        if search in self.hold:
            self.hold[search].wait(timeout=10)
        rows = [s for s in self.studies if not search or search.lower() in s.alias.lower()]
        return Page[StudyDTO](
            items=rows[offset : offset + limit], total=len(rows), offset=offset, limit=limit
        )


@pytest.fixture
def runner() -> Iterator[OperationRunner]:
    # Two workers, so a slow listing and a newer one can overlap.
    runner = OperationRunner(max_threads=2)
    yield runner
    runner.shutdown()


@pytest.fixture
def panel(qtbot: QtBot, runner: OperationRunner) -> StudyListWidget:
    widget = StudyListWidget(runner)
    qtbot.addWidget(widget)
    widget.resize(400, 300)
    widget.show()
    return widget


def test_pages_are_fetched_as_the_view_scrolls(qtbot: QtBot, panel: StudyListWidget) -> None:
    source = FakeStudySource([_study(n) for n in range(250, 0, -1)])
    with qtbot.waitSignal(panel.studies_loaded, timeout=10_000) as loaded:
        panel.set_source(source)
    assert loaded.args == [250]
    assert panel.model.rowCount() == PAGE_SIZE

    table = panel.findChild(QTableView)
    assert table is not None
    table.scrollToBottom()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 2 * PAGE_SIZE, timeout=10_000)
    assert source.calls[:2] == [(None, 0, PAGE_SIZE), (None, PAGE_SIZE, PAGE_SIZE)]
    assert panel.model.data(panel.model.index(PAGE_SIZE, 0)) == "Study 150"


def test_a_slow_older_search_never_overwrites_the_newer_one(
    qtbot: QtBot, panel: StudyListWidget, runner: OperationRunner
) -> None:
    source = FakeStudySource([_study(n) for n in (3, 2, 1)] + [_study(10)])
    with qtbot.waitSignal(panel.studies_loaded, timeout=10_000):
        panel.set_source(source)
    release = source.hold["study 00"] = threading.Event()

    panel.search_box.setText("study 00")
    panel.reload()  # the slow listing, held by the source
    panel.search_box.setText("study 010")
    with qtbot.waitSignal(panel.studies_loaded, timeout=10_000) as loaded:
        panel.reload()
    release.set()
    qtbot.waitUntil(lambda: len(source.calls) >= 3 and runner.is_idle(), timeout=10_000)

    assert loaded.args == [1]
    assert [panel.model.data(panel.model.index(r, 0)) for r in range(panel.model.rowCount())] == [
        "Study 010"
    ]
