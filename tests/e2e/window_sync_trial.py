"""The window's sync tried by hand: a conflict on a real cine's still, to drive with xdotool.

    Xvfb :99 -screen 0 1280x720x24 &
    DISPLAY=:99 python -m tests.e2e.window_sync_trial CONTROL_DIR

It makes a central database on the test PostgreSQL (``IAMEDIC_TEST_PG_URL``) and two
workstations of one doctor: the window's, seeded as ``window_screenshots.seed`` seeds (the real
cine, stills, boxes, predictions), reaching the central database through a TCP proxy; and
another. Both move the CM box of the still at frame 12; the other syncs first. The window then
opens full screen on that still and its first sync meets the conflict. It prints ``READY``, then
follows files dropped in CONTROL_DIR: ``cut`` and ``restore`` take the central database away
and back, ``where`` prints ``AT <name> <x> <y>`` (screen centres of the sync panel's and the
canvas notice's buttons, and the status bar's conflicts), ``state`` prints ``STATE <json>``,
``quit`` closes the window. Keys and clicks come from outside (xdotool); screenshots too.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QPoint, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from iamedic_desktop.ui.main_window import MainWindow
from iamedic_desktop.ui.theme import apply_theme
from tests.conftest import PG_ADMIN_URL, create_pg_database, drop_pg_database
from tests.e2e.window_screenshots import STILL_FRAME, seed
from tests.e2e.window_session import activate_media, is_settled, open_study
from tests.support.latency_proxy import LatencyProxy
from tests.support.sync_world import (
    add_doctor,
    install_central,
    sign_in_store,
    workstation,
    workstation_settings,
)

EMAIL = "trial.doctor@example.org"


def _move_cm(settings: object, still_id: uuid.UUID, x: float, *, sync: bool) -> None:
    from iamedic_desktop.services import annotations

    with workstation(settings) as ws:  # type: ignore[arg-type]
        store = ws.store
        annotations.update_box(
            store.uow, store.actor, still_id, "CM", x_min=x, y_min=66, width=76, height=60
        )
        if sync:
            ws.sync()


def _still_at(settings: object, cine_id: uuid.UUID) -> uuid.UUID:
    from iamedic_desktop.services.frames import list_frames

    with workstation(settings) as ws:  # type: ignore[arg-type]
        frames = list_frames(ws.store.uow, ws.store.actor, cine_id)
        return next(f.frame_media_id for f in frames if f.frame_number == STILL_FRAME)


def _centre(widget: QWidget) -> QPoint:
    return widget.mapToGlobal(widget.rect().center())


def _where(window: MainWindow) -> None:
    panel, notice = window.sync_panel, window.canvas.conflict_notice
    named = {
        "keep_central": panel.keep_central_button,
        "keep_mine": panel.keep_mine_button,
        "sync_now": panel.sync_button,
        "notice_central": notice.button,
        "notice_mine": notice.second_button,
        "conflicts": window.status.sync_status.conflicts_button,
    }
    for name, widget in named.items():
        if widget.isVisible():
            point = _centre(widget)
            print(f"AT {name} {point.x()} {point.y()}", flush=True)


def _state(window: MainWindow) -> None:
    bar = window.status.sync_status
    conflicts = bar.conflicts_button
    print(
        "STATE "
        + json.dumps(
            {
                "state": bar.state_text,
                "pending": bar.pending_label.text(),
                "last": bar.last_label.text(),
                "conflicts": conflicts.text() if conflicts.isVisible() else "",
                "panel": window.sync_panel.isVisible(),
                "notice": window.canvas.conflict_notice.text(),
                "yours": [i.tag_text() for i in window.canvas.conflict_items()],
                "boxes": [(b.bb_class, b.x) for b in window.canvas.box_states()],
            }
        ),
        flush=True,
    )


def main(control: Path) -> int:
    """Seed, conflict, open, then follow the control files until ``quit``."""
    control.mkdir(parents=True, exist_ok=True)
    url = create_pg_database(PG_ADMIN_URL)
    central = create_engine(url)
    folder = Path(tempfile.mkdtemp(prefix="sync-trial-"))
    target = make_url(url)
    proxy = LatencyProxy((target.host or "127.0.0.1", target.port or 5432), 0.005).start()
    port = proxy.port
    try:
        install_central(central)
        add_doctor(central, EMAIL)
        behind = target.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
        mine = workstation_settings(folder / "mine", behind, cache_dir=folder / "cache")
        other = workstation_settings(folder / "other", url, cache_dir=folder / "cache-other")
        for settings in (mine, other):
            sign_in_store(settings, EMAIL)
        study_id, cine_id = (uuid.UUID(i) for i in seed(mine))
        with workstation(mine) as ws:
            ws.sync()
        with workstation(other) as ws:
            ws.sync()
        still_id = _still_at(mine, cine_id)
        _move_cm(mine, still_id, 110, sync=False)  # the window's edit, not sent yet
        _move_cm(other, still_id, 96, sync=True)  # the other workstation's, sent first
        return _run(mine, study_id, cine_id, control, proxy, port)
    finally:
        central.dispose()
        drop_pg_database(url)


def _run(
    settings: object,
    study_id: uuid.UUID,
    cine_id: uuid.UUID,
    control: Path,
    proxy: LatencyProxy,
    port: int,
) -> int:
    app = QApplication(sys.argv[:1])
    app.setOrganizationName("IAMEDIC")
    app.setApplicationName("Workstation")
    apply_theme(app)
    window = MainWindow(settings)  # type: ignore[arg-type]
    window.setGeometry(app.primaryScreen().geometry())  # no window manager: the whole screen
    window.show()
    window.activateWindow()

    def wait(predicate: Callable[[], object], timeout: int = 60_000) -> None:
        deadline = time.monotonic() + timeout / 1000
        while not predicate():
            if time.monotonic() > deadline:
                raise SystemExit("❌ the window did not get there in time")
            QTest.qWait(20)

    wait(lambda: window.store is not None)
    open_study(window, study_id, wait)
    activate_media(window, cine_id, wait)
    window.player.seek(STILL_FRAME)
    wait(lambda: window.player.shown_frame == STILL_FRAME and is_settled(window))
    wait(lambda: bool(window.canvas.conflict_items()))
    print("READY", flush=True)
    proxies = [proxy]

    def follow() -> None:
        for order in sorted(control.iterdir()):
            order.unlink()
            if order.name == "cut":
                proxies[0].close()
            elif order.name == "restore":
                proxies[0] = LatencyProxy(proxy.target, 0.005, port=port).start()
            elif order.name == "where":
                _where(window)
            elif order.name == "state":
                _state(window)
            elif order.name == "quit":
                window.close()
                app.quit()

    timer = QTimer(interval=200)
    timer.timeout.connect(follow)
    timer.start()
    code = app.exec()
    proxies[0].close()
    return code


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
