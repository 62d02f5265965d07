"""The main window opens on the embedded store and shows the local user's studies."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import text

from iamedic_desktop.core.database import create_local_engine
from iamedic_desktop.core.settings import Settings, get_settings
from iamedic_desktop.services.local_store import open_local_store
from iamedic_desktop.services.studies import create_study, delete_study
from iamedic_desktop.ui.main_window import MainWindow

pytestmark = pytest.mark.gui

WindowFactory = Callable[[Settings], MainWindow]
LOAD_TIMEOUT_MS = 20_000


def _aliases(window: MainWindow) -> list[str]:
    model = window.studies.model
    return [model.data(model.index(row, 0)) for row in range(model.rowCount())]


def _store_with_studies(settings: Settings, *aliases: str) -> None:
    store = open_local_store(settings)
    for alias in aliases:
        create_study(store.uow, store.actor, alias)
    store.close()


def test_window_shows_the_local_users_studies(
    qtbot: QtBot, main_window_factory: WindowFactory
) -> None:
    settings = get_settings()
    store = open_local_store(settings)
    create_study(store.uow, store.actor, "Second trimester anatomy")
    create_study(store.uow, store.actor, "NT check 12w")
    delete_study(store.uow, store.actor, create_study(store.uow, store.actor, "Gone").alias)
    store.close()

    window = main_window_factory(settings)
    with qtbot.waitSignal(window.studies.studies_loaded, timeout=LOAD_TIMEOUT_MS) as loaded:
        window.show()

    assert window.windowTitle() == "IAMEDIC Workstation"
    assert loaded.args == [2]
    assert _aliases(window) == ["NT check 12w", "Second trimester anatomy"]  # newest first
    assert window.mode_indicator.text() == f"Local mode · {settings.local_user_name}"


def test_searching_narrows_the_list(qtbot: QtBot, main_window_factory: WindowFactory) -> None:
    settings = get_settings()
    _store_with_studies(settings, "Anatomy 20w", "NT check 12w", "Anatomy 22w")
    window = main_window_factory(settings)
    with qtbot.waitSignal(window.studies.studies_loaded, timeout=LOAD_TIMEOUT_MS):
        window.show()

    with qtbot.waitSignal(window.studies.studies_loaded, timeout=LOAD_TIMEOUT_MS) as loaded:
        qtbot.keyClicks(window.studies.search_box, "anatomy")

    assert loaded.args == [2]
    assert _aliases(window) == ["Anatomy 22w", "Anatomy 20w"]


def test_a_store_from_a_newer_version_is_reported_not_opened(
    qtbot: QtBot, main_window_factory: WindowFactory
) -> None:
    settings = get_settings()
    engine = create_local_engine(settings.local_db_path)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)"))
        conn.execute(text("INSERT INTO alembic_version VALUES ('9999')"))
    engine.dispose()

    window = main_window_factory(settings)
    with qtbot.waitSignal(window.notified, timeout=LOAD_TIMEOUT_MS) as notified:
        window.show()

    message = notified.args[0]
    assert message.startswith("Error: ")
    assert "newer IAMEDIC Workstation" in message
    assert window.statusBar().currentMessage() == message
    assert window.store is None
    assert window.studies.model.rowCount() == 0


def test_window_geometry_is_remembered(
    qtbot: QtBot, main_window_factory: WindowFactory, isolated_qsettings: Path
) -> None:
    settings = get_settings()
    first = main_window_factory(settings)
    with qtbot.waitSignal(first.store_ready, timeout=LOAD_TIMEOUT_MS):
        first.show()
    first.resize(700, 480)  # within the offscreen screen (800 x 600)
    first.close()

    second = main_window_factory(settings)
    with qtbot.waitSignal(second.store_ready, timeout=LOAD_TIMEOUT_MS):
        second.show()

    assert (second.width(), second.height()) == (700, 480)
    assert any(isolated_qsettings.rglob("*.conf")), "geometry written outside the test folder"
