"""The Administration tab's workstation access and audit log tried by hand, to drive with xdotool.

    Xvfb :98 -screen 0 1280x720x24 &
    DISPLAY=:98 python -m tests.e2e.audit_trial CONTROL_DIR

It makes a central database on the test PostgreSQL (``IAMEDIC_TEST_PG_URL``) with an admin and
a doctor, a doctor's workstation that syncs a study, and changes made by plain SQL; then opens
the settings dialog of the admin's workstation on its Administration tab, as the window does.
It prints ``READY`` and ``AT <name> <x> <y>`` (screen centres of Audit log…, Give workstation
access and the doctor's row), then follows files dropped in CONTROL_DIR: ``where`` prints the
centres again (the audit log's Verify chain once open), ``quit`` closes it. The data folders are
in a temporary folder; the database is dropped at the end.
"""

from __future__ import annotations

import dataclasses
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QPoint, QTimer
from PySide6.QtWidgets import QApplication, QWidget
from sqlalchemy import create_engine, text

from iamedic_desktop.core.settings import Settings
from iamedic_desktop.ui.administration_tab import AdministrationTab
from iamedic_desktop.ui.operations import OperationRunner
from iamedic_desktop.ui.settings_dialog import SettingsDialog
from iamedic_desktop.ui.theme import apply_theme
from tests.conftest import PG_ADMIN_URL, create_pg_database, drop_pg_database


def _seed(url: str, folder: Path) -> None:
    from iamedic_desktop.services import studies
    from tests.support import web_writes as web
    from tests.support.sync_world import (
        add_doctor,
        install_central,
        sign_in_store,
        workstation,
        workstation_settings,
    )

    engine = create_engine(url)
    install_central(engine)
    add_doctor(engine, "ada.admin@hospital.example", admin=True)
    doctor = add_doctor(engine, "doctor.one@hospital.example")
    settings = workstation_settings(folder / "doctor", url)
    sign_in_store(settings, "doctor.one@hospital.example")
    with workstation(settings) as ws:
        for alias in ("Twin pregnancy 16w", "NT check 12w+3"):
            studies.create_study(ws.store.uow, ws.store.actor, alias)
        ws.sync()
    with engine.begin() as conn:
        study = web.insert_study(conn, doctor, alias="Entered by the web")
        conn.execute(text("UPDATE studies SET alias = 'Renamed in psql' WHERE id = :s"),
                     {"s": study})  # fmt: skip
    engine.dispose()


def _centre(widget: QWidget) -> QPoint:
    return widget.mapToGlobal(widget.rect().center())


def _where(tab: AdministrationTab) -> None:
    places = {"audit": tab.audit_button, "grant": tab.access.grant_button}
    if tab.audit_dialog is not None:
        places["verify"] = tab.audit_dialog.browser.verify_button
    for name, widget in places.items():
        at = _centre(widget)
        print(f"AT {name} {at.x()} {at.y()}", flush=True)
    for row in range(tab.model.rowCount()):
        user = tab.model.user(row)
        if user is not None and user.email.startswith("doctor"):
            rect = tab.table.visualRect(tab.model.index(row, 1))
            at = tab.table.viewport().mapToGlobal(rect.center())
            print(f"AT doctor {at.x()} {at.y()}", flush=True)


def main(control: Path) -> int:
    url = create_pg_database(PG_ADMIN_URL)
    try:
        with tempfile.TemporaryDirectory() as folder:
            _seed(url, Path(folder))
            return _run(control, Settings(data_dir=Path(folder) / "admin", central_url=url))
    finally:
        drop_pg_database(url)


def _run(control: Path, settings: Settings) -> int:
    from iamedic_desktop.services.local_store import open_local_store
    from tests.support.sync_world import sign_in_store

    app = QApplication.instance() or QApplication(sys.argv)
    apply_theme(app)  # type: ignore[arg-type]
    sign_in_store(settings, "ada.admin@hospital.example")
    store = open_local_store(settings)
    runner = OperationRunner()
    tabs: list[AdministrationTab] = []

    def admin_tab(parent: QWidget) -> QWidget:
        tabs.append(AdministrationTab(runner, settings, parent, store=dataclasses.replace(store)))
        return tabs[0]

    dialog = SettingsDialog(settings, runner, True, admin_tab_factory=admin_tab)
    dialog.resize(1000, 640)
    dialog.show()
    dialog.tabs.setCurrentIndex(dialog.tabs.count() - 1)

    def ready() -> None:
        _where(tabs[0])
        print("READY", flush=True)

    tabs[0].listed.connect(ready)

    def follow() -> None:
        for name in ("where", "quit"):
            path = control / name
            if path.exists():
                path.unlink()
                if name == "where":
                    _where(tabs[0])
                else:
                    runner.shutdown()
                    store.close()
                    app.quit()

    timer = QTimer(interval=200)
    timer.timeout.connect(follow)
    timer.start()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
