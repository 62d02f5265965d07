"""The settings dialog (Ctrl+,): General, Central database, Sign-in, AI, Keymap, Administration.

Save checks every field through the Settings model in an operation; each refusal is shown
beside its field and nothing is written. Otherwise the settings file is written once,
atomically, then the central password goes to the keyring (the old file is put back if the
keyring refuses: ``services/settings_form.py``); the settings are re-read and
``settings_saved`` carries them. Escape or Cancel closes without writing anything.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from iamedic_desktop.core.settings import Settings, get_settings
from iamedic_desktop.services.settings_form import FormResult, save_form, validate_form
from iamedic_desktop.ui import theme
from iamedic_desktop.ui.operations import OperationRunner, describe_failure
from iamedic_desktop.ui.settings_ai_tab import SettingsAiTab
from iamedic_desktop.ui.settings_central_tab import SettingsCentralTab
from iamedic_desktop.ui.settings_fields import SettingsFieldsTab
from iamedic_desktop.ui.settings_general_tab import SettingsGeneralTab
from iamedic_desktop.ui.settings_keymap_tab import SettingsKeymapTab
from iamedic_desktop.ui.settings_sign_in_tab import SettingsSignInTab

_FormTab = SettingsFieldsTab | SettingsKeymapTab


def _save_and_reread(candidate: Settings, password: str | None) -> Settings:
    save_form(candidate, password)
    return get_settings()  # save_form forgot the cached settings: read the file again


class SettingsDialog(QDialog):
    """Every setting of the workstation in tabs; saved whole or not at all."""

    settings_saved = Signal(object)  # the re-read Settings

    def __init__(
        self,
        settings: Settings,
        runner: OperationRunner,
        actor_is_admin: bool,
        parent: QWidget | None = None,
        *,
        admin_tab_factory: Callable[[QWidget], QWidget] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setObjectName("settingsDialog")
        self._runner = runner
        self.tabs = QTabWidget(self)
        self.general = SettingsGeneralTab(settings, self)
        self.central = SettingsCentralTab(settings, runner, self)
        self.sign_in = SettingsSignInTab(settings, self)
        self.ai = SettingsAiTab(settings, self, runner=runner)
        self.keymap = SettingsKeymapTab(settings, self)
        self._form_tabs: list[_FormTab] = [
            self.general,
            self.central,
            self.sign_in,
            self.ai,
            self.keymap,
        ]
        for tab, title in zip(
            self._form_tabs, ("General", "Central database", "Sign-in", "AI", "Keymap"), strict=True
        ):
            self.tabs.addTab(tab, title)
        self.admin_tab: QWidget | None = None
        if actor_is_admin and admin_tab_factory is not None:
            self.admin_tab = admin_tab_factory(self)
            self.tabs.addTab(self.admin_tab, "Administration")
        self.message = QLabel(self, wordWrap=True)
        self.message.setObjectName("settingsMessage")
        for tab in self._form_tabs:
            if isinstance(tab, SettingsFieldsTab):
                tab.edited.connect(lambda: self._say(""))
        buttons = QDialogButtonBox(self)
        self.save_button = buttons.addButton(QDialogButtonBox.StandardButton.Save)
        self.cancel_button = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.resize(680, 620)

    def form_values(self) -> dict[str, Any]:
        """Every tab's fields, as typed."""
        values: dict[str, Any] = {}
        for tab in self._form_tabs:
            values.update(tab.values())
        return values

    def save(self) -> None:
        """Check the form in an operation; save it if every field is accepted."""
        self.save_button.setEnabled(False)
        self._say("Checking…")
        self._runner.run(
            functools.partial(validate_form, self.form_values()),
            on_success=self._checked,
            on_failure=self._failed,
        )

    def _checked(self, result: FormResult) -> None:
        if not shiboken6.isValid(self):
            return
        first: tuple[_FormTab, str] | None = None
        for tab in self._form_tabs:
            name = tab.show_errors(result.errors)
            if name is not None and first is None:
                first = (tab, name)
        if first is not None or result.settings is None:
            self.save_button.setEnabled(True)
            self._say("Not saved: correct the marked fields.", problem=True)
            if first is not None:
                self.tabs.setCurrentWidget(first[0])
                first[0].focus_field(first[1])
            return
        password = self.central.password.text() or None
        self._say("Saving…")
        self._runner.run(
            functools.partial(_save_and_reread, result.settings, password),
            on_success=self._saved,
            on_failure=self._failed,
        )

    def _saved(self, settings: Settings) -> None:
        if not shiboken6.isValid(self):
            return
        self.settings_saved.emit(settings)
        self.accept()

    def _failed(self, error: BaseException) -> None:
        if shiboken6.isValid(self):
            self.save_button.setEnabled(True)
            self._say(f"Not saved: {describe_failure(error)}", problem=True)

    def _say(self, text: str, *, problem: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {theme.ERROR};" if problem else "")

    def focus_first_field(self) -> None:
        """The General tab's first field takes the focus (keyboard users start there)."""
        self.tabs.setCurrentIndex(0)
        self.general.fields["language"].setFocus(Qt.FocusReason.OtherFocusReason)
