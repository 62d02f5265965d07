"""The settings dialog: typed values are checked field by field, saved whole, or not at all."""

from __future__ import annotations

import socket
import tomllib
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from iamedic_desktop.core.settings import Settings, default_settings_file, get_settings
from iamedic_desktop.ui.operations import OperationRunner
from iamedic_desktop.ui.settings_dialog import SettingsDialog
from tests.support.keyring_file import FileKeyring

pytestmark = pytest.mark.gui

SECRET = "pg-Secret-4711"


@pytest.fixture
def runner(qtbot: QtBot) -> Iterator[OperationRunner]:
    made = OperationRunner(max_threads=1)
    yield made
    qtbot.waitUntil(made.is_idle, timeout=10_000)
    made.shutdown()


@pytest.fixture
def ring(tmp_path: Path) -> Iterator[FileKeyring]:
    made = FileKeyring(tmp_path / "keyring.json")
    previous = keyring.get_keyring()
    keyring.set_keyring(made)
    yield made
    keyring.set_keyring(previous)


def _dialog(qtbot: QtBot, runner: OperationRunner, *, admin: bool = False) -> SettingsDialog:
    dialog = SettingsDialog(
        get_settings(),
        runner,
        admin,
        admin_tab_factory=lambda parent: QLabel("admin", parent),
    )
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def _focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None
    return widget


