"""The study browser dock on its own, over a real local store and real runners: listing with
statuses, search, sort, create / rename / delete through the dialogs, rows fetched on demand."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPoint, Qt
from pytestqt.qtbot import QtBot

from iamedic_desktop.core.settings import reset_settings_cache
from iamedic_desktop.models import MediaType, Study
from iamedic_desktop.schemas.study_browser import StudySortKey
from iamedic_desktop.services import annotations as annotation_service
from iamedic_desktop.services import studies
from iamedic_desktop.services.predictions import store_classification_prediction
from iamedic_desktop.ui.study_browser_dock import StudyBrowserDock
from iamedic_desktop.ui.study_table_model import PLACEHOLDER, StudyTableModel
from tests.gui.study_browser_support import (
    WAIT_MS,
    BrowserEnv,
    add_media,
    add_widget,
    browser_env,
)

pytestmark = pytest.mark.gui

CLASSIFIER = "frame_classifier_224x224 - 3"
TOOLTIP = Qt.ItemDataRole.ToolTipRole


@pytest.fixture
def env(qtbot: QtBot) -> Iterator[BrowserEnv]:
    with browser_env(qtbot) as made:
        yield made


def _dock(qtbot: QtBot, env: BrowserEnv) -> StudyBrowserDock:
    dock = StudyBrowserDock(env.database, env.workers)
    add_widget(qtbot, env, dock)
    dock.resize(560, 800)
    dock.show()
    return dock


def _open(qtbot: QtBot, env: BrowserEnv) -> StudyBrowserDock:
    dock = _dock(qtbot, env)
    with qtbot.waitSignal(dock.studies_loaded, timeout=WAIT_MS):
        dock.set_store(env.store)
    return dock


def _column(dock: StudyBrowserDock, column: int) -> list[str]:
    model = dock.model
    return [model.data(model.index(row, column)) for row in range(model.rowCount())]


def _visible(dock: StudyBrowserDock) -> tuple[int, int]:
    """The first and last row the table shows (no DTO is asked for)."""
    table = dock.table
    last = table.rowAt(table.viewport().height() - 1)
    return table.rowAt(0), dock.model.rowCount() - 1 if last < 0 else last


def _wait_rows(qtbot: QtBot, dock: StudyBrowserDock) -> None:
    qtbot.waitUntil(lambda: PLACEHOLDER not in _column(dock, 0), timeout=WAIT_MS)


@pytest.fixture
def configured_model(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The workstation's settings name a classifier model version."""
    monkeypatch.setenv("IAMEDIC_CLASSIFIER_MODEL", CLASSIFIER)
    reset_settings_cache()
    yield CLASSIFIER
    reset_settings_cache()


def test_without_a_model_the_browser_says_no_model(qtbot: QtBot, env: BrowserEnv) -> None:
    """No classifier configured: an unscored, unlabelled study waits for a clinician, not the
    AI, and its media say "No model" and how scores may come."""
    store = env.store
    study = studies.create_study(store.uow, store.actor, "Unscored")
    add_media(store, study.id, MediaType.IMAGE, "a.png")
    dock = _open(qtbot, env)
    _wait_rows(qtbot, dock)
    assert _column(dock, 4) == ["Not annotated"]
    assert "AI pending" not in str(dock.model.data(dock.model.index(0, 4), TOOLTIP))
    with qtbot.waitSignal(dock.media_list.media_loaded, timeout=WAIT_MS):
        dock.table.selectRow(0)
    media = dock.media_list
    assert media.no_model_notice.isVisible()
    assert media.no_model_notice.text().startswith("No model")
    assert "iamedic models pull" in media.no_model_notice.toolTip()
    tooltip = media.model.data(media.model.index(0, 0), TOOLTIP)
    assert "AI: No model" in tooltip and "AI pending" not in tooltip
    assert media.model.data(media.model.index(0, 1)) == "Not annotated"


