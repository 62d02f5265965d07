"""Help > About IAMEDIC Workstation: the versions a support request needs.

The versions are gathered off the UI thread (``about_versions`` runs ffmpeg and reads package
metadata), then shown in a small dialog whose text can be selected and copied.
"""

from __future__ import annotations

import platform
import shutil
import sqlite3
import subprocess
from importlib.metadata import PackageNotFoundError, version

from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

import iamedic_desktop

TITLE = "About IAMEDIC Workstation"
FFMPEG_TIMEOUT_S = 5


def _package(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def _ffmpeg() -> str:
    binary = shutil.which("ffmpeg")
    if binary is None:
        return "not found"
    try:
        done = subprocess.run(
            [binary, "-hide_banner", "-version"],
            capture_output=True,
            text=True,
            timeout=FFMPEG_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return "not usable"
    # "ffmpeg version 6.1.1-3ubuntu5 Copyright ..." -> "6.1.1-3ubuntu5"
    words = (done.stdout.splitlines() or [""])[0].split()
    return words[2] if len(words) > 2 and words[1] == "version" else "unknown"


def about_versions() -> list[tuple[str, str]]:
    """(component, version) for the About box. Blocking (runs ffmpeg): off the UI thread."""
    import PySide6

    return [
        ("IAMEDIC Workstation", iamedic_desktop.__version__),
        ("Python", platform.python_version()),
        ("Qt", qVersion()),
        ("PySide6", PySide6.__version__),
        ("SQLite", sqlite3.sqlite_version),
        ("pydicom", _package("pydicom")),
        ("ffmpeg", _ffmpeg()),
    ]


class AboutDialog(QDialog):
    """The application's name, purpose and the versions of what it runs on."""

    def __init__(self, versions: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("aboutDialog")
        self.setWindowTitle(TITLE)
        self.versions = dict(versions)
        heading = QLabel(
            f"<b>IAMEDIC Workstation {self.versions.get('IAMEDIC Workstation', '')}</b><br>"
            "Fetal-ultrasound review and annotation, offline first."
        )
        rows = "".join(
            f"<tr><td>{name}</td><td>&nbsp;&nbsp;{value}</td></tr>" for name, value in versions
        )
        self.table = QLabel(f"<table>{rows}</table>", objectName="aboutVersions")
        self.table.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.table)
        layout.addWidget(buttons)

    def text(self) -> str:
        """The versions as plain lines (what a support request would paste)."""
        return "\n".join(f"{name} {value}" for name, value in self.versions.items())
