"""Settings, Keymap: the shortcut sheet inside the dialog, saved with the other settings."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QDialogButtonBox, QVBoxLayout, QWidget

from iamedic_desktop.core.settings import Settings
from iamedic_desktop.ui.keymap import Keymap
from iamedic_desktop.ui.shortcut_sheet_dialog import ShortcutSheetDialog


class _EmbeddedShortcutSheet(ShortcutSheetDialog):
    """The sheet as a plain widget: the dialog's Save and Cancel stand for its own buttons."""

    def __init__(self, keymap: Keymap, parent: QWidget) -> None:
        super().__init__(keymap, parent)
        self.setWindowFlags(Qt.WindowType.Widget)
        for box in self.findChildren(QDialogButtonBox):
            box.hide()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Escape and Enter belong to the settings dialog (cancel, save), not to the sheet.
        if event.key() in (Qt.Key.Key_Escape, Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.ignore()
            return
        super().keyPressEvent(event)


class SettingsKeymapTab(QWidget):
    """Every action and its keys; changes are kept when the settings are saved."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        keymap, _unknown = Keymap.load(settings.keymap)
        self.sheet = _EmbeddedShortcutSheet(keymap, self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.sheet)

    def values(self) -> dict[str, Any]:
        """The changed shortcuts, as the settings file keeps them."""
        return {"keymap": self.sheet.keymap.overrides()}

    def show_errors(self, errors: dict[str, str]) -> str | None:
        """A refused keymap is said in the sheet's own message line."""
        if "keymap" in errors:
            self.sheet.message.setText(f"Not saved: {errors['keymap']}")
            return "keymap"
        return None

    def focus_field(self, _name: str) -> None:
        """The list of actions takes the focus."""
        self.sheet.table.setFocus(Qt.FocusReason.OtherFocusReason)
