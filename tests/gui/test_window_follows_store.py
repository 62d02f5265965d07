"""The window follows the store when another connection or process changes it.

Studies, the open study's media and the open image's boxes change elsewhere (another store
connection, as a second window or the sync has; the real ``iamedic`` command in a subprocess)
and the window shows it within seconds, without a refresh; an edit in progress is kept, and the
window's own edits cause no visible reload. Two windows on one data folder follow each other.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from iamedic_desktop.core.settings import Settings, get_settings
from iamedic_desktop.schemas.media import MediaDTO
from iamedic_desktop.schemas.studies import StudyDTO
from iamedic_desktop.services import annotations as annotation_service
from iamedic_desktop.services.imports import import_paths
from iamedic_desktop.services.local_store import LocalStore, open_local_store
from iamedic_desktop.services.media_records import delete_media
from iamedic_desktop.services.studies import create_study, delete_study, rename_study
from iamedic_desktop.ui.main_window import MainWindow
from tests.media_samples import make_image

pytestmark = pytest.mark.gui

WindowFactory = Callable[[Settings], MainWindow]
LOAD_MS = 20_000
FOLLOW_MS = 5_000  # "within a few seconds"
IMAGE_SIZE = (320, 240)


@pytest.fixture(name="elsewhere")
def elsewhere_fixture() -> Iterator[LocalStore]:
    """The same data folder through another engine: another connection, as another window has."""
    store = open_local_store(get_settings())
    yield store
    store.close()


def _ready(qtbot: QtBot, factory: WindowFactory) -> MainWindow:
    window = factory(get_settings())
    with qtbot.waitSignal(window.store_ready, timeout=LOAD_MS):
        window.show()
    return window


def _open_study(qtbot: QtBot, window: MainWindow, study: StudyDTO) -> None:
    qtbot.waitUntil(lambda: window.browser.model.row_of(study.id) is not None, timeout=LOAD_MS)
    window.browser.open_study(study.id)
    qtbot.waitUntil(lambda: window.current_study is not None, timeout=LOAD_MS)
    qtbot.waitUntil(lambda: window.browser.media_list.study_id == study.id, timeout=LOAD_MS)


def _import_image(
    store: LocalStore,
    study: StudyDTO,
    tmp_path: Path,
    name: str,
    size: tuple[int, int] = IMAGE_SIZE,
) -> MediaDTO:
    source = make_image(tmp_path / "sources", name, size)
    report = import_paths(
        store.uow, store.actor, store.media, study.alias, [source], settings=store.settings
    )
    assert not report.refused, report.refused
    return report.imported[0]


def _open_image(qtbot: QtBot, window: MainWindow, media: MediaDTO) -> None:
    qtbot.waitUntil(lambda: window.browser.media_list.select_media(media.id), timeout=LOAD_MS)
    window.open_media(media)
    qtbot.waitUntil(
        lambda: (
            window.canvas.has_image()
            and window.annotation.is_idle()
            and not window.annotation.is_loading()
        ),
        timeout=LOAD_MS,
    )


def _add_box(store: LocalStore, media: MediaDTO, bb_class: str, x: float) -> None:
    annotation_service.add_box(
        store.uow,
        store.actor,
        media.id,
        bb_class=bb_class,
        x_min=x,
        y_min=20,
        width=60,
        height=40,
        image_width=IMAGE_SIZE[0],
        image_height=IMAGE_SIZE[1],
    )


def _shown_x(window: MainWindow, bb_class: str) -> float | None:
    item = window.canvas.box_item(bb_class)
    return None if item is None else item.state.x


def _settled(qtbot: QtBot, window: MainWindow) -> None:
    """Wait for the next look at the store and for everything it started to finish."""
    with qtbot.waitSignal(window.follower.checked, timeout=FOLLOW_MS):
        pass
    qtbot.waitUntil(
        lambda: window.database.in_flight == 0 and window.annotation.is_idle(), timeout=LOAD_MS
    )


# --- studies --------------------------------------------------------------------------------------


def test_a_study_created_elsewhere_appears(
    qtbot: QtBot, main_window_factory: WindowFactory, elsewhere: LocalStore
) -> None:
    window = _ready(qtbot, main_window_factory)
    qtbot.waitUntil(lambda: window.browser.count_label.text() == "0 studies", timeout=LOAD_MS)

    study = create_study(elsewhere.uow, elsewhere.actor, "Made in another window")

    qtbot.waitUntil(lambda: window.browser.model.row_of(study.id) is not None, timeout=FOLLOW_MS)
    assert window.browser.count_label.text() == "1 study"


def test_a_study_renamed_or_deleted_elsewhere_updates_and_the_selection_stays(
    qtbot: QtBot, main_window_factory: WindowFactory, elsewhere: LocalStore
) -> None:
    studies = [create_study(elsewhere.uow, elsewhere.actor, f"Study {n}") for n in range(30)]
    window = _ready(qtbot, main_window_factory)
    browser = window.browser
    current = studies[3]
    _open_study(qtbot, window, current)
    scroll = browser.table.verticalScrollBar()
    scroll.setValue(scroll.maximum())  # the oldest studies, the open one among them
    before = scroll.value()
    assert before > 0

    rename_study(elsewhere.uow, elsewhere.actor, str(studies[0].id), "Renamed elsewhere")
    delete_study(elsewhere.uow, elsewhere.actor, str(studies[1].id))

    qtbot.waitUntil(lambda: browser.model.row_of(studies[1].id) is None, timeout=FOLLOW_MS)
    qtbot.waitUntil(
        lambda: (
            (row := browser.model.row_of(studies[0].id)) is not None
            and (cached := browser.model.cached(row)) is not None
            and cached.alias == "Renamed elsewhere"
        ),
        timeout=FOLLOW_MS,
    )
    assert window.current_study is not None and window.current_study.id == current.id
    selected = browser.table.selectionModel().selectedRows()
    assert [browser.model.study_id(i.row()) for i in selected] == [current.id]
    assert abs(scroll.value() - before) <= 1  # one row gone above: at most one step
    assert browser.count_label.text() == "29 studies"

    rename_study(elsewhere.uow, elsewhere.actor, str(current.id), "The open one, renamed")
    qtbot.waitUntil(
        lambda: window.windowTitle() == "IAMEDIC Workstation — The open one, renamed",
        timeout=FOLLOW_MS,
    )

    messages: list[str] = []
    window.notified.connect(messages.append)
    delete_study(elsewhere.uow, elsewhere.actor, str(current.id))
    qtbot.waitUntil(lambda: window.current_study is None, timeout=FOLLOW_MS)
    assert window.windowTitle() == "IAMEDIC Workstation"
    assert "The study 'The open one, renamed' was deleted elsewhere" in messages


# --- media ----------------------------------------------------------------------------------------


def test_a_media_imported_by_the_command_appears_with_its_thumbnail(
    qtbot: QtBot, main_window_factory: WindowFactory, elsewhere: LocalStore, tmp_path: Path
) -> None:
    study = create_study(elsewhere.uow, elsewhere.actor, "Import from the command")
    window = _ready(qtbot, main_window_factory)
    _open_study(qtbot, window, study)
    media_list = window.browser.media_list
    assert media_list.model.rowCount() == 0
    source = make_image(tmp_path / "sources", "scan.png", IMAGE_SIZE)

    subprocess.run(
        [sys.executable, "-m", "iamedic_desktop", "import", study.alias, str(source)],
        check=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"},
        timeout=120,
    )

    qtbot.waitUntil(lambda: media_list.model.rowCount() == 1, timeout=FOLLOW_MS)
    assert media_list.model.media(0).filename == "scan.png"
    qtbot.waitUntil(lambda: media_list.model.thumbnail(0) is not None, timeout=LOAD_MS)
    row = window.browser.model.row_of(study.id)
    assert row is not None
    qtbot.waitUntil(
        lambda: (
            (cached := window.browser.model.cached(row)) is not None and cached.media_count == 1
        ),
        timeout=FOLLOW_MS,
    )


def test_the_open_media_deleted_elsewhere_is_closed_with_a_notice(
    qtbot: QtBot, main_window_factory: WindowFactory, elsewhere: LocalStore, tmp_path: Path
) -> None:
    study = create_study(elsewhere.uow, elsewhere.actor, "Deleted media")
    kept = _import_image(elsewhere, study, tmp_path, "kept.png", (64, 48))
    gone = _import_image(elsewhere, study, tmp_path, "gone.png")
    window = _ready(qtbot, main_window_factory)
    _open_study(qtbot, window, study)
    _open_image(qtbot, window, gone)
    messages: list[str] = []
    window.notified.connect(messages.append)

    delete_media(elsewhere.uow, elsewhere.actor, gone.id)

    media_list = window.browser.media_list
    qtbot.waitUntil(lambda: media_list.model.rowCount() == 1, timeout=FOLLOW_MS)
    assert media_list.model.media(0).id == kept.id
    qtbot.waitUntil(lambda: window.current_media is None, timeout=FOLLOW_MS)
    assert not window.review.media_open
    assert "gone.png was deleted elsewhere and is closed" in messages


# --- the open image's annotations -----------------------------------------------------------------


def test_a_box_added_elsewhere_appears_on_the_canvas(
    qtbot: QtBot, main_window_factory: WindowFactory, elsewhere: LocalStore, tmp_path: Path
) -> None:
    study = create_study(elsewhere.uow, elsewhere.actor, "Boxes")
    media = _import_image(elsewhere, study, tmp_path, "boxes.png")
    window = _ready(qtbot, main_window_factory)
    _open_study(qtbot, window, study)
    _open_image(qtbot, window, media)
    assert window.canvas.box_item("NT") is None

    _add_box(elsewhere, media, "NT", 30)

    qtbot.waitUntil(lambda: _shown_x(window, "NT") == 30, timeout=FOLLOW_MS)
    assert window.annotation.boxes()["NT"].x == 30


def test_an_edit_in_progress_is_kept_and_the_change_follows_it(
    qtbot: QtBot, main_window_factory: WindowFactory, elsewhere: LocalStore, tmp_path: Path
) -> None:
    study = create_study(elsewhere.uow, elsewhere.actor, "Dragging")
    media = _import_image(elsewhere, study, tmp_path, "drag.png")
    _add_box(elsewhere, media, "CM", 100)
    window = _ready(qtbot, main_window_factory)
    _open_study(qtbot, window, study)
    _open_image(qtbot, window, media)
    qtbot.waitUntil(lambda: _shown_x(window, "CM") == 100, timeout=LOAD_MS)
    viewport = window.canvas.viewport()
    left, none = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    start = window.canvas.viewport_point(QPointF(130, 40))
    end = window.canvas.viewport_point(QPointF(170, 40))
    QTest.mousePress(viewport, left, none, start)
    QTest.mouseMove(viewport, (start + end) / 2)
    QTest.mouseMove(viewport, end)
    dragged = _shown_x(window, "CM")
    assert dragged is not None and dragged > 100  # the box moves under the mouse

    _add_box(elsewhere, media, "NT", 30)
    _settled(qtbot, window)

    assert _shown_x(window, "CM") == dragged  # the drag goes on, untouched
    assert window.canvas.box_item("NT") is None  # shown once the edit is over
    QTest.mouseRelease(viewport, left, none, end)
    qtbot.waitUntil(lambda: _shown_x(window, "NT") == 30, timeout=FOLLOW_MS)
    qtbot.waitUntil(window.annotation.is_saved, timeout=LOAD_MS)
    assert _shown_x(window, "CM") == dragged
    assert window.annotation.undo_stack.count() == 1  # the drag, still undoable
    stored = annotation_service.get_annotations(elsewhere.uow, elsewhere.actor, media.id)
    assert {b.bb_class: b.x_min for b in stored.boxes} == {"CM": dragged, "NT": 30}


def test_the_windows_own_edit_reloads_nothing_visibly(
    qtbot: QtBot, main_window_factory: WindowFactory, elsewhere: LocalStore, tmp_path: Path
) -> None:
    study = create_study(elsewhere.uow, elsewhere.actor, "Own edits")
    media = _import_image(elsewhere, study, tmp_path, "own.png")
    window = _ready(qtbot, main_window_factory)
    _open_study(qtbot, window, study)
    _open_image(qtbot, window, media)
    _settled(qtbot, window)
    resets: list[str] = []
    window.browser.model.modelReset.connect(lambda: resets.append("studies"))
    window.browser.media_list.model.modelReset.connect(lambda: resets.append("media"))
    window.annotation.state_changed.connect(lambda: resets.append("annotations"))

    window.annotation.add_box("CM", QRectF(10, 10, 50, 40))
    assert resets == ["annotations"]  # the edit itself, shown at once
    qtbot.waitUntil(window.annotation.is_saved, timeout=LOAD_MS)
    item = window.canvas.box_item("CM")
    _settled(qtbot, window)
    _settled(qtbot, window)

    assert resets == ["annotations"]
    assert window.canvas.box_item("CM") is item
    assert window.annotation.undo_stack.count() == 1


# --- two windows ----------------------------------------------------------------------------------


def test_two_windows_on_one_store_follow_each_other(
    qtbot: QtBot, main_window_factory: WindowFactory, elsewhere: LocalStore, tmp_path: Path
) -> None:
    study = create_study(elsewhere.uow, elsewhere.actor, "Two windows")
    media = _import_image(elsewhere, study, tmp_path, "shared.png")
    first = _ready(qtbot, main_window_factory)
    second = _ready(qtbot, main_window_factory)
    for window in (first, second):
        _open_study(qtbot, window, study)
        _open_image(qtbot, window, media)

    first.annotation.add_box("CM", QRectF(10, 10, 50, 40))
    qtbot.waitUntil(lambda: _shown_x(second, "CM") == 10, timeout=FOLLOW_MS)

    # Both edit the same box: the last write wins, and the other window then shows it.
    second.canvas.select_box("CM")
    assert second.annotation.nudge(5, 0)
    qtbot.waitUntil(lambda: _shown_x(first, "CM") == 15, timeout=FOLLOW_MS)
    second.annotation.add_box("NT", QRectF(100, 100, 40, 30))
    qtbot.waitUntil(lambda: _shown_x(first, "NT") == 100, timeout=FOLLOW_MS)
    stored = annotation_service.get_annotations(elsewhere.uow, elsewhere.actor, media.id)
    assert {b.bb_class: b.x_min for b in stored.boxes} == {"CM": 15, "NT": 100}
