"""The window's sync as a user meets it: the status bar, the sync panel, conflicts on the canvas.

Real PostgreSQL central database, real stores, the real window. The window's central database
is reached through a TCP proxy that the test closes to take the central database away (Offline)
and opens again on the same port. Its background sync runs only when asked (F5, as "Sync now")
or told by the central database, so each step is seen in order; another workstation edits the
same box and syncs first to make a conflict.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from iamedic_desktop.core.settings import Settings, get_settings
from iamedic_desktop.services import annotations as boxes
from iamedic_desktop.services import imports, studies
from iamedic_desktop.services.media_records import get_media
from iamedic_desktop.ui.main_window import MainWindow
from tests.media_samples import make_image
from tests.support.keyring_file import FileKeyring
from tests.support.keyring_fixture import file_keyring_fixture  # noqa: F401  (a fixture)
from tests.support.latency_proxy import LatencyProxy
from tests.support.sync_world import (
    add_doctor,
    install_central,
    sign_in_store,
    workstation,
    workstation_settings,
)

pytestmark = [pytest.mark.gui, pytest.mark.postgres]

WindowFactory = Callable[[Settings], MainWindow]
EMAIL = "ada@example.org"
LOAD_MS = 30_000
SIZE = (64, 48)


@dataclass
class World:
    """The central database, the window's workstation (behind the proxy) and another one."""

    central: Engine
    url: str
    mine: Settings
    other: Settings
    proxy: LatencyProxy
    port: int
    media_id: uuid.UUID
    study_id: uuid.UUID

    def cut(self) -> None:
        """The central database goes away for the window."""
        self.proxy.close()

    def restore(self) -> None:
        """The central database is back, at the same address."""
        self.proxy = LatencyProxy(self.proxy.target, 0.0, port=self.port).start()

    def central_box(self) -> tuple[float, float]:
        """The central NT box's corner."""
        with self.central.connect() as conn:
            row = conn.execute(
                text("SELECT x_min, y_min FROM picture_bb_annotations WHERE media_id = :m"),
                {"m": self.media_id},
            ).one()
        return float(row[0]), float(row[1])

    def central_usefulness(self) -> int | None:
        """The central usefulness label of the image."""
        with self.central.connect() as conn:
            return conn.execute(
                text(
                    "SELECT usefulness FROM picture_classification_annotations WHERE media_id = :m"
                ),
                {"m": self.media_id},
            ).scalar()


@pytest.fixture
def world(pg_database: str, tmp_path: Path) -> Iterator[World]:
    """An image with an NT box at (1, 2), synced from the window's store and pulled by another."""
    central = create_engine(pg_database)
    install_central(central)
    add_doctor(central, EMAIL)
    target = make_url(pg_database)
    proxy = LatencyProxy((target.host or "127.0.0.1", target.port or 5432), 0.0).start()
    port = proxy.port
    behind = target.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    mine = workstation_settings(tmp_path / "mine", behind)
    other = workstation_settings(tmp_path / "other", pg_database)
    for settings in (mine, other):
        sign_in_store(settings, EMAIL)
    with workstation(mine) as ws:
        store = ws.store
        study = studies.create_study(store.uow, store.actor, "Follow-up 1")
        image = make_image(tmp_path / "sources", "scan.png", SIZE)
        report = imports.import_paths(
            store.uow, store.actor, store.media, str(study.id), [image], settings=store.settings
        )
        media_id = report.imported[0].id
        boxes.add_box(store.uow, store.actor, media_id, bb_class="NT", x_min=1, y_min=2,
                      width=20, height=15, image_width=SIZE[0], image_height=SIZE[1])  # fmt: skip
        ws.sync()
    with workstation(other) as ws:
        ws.sync()
    made = World(central, pg_database, mine, other, proxy, port, media_id, study.id)
    try:
        yield made
    finally:
        made.proxy.close()
        central.dispose()


