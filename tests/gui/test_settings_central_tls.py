"""The Central database tab and TLS: Test connection says whether the link is encrypted and
the server verified, a TLS refusal says what to change, Save keeps the URL's other options."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLineEdit
from pytestqt.qtbot import QtBot

from iamedic_desktop.core.settings import default_settings_file, get_settings
from iamedic_desktop.ui import theme
from iamedic_desktop.ui.operations import OperationRunner
from iamedic_desktop.ui.settings_central_tab import SettingsCentralTab
from iamedic_desktop.ui.settings_dialog import SettingsDialog
from tests.support.keyring_file import FileKeyring
from tests.support.tls_cluster import PASSWORD, PASSWORD_USER, TlsCluster, tls_cluster

pytestmark = pytest.mark.gui


@pytest.fixture
def runner(qtbot: QtBot) -> Iterator[OperationRunner]:
    made = OperationRunner(max_threads=1)
    yield made
    qtbot.waitUntil(made.is_idle, timeout=10_000)
    made.shutdown()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsCluster]:
    with tls_cluster(tmp_path_factory.mktemp("tls-client")) as started:
        yield started


def _tab(qtbot: QtBot, runner: OperationRunner) -> SettingsCentralTab:
    tab = SettingsCentralTab(get_settings(), runner)
    qtbot.addWidget(tab)
    tab.show()
    qtbot.waitExposed(tab)
    return tab


def _type(qtbot: QtBot, tab: SettingsCentralTab, name: str, text: str) -> None:
    field = tab.findChild(QLineEdit, name)
    assert field is not None, name
    field.clear()
    qtbot.keyClicks(field, text)


def _test_connection(
    qtbot: QtBot, tab: SettingsCentralTab, cluster: TlsCluster, host: str, mode: str
) -> str:
    for name, text in (
        ("central_host", host),
        ("central_port", str(cluster.port)),
        ("central_database", "iamedic"),
        ("central_user", PASSWORD_USER),
        ("central_password", PASSWORD),
        ("central_sslrootcert", str(cluster.ca)),
    ):
        _type(qtbot, tab, name, text)
    combo = tab.findChild(QComboBox, "central_sslmode")
    assert combo is not None
    combo.setCurrentIndex(combo.findData(mode))
    qtbot.mouseClick(tab.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.result.text() != "Connecting…", timeout=15_000)
    qtbot.waitUntil(tab.test_button.isEnabled)
    result = tab.result.text()
    assert PASSWORD not in result
    return result


@pytest.mark.postgres
def test_test_connection_says_encrypted_and_server_verified(
    qtbot: QtBot, runner: OperationRunner, cluster: TlsCluster
) -> None:
    text = _test_connection(qtbot, _tab(qtbot, runner), cluster, "localhost", "verify-full")

    assert text.startswith(f"Reachable: localhost:{cluster.port}/iamedic, PostgreSQL ")
    assert "\nLink: encrypted (TLSv1." in text
    assert "· server verified (certificate signed by the CA file, for this host)." in text
    assert not default_settings_file().exists()  # testing is not saving


@pytest.mark.postgres
def test_test_connection_names_the_host_name_check_when_it_fails(
    qtbot: QtBot, runner: OperationRunner, cluster: TlsCluster
) -> None:
    tab = _tab(qtbot, runner)
    text = _test_connection(qtbot, tab, cluster, "127.0.0.1", "verify-full")

    assert text.startswith(f"Not connected: 127.0.0.1:{cluster.port}/iamedic. ")
    assert "The host-name check failed" in text and '"localhost"' in text
    assert theme.ERROR in tab.result.styleSheet()


def test_save_keeps_the_urls_other_options_and_shows_them(
    qtbot: QtBot, runner: OperationRunner, tmp_path: Path
) -> None:
    (cert := tmp_path / "client.pem").write_text("cert")
    (key := tmp_path / "client.key").write_text("key")
    url = (
        "postgresql://workstation@db.hospital.org:5432/iamedic?"
        f"application_name=ws-3&sslcert={cert}&sslkey={key}&sslmode=require"
    )
    default_settings_file().write_text(f'central_url = "{url}"\n', encoding="utf-8")
    ring = FileKeyring(tmp_path / "keyring.json")
    previous = keyring.get_keyring()
    keyring.set_keyring(ring)
    try:
        dialog = SettingsDialog(get_settings(), runner, False)
        qtbot.addWidget(dialog)
        dialog.show()
        options = dialog.findChild(QLineEdit, "central_options")
        assert options is not None
        assert options.text() == f"application_name=ws-3&sslcert={cert}&sslkey={key}"
        _type(qtbot, dialog.central, "central_port", "6432")

        with qtbot.waitSignal(dialog.settings_saved, timeout=10_000):
            qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    finally:
        keyring.set_keyring(previous)

    saved = get_settings().central_url
    assert saved is not None
    assert tomllib.loads(default_settings_file().read_text("utf-8"))["central_url"] == saved
    assert saved.startswith("postgresql://workstation@db.hospital.org:6432/iamedic?")
    for kept in ("application_name=ws-3", "sslmode=require", "sslcert=", "sslkey="):
        assert kept in saved
