"""Settings, Sign-in: the OAuth client, the identity provider and the offline days."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from iamedic_desktop.core.settings import Settings
from iamedic_desktop.ui.settings_fields import SettingsFieldsTab


class SettingsSignInTab(SettingsFieldsTab):
    """Client id and secret, issuer, and how many days a session works offline."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.line(
            "oauth_client_id",
            "OAuth client id:",
            settings.oauth_client_id,
            placeholder="…apps.googleusercontent.com",
        )
        self.line(
            "oauth_client_secret",
            "Client secret:",
            settings.oauth_client_secret,
            placeholder="only if the provider issued one",
            hidden=True,
        )
        self.add_note(
            "The client secret of a desktop app is not confidential (the provider issues it "
            "to every copy of the app): it is kept in the settings file, and never logged."
        )
        self.line("oauth_issuer", "Identity provider:", settings.oauth_issuer)
        self.line("offline_days", "Days offline:", settings.offline_days)
        self.add_note(
            "After signing in online, you may keep working offline this many days with the "
            "roles last seen; then sign-in is required again."
        )