def _window(qtbot: QtBot, factory: WindowFactory, world: World) -> MainWindow:
    window = factory(world.mine)
    # Only F5 and the central database's notifications start a sync: each step is seen.
    window.sync.runner_options = {"poll": 3600.0, "backoff": (0.2, 1.0)}
    with qtbot.waitSignal(window.store_ready, timeout=LOAD_MS):
        window.show()
    window.activateWindow()
    bar = window.status.sync_status
    qtbot.waitUntil(lambda: bar.state == "online", timeout=LOAD_MS)
    qtbot.waitUntil(lambda: bar.pending_label.text() == "0 pending", timeout=LOAD_MS)
    return window


def _open_image(qtbot: QtBot, window: MainWindow, world: World) -> None:
    qtbot.waitUntil(
        lambda: window.browser.model.row_of(world.study_id) is not None, timeout=LOAD_MS
    )
    window.browser.open_study(world.study_id)
    store = window.store
    assert store is not None
    window.open_media(get_media(store.uow, store.actor, world.media_id))
    qtbot.waitUntil(lambda: window.canvas.has_image() and _shown_x(window) == 1.0, timeout=LOAD_MS)


def _nudge_right(qtbot: QtBot, window: MainWindow) -> None:
    window.canvas.select_box("NT")
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key.Key_Right)
    qtbot.waitUntil(window.annotation.is_saved, timeout=LOAD_MS)


def _sync_now(qtbot: QtBot, window: MainWindow) -> None:
    """F5, then wait for that sync to end."""
    with qtbot.waitSignal(window.sync.synced, timeout=LOAD_MS):
        qtbot.keyClick(window, Qt.Key.Key_F5)


def _shown_x(window: MainWindow, bb_class: str = "NT") -> float | None:
    item = window.canvas.box_item(bb_class)
    return item.state.x if item is not None else None


def _conflict_on_nt(qtbot: QtBot, window: MainWindow, world: World, *, usefulness: bool) -> None:
    """Offline, the window moves the NT box (and labels the image useful); the other
    workstation moves it too (or labels the image not useful, which removes the box) and syncs
    first; back online, the window's sync meets the conflict."""
    world.cut()
    _nudge_right(qtbot, window)
    if usefulness:
        qtbot.keyClick(window, Qt.Key.Key_U)
        qtbot.waitUntil(lambda: window.annotation.usefulness == 1, timeout=LOAD_MS)
        qtbot.waitUntil(window.annotation.is_saved, timeout=LOAD_MS)
    with workstation(world.other) as other:
        other.sync()  # up to date with what the window sent before
        store = other.store
        if usefulness:
            boxes.set_usefulness(store.uow, store.actor, world.media_id, 0)
        else:
            boxes.update_box(
                store.uow, store.actor, world.media_id, "NT", x_min=9, y_min=9, width=20,
                height=15, image_width=SIZE[0], image_height=SIZE[1],
            )  # fmt: skip
        other.sync()
    world.restore()
    bar = window.status.sync_status
    _sync_now(qtbot, window)
    qtbot.waitUntil(lambda: bar.conflicts_button.isVisible(), timeout=LOAD_MS)