def test_lists_the_studies_with_counts_and_status(
    qtbot: QtBot, env: BrowserEnv, configured_model: str
) -> None:
    store = env.store
    studies.create_study(store.uow, store.actor, "Empty")
    pending = studies.create_study(store.uow, store.actor, "Pending")
    add_media(store, pending.id)
    scored = studies.create_study(store.uow, store.actor, "Scored")
    image = add_media(store, scored.id)
    store_classification_prediction(
        store.uow, store.actor, image.id, prediction=0.8, model_version=CLASSIFIER
    )
    done = studies.create_study(store.uow, store.actor, "Done")
    for _ in range(2):
        labelled = add_media(store, done.id)
        annotation_service.set_usefulness(store.uow, store.actor, labelled.id, 1)

    dock = _open(qtbot, env)
    _wait_rows(qtbot, dock)

    rows = {
        alias: (media, status)
        for alias, media, status in zip(
            _column(dock, 0), _column(dock, 3), _column(dock, 4), strict=True
        )
    }
    assert rows == {
        "Done": ("2", "Annotated"),
        "Scored": ("1", "Not annotated"),
        "Pending": ("1", "AI pending"),
        "Empty": ("0", "No media"),
    }
    assert _column(dock, 0) == ["Done", "Scored", "Pending", "Empty"]  # newest first
    assert dock.count_label.text() == "4 studies"
    with qtbot.waitSignal(dock.studies_loaded, timeout=WAIT_MS):
        dock.table.sortByColumn(4, Qt.SortOrder.AscendingOrder)  # the workflow's order
    _wait_rows(qtbot, dock)
    assert _column(dock, 0) == ["Empty", "Pending", "Scored", "Done"]
    with qtbot.waitSignal(dock.studies_loaded, timeout=WAIT_MS):
        dock.table.sortByColumn(3, Qt.SortOrder.DescendingOrder)
    _wait_rows(qtbot, dock)
    assert _column(dock, 0)[0] == "Done"  # two media
    with qtbot.waitSignal(dock.media_list.media_loaded, timeout=WAIT_MS):
        dock.table.selectRow(_column(dock, 0).index("Pending"))
    assert dock.media_list.model.data(dock.media_list.model.index(0, 1)) == "AI pending"
    assert not dock.media_list.no_model_notice.isVisible()  # a model will score it

    # A label set elsewhere (the annotation panel) shows once the window says so.
    annotation_service.set_usefulness(store.uow, store.actor, image.id, 0)
    dock.refresh_study(scored.id)
    row = dock.model.row_of(scored.id)
    assert row is not None
    qtbot.waitUntil(lambda: _column(dock, 4)[row] == "Annotated", timeout=WAIT_MS)


def test_search_and_sort_change_the_rows(qtbot: QtBot, env: BrowserEnv) -> None:
    store = env.store
    for alias in ("Twins week 12", "Anna", "twins week 20", "Zoe"):
        studies.create_study(store.uow, store.actor, alias)
    dock = _open(qtbot, env)
    _wait_rows(qtbot, dock)

    with qtbot.waitSignal(dock.studies_loaded, timeout=WAIT_MS) as loaded:
        qtbot.keyClicks(dock.search_box, "TWINS")  # debounced: one listing after typing
    assert loaded.args == [2]
    _wait_rows(qtbot, dock)
    assert _column(dock, 0) == ["twins week 20", "Twins week 12"]

    with qtbot.waitSignal(dock.studies_loaded, timeout=WAIT_MS):
        dock.search_box.clear()
    header = dock.table.horizontalHeader()
    alias_header = QPoint(header.sectionViewportPosition(0) + 10, header.height() // 2)
    with qtbot.waitSignal(dock.studies_loaded, timeout=WAIT_MS):
        qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=alias_header)
    _wait_rows(qtbot, dock)
    assert dock.sort == (StudySortKey.ALIAS, False)
    assert _column(dock, 0) == ["Anna", "Twins week 12", "twins week 20", "Zoe"]
    with qtbot.waitSignal(dock.studies_loaded, timeout=WAIT_MS):
        qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=alias_header)
    _wait_rows(qtbot, dock)
    assert _column(dock, 0) == ["Zoe", "twins week 20", "Twins week 12", "Anna"]


