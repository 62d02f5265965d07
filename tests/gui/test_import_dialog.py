"""Importing through the study browser: a folder with a video, an image and a bad file comes in
with a summary naming the refused file and why; Cancel stops an import; drops import too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from iamedic_desktop.schemas.studies import StudyDTO
from iamedic_desktop.services.media_records import list_media
from iamedic_desktop.services.studies import create_study
from iamedic_desktop.ui.study_browser_dock import StudyBrowserDock
from tests.gui.study_browser_support import (
    IMPORT_WAIT_MS,
    WAIT_MS,
    BrowserEnv,
    add_widget,
    browser_env,
)
from tests.media_samples import VIDEO_SPECS, make_image, make_video

pytestmark = pytest.mark.gui


@pytest.fixture
def env(qtbot: QtBot) -> Iterator[BrowserEnv]:
    with browser_env(qtbot) as made:
        yield made


def _dock_on_study(qtbot: QtBot, env: BrowserEnv, alias: str) -> tuple[StudyBrowserDock, StudyDTO]:
    study = create_study(env.store.uow, env.store.actor, alias)
    dock = StudyBrowserDock(env.database, env.workers)
    add_widget(qtbot, env, dock)
    dock.resize(560, 800)
    dock.show()
    with qtbot.waitSignal(dock.studies_loaded, timeout=WAIT_MS):
        dock.set_store(env.store)
    with qtbot.waitSignal(dock.media_list.media_loaded, timeout=WAIT_MS):
        dock.open_study(study.id)
    return dock, study


def test_a_folder_is_imported_with_a_summary_of_what_was_refused(
    qtbot: QtBot, env: BrowserEnv, tmp_path: Path
) -> None:
    folder = tmp_path / "exam"
    make_video(VIDEO_SPECS["h264_mp4"], folder)
    make_image(folder, "still.png")
    (folder / "notes.mp4").write_text("not a video, whatever the name says\n")
    dock, study = _dock_on_study(qtbot, env, "Scan")
    assert dock.import_button.isEnabled()

    dialog = dock.import_files([folder])
    assert dialog is not None and dialog.isVisible() and dialog.running
    assert dialog.cancel_button.isVisible() and not dialog.close_button.isVisible()
    with qtbot.waitSignal(dialog.import_finished, timeout=IMPORT_WAIT_MS) as finished:
        pass
    report = finished.args[0]
    assert sorted(m.filename for m in report.imported) == ["h264_mp4.mp4", "still.png"]
    assert [Path(r.path).name for r in report.refused] == ["notes.mp4"]
    reason = report.refused[0].reason
    assert reason

    lines = dialog.summary.text().splitlines()
    assert lines[0] == "Imported 2 files into 'Scan'."
    assert "1 file refused (see below)." in lines
    table = dialog.refused_table
    assert table.isVisible() and table.rowCount() == 1
    assert [table.item(0, c).text() for c in range(2)] == ["notes.mp4", reason]
    assert dialog.close_button.isVisible() and not dialog.cancel_button.isVisible()

    # The media list and the study's row follow without a reload by hand.
    qtbot.waitUntil(lambda: dock.media_list.model.rowCount() == 2, timeout=WAIT_MS)
    row = dock.model.row_of(study.id)
    assert row is not None
    qtbot.waitUntil(lambda: dock.model.data(dock.model.index(row, 3)) == "2", timeout=WAIT_MS)
    assert dock.model.data(dock.model.index(row, 4)) == "Not annotated"  # no model configured
    stored = list_media(env.store.uow, env.store.actor, study.id)
    assert sorted(m.filename for m in stored) == ["h264_mp4.mp4", "still.png"]

    dialog.close_button.click()
    assert not dialog.isVisible()


def test_cancel_stops_the_import(qtbot: QtBot, env: BrowserEnv, tmp_path: Path) -> None:
    folder = tmp_path / "many"
    for n in range(16):
        make_image(folder, f"image_{n:02d}.png", (40 + n, 30 + n))
    dock, study = _dock_on_study(qtbot, env, "Many")

    dialog = dock.import_files([folder])
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.bar.maximum() == 16, timeout=IMPORT_WAIT_MS)
    with qtbot.waitSignal(dialog.import_finished, timeout=IMPORT_WAIT_MS) as finished:
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    report = finished.args[0]
    assert report.cancelled and report.not_reached
    assert len(report.imported) + len(report.not_reached) == 16
    assert len(report.imported) < 16
    assert dialog.heading.text() == "Import cancelled"
    assert dialog.summary.text().startswith(f"Import cancelled: {len(report.imported)} file")
    stored = list_media(env.store.uow, env.store.actor, study.id)
    assert len(stored) == len(report.imported)  # what came in before Cancel stays


def test_escape_while_importing_means_cancel(qtbot: QtBot, env: BrowserEnv, tmp_path: Path) -> None:
    folder = tmp_path / "more"
    for n in range(16):
        make_image(folder, f"image_{n:02d}.png", (50 + n, 40))
    dock, _study = _dock_on_study(qtbot, env, "More")
    dialog = dock.import_files([folder])
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.bar.maximum() == 16, timeout=IMPORT_WAIT_MS)
    with qtbot.waitSignal(dialog.import_finished, timeout=IMPORT_WAIT_MS) as finished:
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
        assert dialog.isVisible()  # it stays to show what happened
    assert finished.args[0].cancelled


def test_files_dropped_on_the_dock_are_imported(
    qtbot: QtBot, env: BrowserEnv, tmp_path: Path
) -> None:
    image = make_image(tmp_path / "drop", "dropped.png")
    dock, study = _dock_on_study(qtbot, env, "Drops")
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(image))])
    at = QPointF(dock.width() / 2, dock.height() / 2)
    enter = QDragEnterEvent(
        at.toPoint(),
        Qt.DropAction.CopyAction,
        data,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(dock, enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        at,
        Qt.DropAction.CopyAction,
        data,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(dock, drop)
    dialog = dock.import_dialog
    assert dialog is not None
    with qtbot.waitSignal(dialog.import_finished, timeout=IMPORT_WAIT_MS) as finished:
        pass
    assert [m.filename for m in finished.args[0].imported] == ["dropped.png"]
    qtbot.waitUntil(lambda: dock.media_list.model.rowCount() == 1, timeout=WAIT_MS)
    assert dock.media_list.model.media(0).study_id == study.id