def _type_into(qtbot: QtBot, dialog: SettingsDialog, name: str, text: str) -> None:
    """Go to the field's tab, click in it, replace what it holds by typing."""
    field = dialog.findChild(QLineEdit, name)
    assert field is not None, name
    tab = next(i for i in range(dialog.tabs.count()) if dialog.tabs.widget(i).isAncestorOf(field))
    dialog.tabs.setCurrentIndex(tab)
    qtbot.mouseClick(field, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(field.hasFocus)
    qtbot.keyClick(_focused(), Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(_focused(), Qt.Key.Key_Delete)
    qtbot.keyClicks(_focused(), text)


def _error(dialog: SettingsDialog, name: str) -> QLabel:
    label = dialog.findChild(QLabel, f"{name}_error")
    assert label is not None, name
    return label


@pytest.mark.parametrize(
    ("typed", "field", "words"),
    [
        (
            {
                "central_host": "db",
                "central_database": "iamedic",
                "central_user": "u",
                "central_port": "70000",
            },
            "central_port",
            "1 to 65535",
        ),
        (
            {
                "central_host": "db",
                "central_database": "iamedic",
                "central_user": "u",
                "central_port": "54x",
            },
            "central_port",
            "1 to 65535",
        ),
        ({"central_database": "iamedic", "central_user": "u"}, "central_host", "host is needed"),
        (
            {"central_host": "db/x", "central_database": "iamedic", "central_user": "u"},
            "central_host",
            "not a host name",
        ),
        ({"central_host": "db", "central_database": "iamedic"}, "central_user", "is needed"),
        (
            {"central_host": "db", "central_database": "a b", "central_user": "u"},
            "central_database",
            "cannot hold",
        ),
        (
            {
                "central_host": "db",
                "central_database": "iamedic",
                "central_user": "u",
                "central_sslrootcert": "/no/such/ca.pem",
            },
            "central_sslrootcert",
            "not a file",
        ),
        ({"offline_days": "-2"}, "offline_days", "at least 0"),
        ({"offline_days": "a week"}, "offline_days", "whole number"),
        ({"oauth_issuer": "http://accounts.example.org"}, "oauth_issuer", "https://"),
        ({"mlflow_tracking_uri": "mlflow:5000"}, "mlflow_tracking_uri", "http://"),
        ({"model_alias": "the best"}, "model_alias", "pattern"),
        ({"classifier_model_name": ""}, "classifier_model_name", "at least 1"),
    ],
)
def test_each_bad_value_is_refused_beside_its_field_and_nothing_is_written(
    qtbot: QtBot, runner: OperationRunner, typed: dict[str, str], field: str, words: str
) -> None:
    dialog = _dialog(qtbot, runner)
    for name, text in typed.items():
        _type_into(qtbot, dialog, name, text)
    dialog.tabs.setCurrentIndex(0)

    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    error = _error(dialog, field)
    qtbot.waitUntil(error.isVisible)
    assert words in error.text()
    assert dialog.isVisible()
    assert "Not saved" in dialog.message.text()
    assert dialog.findChild(QLineEdit, field) is _focused()  # its tab is shown, cursor in it
    assert not default_settings_file().exists()


def test_correcting_a_refused_field_clears_its_reason_and_the_refusal(
    qtbot: QtBot, runner: OperationRunner
) -> None:
    dialog = _dialog(qtbot, runner)
    _type_into(qtbot, dialog, "offline_days", "-2")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    error = _error(dialog, "offline_days")
    qtbot.waitUntil(error.isVisible)
    assert "Not saved" in dialog.message.text()

    qtbot.keyClick(_focused(), Qt.Key.Key_Backspace)  # "-" left: still to be checked
    assert not error.isVisible()
    assert "Not saved" not in dialog.message.text()
    assert not default_settings_file().exists()


def test_a_data_folder_that_is_a_file_is_refused(
    qtbot: QtBot, runner: OperationRunner, tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("not a folder")
    dialog = _dialog(qtbot, runner)
    _type_into(qtbot, dialog, "data_dir", str(tmp_path / "notes.txt" / "store"))
    qtbot.keyClick(_focused(), Qt.Key.Key_Return)  # Enter saves

    error = _error(dialog, "data_dir")
    qtbot.waitUntil(error.isVisible)
    assert "is a file, not a folder" in error.text()
    assert not default_settings_file().exists()


def test_http_inference_needs_both_service_addresses(qtbot: QtBot, runner: OperationRunner) -> None:
    dialog = _dialog(qtbot, runner)
    assert not dialog.ai.box_url.isEnabled()
    dialog.ai.inference.setCurrentIndex(dialog.ai.inference.findData("http"))
    assert dialog.ai.box_url.isEnabled()
    _type_into(qtbot, dialog, "classifier_service_url", "http://127.0.0.1:8001")

    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(_error(dialog, "box_service_url").isVisible)
    assert "needs the address of the box service" in _error(dialog, "box_service_url").text()
    assert not _error(dialog, "classifier_service_url").isVisible()


def test_a_save_writes_the_file_once_and_the_password_only_to_the_keyring(
    qtbot: QtBot, runner: OperationRunner, ring: FileKeyring, tmp_path: Path
) -> None:
    default_settings_file().write_text('log_level = "DEBUG"\n', encoding="utf-8")
    dialog = _dialog(qtbot, runner)
    dialog.tabs.setCurrentWidget(dialog.central)
    # Typed as a user does: into the focused field, Tab to the next one.
    host = dialog.findChild(QLineEdit, "central_host")
    qtbot.mouseClick(host, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(host.hasFocus)
    for text in ("db.hospital.org", "6543", "iamedic", "workstation", SECRET):
        qtbot.keyClicks(_focused(), text)
        qtbot.keyClick(_focused(), Qt.Key.Key_Tab)
    assert _focused().objectName() == "central_sslmode"
    dialog.central.fields["central_sslmode"].setCurrentText("require")  # type: ignore[attr-defined]
    _type_into(qtbot, dialog, "offline_days", "3")
    _type_into(qtbot, dialog, "oauth_client_secret", "GOCSPX-installed")

    with qtbot.waitSignal(dialog.settings_saved, timeout=10_000) as saved:
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    text = default_settings_file().read_text(encoding="utf-8")
    document = tomllib.loads(text)
    assert document["central_url"] == (
        "postgresql://workstation@db.hospital.org:6543/iamedic?sslmode=require"
    )
    assert document["offline_days"] == 3
    assert document["log_level"] == "DEBUG"  # a setting the dialog does not show is kept
    assert document["oauth_client_secret"] == "GOCSPX-installed"
    assert SECRET not in text
    assert [p.name for p in default_settings_file().parent.glob(".settings.toml.*")] == []
    assert ring.get_password("iamedic-central-db", "workstation") == SECRET
    new: Settings = saved.args[0]
    assert new.offline_days == 3 and new.central_url == document["central_url"]
    assert not dialog.isVisible()


def test_escape_cancels_without_writing(
    qtbot: QtBot, runner: OperationRunner, ring: FileKeyring
) -> None:
    dialog = _dialog(qtbot, runner)
    _type_into(qtbot, dialog, "offline_days", "30")
    _type_into(qtbot, dialog, "central_password", SECRET)

    qtbot.keyClick(_focused(), Qt.Key.Key_Escape)

    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert not default_settings_file().exists()
    assert ring.get_password("iamedic-central-db", "workstation") is None
    assert not ring.path.exists()


def test_escape_on_the_keymap_tab_cancels_the_dialog(qtbot: QtBot, runner: OperationRunner) -> None:
    dialog = _dialog(qtbot, runner)
    dialog.tabs.setCurrentWidget(dialog.keymap)
    dialog.keymap.sheet.table.setFocus()
    qtbot.waitUntil(dialog.keymap.sheet.table.hasFocus)

    qtbot.keyClick(_focused(), Qt.Key.Key_Escape)

    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert not default_settings_file().exists()


def test_a_changed_shortcut_is_saved_with_the_settings(
    qtbot: QtBot, runner: OperationRunner
) -> None:
    dialog = _dialog(qtbot, runner)
    dialog.tabs.setCurrentWidget(dialog.keymap)
    sheet = dialog.keymap.sheet
    sheet.select_action("play_pause")
    sheet.capture_key()
    qtbot.keyClick(sheet.key_edit, Qt.Key.Key_K)
    qtbot.waitUntil(lambda: sheet.keys_shown("play_pause") == "K")

    with qtbot.waitSignal(dialog.settings_saved, timeout=10_000):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    assert tomllib.loads(default_settings_file().read_text())["keymap"] == {"play_pause": "K"}


def test_the_administration_tab_is_there_for_admins_only(
    qtbot: QtBot, runner: OperationRunner
) -> None:
    dialog = _dialog(qtbot, runner)
    tabs = dialog.tabs
    titles = [tabs.tabText(i) for i in range(tabs.count())]
    assert titles == ["General", "Central database", "Sign-in", "AI", "Keymap"]
    admin = _dialog(qtbot, runner, admin=True)
    assert admin.tabs.tabText(5) == "Administration"


def _test_connection(qtbot: QtBot, dialog: SettingsDialog, port: int) -> QLabel:
    for name, text in (
        ("central_host", "127.0.0.1"),
        ("central_port", str(port)),
        ("central_database", "postgres"),
        ("central_user", "postgres"),
    ):
        _type_into(qtbot, dialog, name, text)
    qtbot.mouseClick(dialog.central.test_button, Qt.MouseButton.LeftButton)
    result = dialog.central.result
    qtbot.waitUntil(lambda: dialog.central.test_button.isEnabled(), timeout=15_000)
    return result


@pytest.mark.postgres
def test_test_connection_reaches_the_real_postgresql(qtbot: QtBot, runner: OperationRunner) -> None:
    dialog = _dialog(qtbot, runner)
    result = _test_connection(qtbot, dialog, 5432)
    assert result.text().startswith("Reachable: 127.0.0.1:5432/postgres, PostgreSQL ")
    assert "Link: NOT encrypted." in result.text()
    assert "IAMEDIC tables:" in result.text() and "Workstation schema:" in result.text()
    assert not default_settings_file().exists()  # testing is not saving


def test_test_connection_to_a_closed_port_says_it_is_not_reachable(
    qtbot: QtBot, runner: OperationRunner
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dialog = _dialog(qtbot, runner)
    result = _test_connection(qtbot, dialog, port)
    assert result.text().startswith(f"Not reachable: 127.0.0.1:{port}/postgres.")
    assert "refused" in result.text().lower()


def test_test_connection_refuses_a_bad_port_before_connecting(
    qtbot: QtBot, runner: OperationRunner
) -> None:
    dialog = _dialog(qtbot, runner)
    result = _test_connection(qtbot, dialog, 0)
    assert result.text() == "Not tested: correct the marked field first."
    assert _error(dialog, "central_port").isVisible()