def test_an_offline_edit_waits_then_goes_out_and_a_conflict_is_resolved_from_the_panel(
    qtbot: QtBot, main_window_factory: WindowFactory, world: World
) -> None:
    window = _window(qtbot, main_window_factory, world)
    bar = window.status.sync_status
    assert re.fullmatch(r"Last sync \d\d:\d\d", bar.last_label.text())
    assert not bar.conflicts_button.isVisible()
    _open_image(qtbot, window, world)

    # Offline: the edit waits, and the status bar says why nothing goes out.
    world.cut()
    _nudge_right(qtbot, window)
    qtbot.waitUntil(lambda: bar.pending_label.text() == "1 pending", timeout=LOAD_MS)
    _sync_now(qtbot, window)
    assert bar.state == "offline" and bar.state_text == "Offline"
    assert "central database" in bar.state_label.toolTip()
    panel = window.sync_panel
    assert not panel.isVisible()
    qtbot.keyClick(
        window,
        Qt.Key.Key_Y,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    qtbot.waitUntil(lambda: panel.pending_list.count() == 1, timeout=LOAD_MS)
    assert panel.pending_list.item(0).text() == "Box NT\nscan.png in Follow-up 1"
    assert panel.state_label.text().startswith("Offline: changes wait here")
    assert "central database did not answer" in panel.state_label.toolTip()
    assert panel.error_list.count() >= 1  # the failed sync, with its reason
    assert panel.errors_group.title() == f"Recent errors ({panel.error_list.count()})"

    # Back online: Sync now sends it.
    world.restore()
    panel.sync_button.click()
    qtbot.waitUntil(lambda: bar.state == "online", timeout=LOAD_MS)
    qtbot.waitUntil(lambda: bar.pending_label.text() == "0 pending", timeout=LOAD_MS)
    qtbot.waitUntil(lambda: panel.pending_list.count() == 0, timeout=LOAD_MS)
    assert world.central_box() == (2.0, 2.0)
    assert panel.errors_group.title().startswith("Recent errors (none since the sync at ")

    # Both move the box; the other workstation syncs first: a conflict, on screen everywhere.
    _conflict_on_nt(qtbot, window, world, usefulness=False)
    assert bar.conflicts_button.text() == "1 conflict"
    assert bar.pending_label.text() == "0 pending"
    qtbot.waitUntil(lambda: _shown_x(window) == 9.0, timeout=LOAD_MS)  # the central box
    qtbot.waitUntil(lambda: len(window.canvas.conflict_items()) == 1, timeout=LOAD_MS)
    yours = window.canvas.conflict_items()[0]
    assert (yours.state.x, yours.state.y) == (3.0, 2.0)
    assert yours.tag_text() == "NT – your version"
    assert window.canvas.conflict_notice.text() == "Box NT was changed here and centrally"

    qtbot.mouseClick(bar.conflicts_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.conflict_list.count() == 1, timeout=LOAD_MS)
    assert panel.conflict_list.item(0).text() == (
        "Box NT — scan.png in Follow-up 1\nCentral: at 9, 9, 20 × 15\nYours: at 3, 2, 20 × 15"
    )
    assert panel.selected_conflicts() and panel.keep_mine_button.isEnabled()
    qtbot.mouseClick(panel.keep_mine_button, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: bar.pending_label.text() == "1 pending", timeout=LOAD_MS)
    qtbot.waitUntil(lambda: not bar.conflicts_button.isVisible(), timeout=LOAD_MS)
    qtbot.waitUntil(lambda: _shown_x(window) == 3.0, timeout=LOAD_MS)  # yours, now the box
    qtbot.waitUntil(lambda: not window.canvas.conflict_items(), timeout=LOAD_MS)
    assert window.canvas.conflict_notice.text() == ""
    _sync_now(qtbot, window)
    qtbot.waitUntil(lambda: bar.pending_label.text() == "0 pending", timeout=LOAD_MS)
    assert world.central_box() == (3.0, 2.0)
    assert window.sync.status is not None and window.sync.status.conflicts == 0


def test_a_conflict_is_resolved_from_the_canvas_notice(
    qtbot: QtBot, main_window_factory: WindowFactory, world: World
) -> None:
    window = _window(qtbot, main_window_factory, world)
    _open_image(qtbot, window, world)
    bar = window.status.sync_status

    _conflict_on_nt(qtbot, window, world, usefulness=True)

    assert bar.conflicts_button.text() == "2 conflicts"
    notice = window.canvas.conflict_notice
    qtbot.waitUntil(lambda: notice.isVisible(), timeout=LOAD_MS)
    head, _, kinds = notice.text().partition(": ")
    assert head == "2 conflicts with the central database"
    assert sorted(kinds.split(", ")) == ["Box NT", "Usefulness label"]  # in the order met
    assert (notice.button.text(), notice.second_button.text()) == ("Keep central", "Keep mine")
    qtbot.waitUntil(lambda: _shown_x(window) is None, timeout=LOAD_MS)  # removed centrally
    assert [i.state.x for i in window.canvas.conflict_items()] == [2.0]  # moved from 1
    dock = window.annotation_dock
    assert dock.usefulness_conflict.isVisible()
    assert dock.usefulness_conflict.text() == "Central: not useful · Yours: useful"

    qtbot.mouseClick(notice.second_button, Qt.MouseButton.LeftButton)  # Keep mine

    qtbot.waitUntil(lambda: bar.pending_label.text() == "2 pending", timeout=LOAD_MS)
    qtbot.waitUntil(lambda: _shown_x(window) == 2.0, timeout=LOAD_MS)
    qtbot.waitUntil(lambda: window.annotation.usefulness == 1, timeout=LOAD_MS)
    assert not window.canvas.conflict_items() and not notice.isVisible()
    assert not dock.usefulness_conflict.isVisible()
    _sync_now(qtbot, window)
    qtbot.waitUntil(lambda: bar.pending_label.text() == "0 pending", timeout=LOAD_MS)
    assert not bar.conflicts_button.isVisible()
    assert world.central_box() == (2.0, 2.0)
    assert world.central_usefulness() == 1


def test_what_a_sync_pulls_shows_in_the_browser_and_on_the_canvas(
    qtbot: QtBot, main_window_factory: WindowFactory, world: World
) -> None:
    window = _window(qtbot, main_window_factory, world)
    _open_image(qtbot, window, world)
    with workstation(world.other) as other:
        store = other.store
        boxes.update_box(
            store.uow, store.actor, world.media_id, "NT", x_min=9, y_min=9, width=20,
            height=15, image_width=SIZE[0], image_height=SIZE[1],
        )  # fmt: skip
        made = studies.create_study(store.uow, store.actor, "Made on the other workstation")
        other.sync()

    _sync_now(qtbot, window)

    # The store follower sees the pulled rows: the canvas and the browser read them again.
    qtbot.waitUntil(lambda: _shown_x(window) == 9.0, timeout=LOAD_MS)
    qtbot.waitUntil(lambda: window.browser.model.row_of(made.id) is not None, timeout=LOAD_MS)
    assert not window.canvas.conflict_items()
    assert not window.status.sync_status.conflicts_button.isVisible()


def test_signing_out_stops_the_sync_and_closing_leaves_no_sync_thread(
    qtbot: QtBot, main_window_factory: WindowFactory, world: World, file_keyring: FileKeyring
) -> None:
    window = _window(qtbot, main_window_factory, world)
    assert window.sync.running and _sync_threads()
    window.account.sign_out()
    qtbot.waitUntil(lambda: window.status.connection_state[0] == "signed_out", timeout=LOAD_MS)
    assert not window.sync.running
    qtbot.waitUntil(lambda: not _sync_threads(), timeout=LOAD_MS)
    assert window.status.sync_status.state == "off"
    window.close()
    assert not _sync_threads()


def _sync_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name in {"sync-worker", "sync-listener"}]