def test_create_rename_and_delete_through_the_dialogs(qtbot: QtBot, env: BrowserEnv) -> None:
    store = env.store
    studies.create_study(store.uow, store.actor, "Existing")
    dock = _open(qtbot, env)

    dialog = dock.new_study()
    assert dialog is not None and dialog.isVisible()
    assert not dialog.ok_button.isEnabled()  # nothing typed yet
    qtbot.keyClicks(dialog.alias_edit, "Twins week 12")
    with qtbot.waitSignal(dock.study_opened, timeout=WAIT_MS) as opened:
        qtbot.keyClick(dialog.alias_edit, Qt.Key.Key_Return)
    assert opened.args[0].alias == "Twins week 12"
    assert dock.active_dialog is None  # closed (and deleted) once the study exists
    stored = studies.get_study(store.uow, store.actor, "Twins week 12")
    assert dock.current_study is not None and dock.current_study.id == stored.id
    qtbot.waitUntil(lambda: dock.table.currentIndex().row() == 0, timeout=WAIT_MS)

    # A taken alias is explained in the dialog, which stays open for another try.
    dialog = dock.new_study()
    assert dialog is not None
    qtbot.keyClicks(dialog.alias_edit, "Existing")
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: dialog.error_text != "", timeout=WAIT_MS)
    assert "You already have a study named 'Existing'" in dialog.error_text
    assert dialog.isVisible() and dialog.ok_button.isEnabled()
    dialog.reject()

    dialog = dock.rename_study()
    assert dialog is not None and dialog.alias_edit.text() == "Twins week 12"
    dialog.alias_edit.clear()
    qtbot.keyClicks(dialog.alias_edit, "Twins week 13")
    with qtbot.waitSignal(dock.study_opened, timeout=WAIT_MS) as opened:
        dialog.ok_button.click()
    assert opened.args[0].alias == "Twins week 13"
    qtbot.waitUntil(lambda: "Twins week 13" in _column(dock, 0), timeout=WAIT_MS)
    assert studies.get_study(store.uow, store.actor, str(stored.id)).alias == "Twins week 13"

    dialog = dock.delete_study()
    assert dialog is not None
    assert dialog.message.text().startswith("Delete the study 'Twins week 13' (no media)?")
    with qtbot.waitSignal(dock.study_closed, timeout=WAIT_MS):
        dialog.ok_button.click()
    qtbot.waitUntil(lambda: _column(dock, 0) == ["Existing"], timeout=WAIT_MS)
    with store.uow() as uow:
        row = uow.session.get_one(Study, stored.id)
        assert row.is_active is False  # soft: the row is kept
    assert dock.current_study is None


def test_cancelling_a_deletion_changes_nothing(qtbot: QtBot, env: BrowserEnv) -> None:
    store = env.store
    kept = studies.create_study(store.uow, store.actor, "Keep me")
    dock = _open(qtbot, env)
    with qtbot.waitSignal(dock.study_opened, timeout=WAIT_MS):
        dock.open_study(kept.id)
    dialog = dock.delete_study()
    assert dialog is not None
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert dock.active_dialog is None
    assert studies.get_study(store.uow, store.actor, "Keep me").is_active


