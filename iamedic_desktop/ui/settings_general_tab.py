"""Settings, General: language, data folder and theme."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from iamedic_desktop.core.settings import Settings
from iamedic_desktop.ui.settings_fields import SettingsFieldsTab

LANGUAGES = [("English", "en")]
# ui/theme.py draws one theme, the dark reading-room one; a light theme would be listed here.
THEMES = [("Dark (reading room)", "dark")]


class SettingsGeneralTab(SettingsFieldsTab):
    """Language, data folder (used from the next start) and theme."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.choice("language", "Language:", LANGUAGES, settings.language)
        self.path_field("data_dir", "Data folder:", str(settings.data_dir), folder=True)
        self.add_note(
            "The data folder holds the local store, the media and the logs. A new folder is "
            "used from the next start of IAMEDIC; nothing is moved there."
        )
        self.choice("theme", "Theme:", THEMES, settings.theme)