# --- where the sync cannot run ------------------------------------------------------------------


def _opened(qtbot: QtBot, factory: WindowFactory, settings: Settings) -> MainWindow:
    window = factory(settings)
    with qtbot.waitSignal(window.store_ready, timeout=LOAD_MS):
        window.show()
    window.activateWindow()
    return window


def test_without_a_central_database_the_status_bar_says_sync_off_and_f5_says_why(
    qtbot: QtBot, main_window_factory: WindowFactory
) -> None:
    window = _opened(qtbot, main_window_factory, get_settings())
    bar = window.status.sync_status
    qtbot.waitUntil(lambda: bar.state_text == "Sync off: no central database")
    assert bar.state == "off"
    assert bar.state_label.toolTip().startswith("No central database is configured")
    assert not bar.pending_label.isVisible() and not bar.conflicts_button.isVisible()
    with qtbot.waitSignal(window.notified) as notified:
        qtbot.keyClick(window, Qt.Key.Key_F5)
    assert notified.args[0].startswith("Sync is off: No central database is configured")


def test_local_mode_with_a_central_database_configured_is_sync_off_local_mode(
    qtbot: QtBot, main_window_factory: WindowFactory, tmp_path: Path
) -> None:
    # Nobody signed in: the local clinician's work is pushed once it belongs to a signed-in user.
    settings = workstation_settings(tmp_path / "data", "postgresql://nobody@127.0.0.1:1/none")
    window = _opened(qtbot, main_window_factory, settings)
    bar = window.status.sync_status
    qtbot.waitUntil(lambda: bar.state_text == "Sync off: local mode")
    assert bar.state_label.toolTip().startswith("Sign in before syncing")
    assert not window.sync.running