def test_rows_are_fetched_as_they_are_seen_and_the_cache_is_bounded(
    qtbot: QtBot, env: BrowserEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(StudyTableModel, "BLOCK", 20)
    monkeypatch.setattr(StudyTableModel, "PAGE", 100)
    monkeypatch.setattr(StudyTableModel, "MAX_CACHED", 60)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with env.store.uow() as uow:
        for n in range(450):
            at = start + dt.timedelta(minutes=n)
            uow.session.add(
                Study(
                    id=uuid.uuid4(),
                    doctor_id=env.store.actor.user_id,
                    alias=f"Study {n:03d}",
                    is_active=True,
                    created_at=at,
                    updated_at=at,
                )
            )
        uow.commit()
    dock = _dock(qtbot, env)
    wanted: list[int] = []
    dock.model.rows_wanted.connect(lambda _generation, keys: wanted.append(len(keys)))
    with qtbot.waitSignal(dock.studies_loaded, timeout=WAIT_MS) as loaded:
        dock.set_store(env.store)
    assert loaded.args == [450]
    assert dock.model.total == 450 and dock.model.rowCount() == 100  # all keys, one page shown
    first, last = _visible(dock)
    assert 5 < last - first < 60
    qtbot.waitUntil(
        lambda: all(dock.model.cached(r) for r in range(first, last + 1)), timeout=WAIT_MS
    )
    assert sum(wanted) < 100  # only the blocks of the visible rows were asked for

    table = dock.table
    for shown in (200, 300, 400, 450):
        table.scrollToBottom()  # the view asks for the next page (fetchMore)
        qtbot.waitUntil(lambda shown=shown: dock.model.rowCount() == shown, timeout=WAIT_MS)
    bottom = dock.model.index(449, 0)
    qtbot.waitUntil(lambda: dock.model.data(bottom) == "Study 000", timeout=WAIT_MS)
    assert dock.model.cached_count <= 60
    assert sum(wanted) < 450  # rows scrolled past were never fetched

    table.scrollToTop()  # evicted rows come back
    qtbot.waitUntil(lambda: dock.model.data(dock.model.index(0, 0)) == "Study 449", timeout=WAIT_MS)
    assert dock.model.cached_count <= 60


def test_open_study_selects_a_study_beyond_the_first_rows(
    qtbot: QtBot, env: BrowserEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(StudyTableModel, "BLOCK", 5)
    monkeypatch.setattr(StudyTableModel, "PAGE", 5)
    made = [studies.create_study(env.store.uow, env.store.actor, f"S{n:02d}") for n in range(30)]
    dock = _open(qtbot, env)
    with qtbot.waitSignal(dock.study_opened, timeout=WAIT_MS) as opened:
        dock.open_study(made[0].id)  # the oldest: last row
    assert opened.args[0].alias == "S00"
    assert dock.table.currentIndex().row() == 29
    assert dock.model.rowCount() >= 30


def test_import_without_a_study_says_what_to_do(qtbot: QtBot, env: BrowserEnv) -> None:
    dock = _open(qtbot, env)
    with qtbot.waitSignal(dock.failed, timeout=WAIT_MS) as failed:
        dock.import_files([env.store.settings.data_dir])
    assert failed.args[0] == "Select or create a study first, then import into it."
    assert dock.import_dialog is None
    assert not dock.import_button.isEnabled()


def test_media_of_the_selected_study_are_listed(qtbot: QtBot, env: BrowserEnv) -> None:
    store = env.store
    first = studies.create_study(store.uow, store.actor, "First")
    add_media(store, first.id, MediaType.IMAGE, "a.png")
    second = studies.create_study(store.uow, store.actor, "Second")
    add_media(store, second.id, MediaType.VIDEO, "loop.mp4")
    add_media(store, second.id, MediaType.IMAGE, "b.png")
    dock = _open(qtbot, env)
    _wait_rows(qtbot, dock)
    with qtbot.waitSignal(dock.media_list.media_loaded, timeout=WAIT_MS) as loaded:
        dock.table.selectRow(0)
    assert loaded.args == [2]
    assert dock.media_title.text() == "Media of 'Second'"
    names = [dock.media_list.model.media(r).filename for r in range(2)]
    assert names == ["loop.mp4", "b.png"]
    with qtbot.waitSignal(dock.media_list.media_loaded, timeout=WAIT_MS) as loaded:
        qtbot.keyClick(dock.table, Qt.Key.Key_Down)
    assert loaded.args == [1]
    assert dock.current_study is not None and dock.current_study.alias == "First"


@pytest.mark.parametrize("width", [330, 360, 400, 440])
def test_an_alias_reads_whole_at_the_docks_default_widths(
    qtbot: QtBot, env: BrowserEnv, width: int
) -> None:
    """The alias is what a clinician looks for: at the dock's default widths a usual alias is
    not cut, and the column that gave way comes back in a wider dock."""
    store = env.store
    studies.create_study(store.uow, store.actor, "Anomaly scan 20w+3")
    dock = _open(qtbot, env)
    dock.resize(width, 800)
    _wait_rows(qtbot, dock)
    table = dock.table
    needed = table.fontMetrics().horizontalAdvance("Anomaly scan 20w+3") + 12
    qtbot.waitUntil(lambda: table.columnWidth(0) >= needed, timeout=WAIT_MS)
    dock.resize(width + 1, 800)  # a later resize keeps it so
    qtbot.waitUntil(lambda: table.columnWidth(0) >= needed, timeout=WAIT_MS)
    dock.resize(900, 800)
    qtbot.waitUntil(lambda: not table.isColumnHidden(1), timeout=WAIT_MS)
