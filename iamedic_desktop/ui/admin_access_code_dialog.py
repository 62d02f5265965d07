"""The one-time enrollment code an admin just made for a user, shown once.

The code exists nowhere else (the central database keeps only its SHA-256): the dialog says so,
offers Copy, and shows when it expires. Closing it forgets the code.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from iamedic_desktop.services.central_access import AccessGrant


class AccessCodeDialog(QDialog):
    """The code in a read-only field with Copy, who it is for, its expiry, and Close."""

    def __init__(self, email: str, grant: AccessGrant, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Workstation access granted")
        self.setObjectName("accessCodeDialog")
        self.setModal(True)
        until = grant.expires_at.astimezone().strftime("%Y-%m-%d %H:%M")
        intro = QLabel(
            f"{email} can now enroll one workstation with this one-time code, valid until "
            f"{until}. It will not be shown again: copy it now and give it to them privately.",
            wordWrap=True,
        )
        self.code_edit = QLineEdit(grant.code, self, readOnly=True)
        self.code_edit.setObjectName("accessCode")
        font = QFont("monospace")
        font.setStyleHint(QFont.StyleHint.Monospace)
        font.setPointSizeF(font.pointSizeF() * 1.3)
        self.code_edit.setFont(font)
        self.code_edit.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.copy_button = QPushButton("Copy", self)
        self.copy_button.setObjectName("copyAccessCode")
        self.copy_button.setAutoDefault(False)
        self.copy_button.clicked.connect(self.copy_code)
        how = QLabel(
            "On their workstation: Settings… > Central database > Enroll this workstation "
            f"(or iamedic central enroll CODE). Login: {grant.login}.",
            wordWrap=True,
        )
        how.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.code_edit, 1)
        row.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(row)
        layout.addWidget(how)
        layout.addWidget(buttons)
        self.resize(520, self.sizeHint().height())

    def code(self) -> str:
        """The code as shown."""
        return self.code_edit.text()

    def copy_code(self) -> None:
        """Put the code on the clipboard and say so on the button."""
        QGuiApplication.clipboard().setText(self.code())
        self.copy_button.setText("Copied")
