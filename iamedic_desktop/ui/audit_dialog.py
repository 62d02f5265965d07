"""The audit log's own window, opened from the Administration tab (Audit log…).

Not modal: the admin keeps the settings dialog at hand. It lists the newest entries when it
opens; closing it drops any answer still on its way (``AuditBrowser`` checks it is alive).
"""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QVBoxLayout, QWidget

from iamedic_desktop.ui.audit_browser import AuditBrowser, Run


class AuditDialog(QDialog):
    """``AuditBrowser`` and Close."""

    def __init__(self, run: Run, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Central audit log")
        self.setObjectName("auditDialog")
        self.browser = AuditBrowser(run, self)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setAutoDefault(False)  # Enter in the table or a filter never closes the window
        close.setDefault(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser, 1)
        layout.addWidget(buttons)
        self.resize(1100, 600)
        self.browser.search()
