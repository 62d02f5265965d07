"""The Export annotations dialog: fill it, export on a worker, the file is there; a refusal is
shown in the dialog and reaches the runner's notification path."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QDate
from pytestqt.qtbot import QtBot

from iamedic_desktop.core.settings import get_settings
from iamedic_desktop.models import User
from iamedic_desktop.ui.export_dialog import ExportDialog
from tests.factories import make_box, make_media, make_study, make_usefulness, seeding
from tests.gui.study_browser_support import WAIT_MS, BrowserEnv, add_widget, browser_env

pytestmark = pytest.mark.gui


@pytest.fixture
def env(qtbot: QtBot) -> Iterator[BrowserEnv]:
    with browser_env(qtbot) as made:
        yield made


def _seed(env: BrowserEnv) -> str:
    with seeding(env.store.uow) as session:
        user = session.get(User, env.store.actor.user_id)
        assert user is not None
        image = make_media(session, make_study(session, user), filename="scan.png")
        when = dt.datetime(2026, 3, 5, 8, 0, 0, tzinfo=dt.UTC)
        make_usefulness(session, image, 1).created_at = when
        make_box(session, image).created_at = when
        return image.file_path


def _dialog(qtbot: QtBot, env: BrowserEnv) -> ExportDialog:
    dialog = ExportDialog(env.workers, get_settings(), env.store)
    add_widget(qtbot, env, dialog)
    dialog.show()
    return dialog


def test_fill_the_dialog_and_export(qtbot: QtBot, env: BrowserEnv, tmp_path: Path) -> None:
    key = _seed(env)
    dialog = _dialog(qtbot, env)
    out = tmp_path / "exports"
    out.mkdir()
    dialog.kind.setCurrentIndex(dialog.kind.findData("boxes"))
    dialog.all_dates.setChecked(False)
    assert dialog.start.isEnabled() and dialog.include_hidden.isEnabled()
    dialog.start.setDate(QDate(2026, 3, 5))
    dialog.end.setDate(QDate(2026, 3, 5))
    dialog.folder.setText(str(out))
    with qtbot.waitSignal(dialog.exported, timeout=WAIT_MS) as done:
        dialog.export_button.click()
        assert dialog.running and not dialog.export_button.isEnabled()
    result = done.args[0]
    assert result.path.parent == out.resolve() and result.path.is_file()
    assert result.path.name.startswith("bounding_box_annotations_2026-03-05_2026-03-05_")
    assert result.path.read_text().splitlines()[1].startswith(f"{key}.png,image,CM,20.0,30.0,")
    assert str(result.path) in dialog.message.text()
    assert "1 rows, 1 media, from this workstation." in dialog.message.text()
    assert dialog.export_button.isEnabled() and not dialog.cancel_button.isVisible()


def test_yolo_is_always_a_zip_and_a_failure_is_shown(
    qtbot: QtBot, env: BrowserEnv, tmp_path: Path
) -> None:
    _seed(env)  # the image's file was never stored: a YOLO export cannot size it
    dialog = _dialog(qtbot, env)
    dialog.kind.setCurrentIndex(dialog.kind.findData("yolo"))
    assert dialog.zip.isChecked() and not dialog.zip.isEnabled()
    dialog.folder.setText(str(tmp_path))
    before = sorted(tmp_path.iterdir())
    with (
        qtbot.waitSignal(env.workers.failed, timeout=WAIT_MS),
        qtbot.waitSignal(dialog.export_failed, timeout=WAIT_MS) as failed,
    ):
        dialog.export_button.click()
    assert failed.args[0].startswith("The file of 'scan.png' is not on this workstation")
    assert dialog.message.text() == failed.args[0]
    assert sorted(tmp_path.iterdir()) == before
