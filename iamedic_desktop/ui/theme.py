"""A dark theme for reading ultrasound: dim neutral greys, no bright surface near the image."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

# Neutral greys keep grey-scale images reading true; one muted blue marks selection and focus.
WINDOW = "#1c1d20"
BASE = "#141517"
ALTERNATE = "#1a1b1e"
PANEL = "#232428"
TEXT = "#d6d8dc"
MUTED = "#8b8f97"
ACCENT = "#3a6ea5"
BORDER = "#2e3035"
WARNING = "#d9a441"

STYLE_SHEET = f"""
QMainWindow, QWidget {{ font-size: 10pt; }}
QLabel#panelTitle {{ color: {TEXT}; font-size: 11pt; font-weight: 600; }}
QLabel#panelCount, QLabel#emptyState {{ color: {MUTED}; }}
QLineEdit {{
    background: {BASE}; border: 1px solid {BORDER}; border-radius: 4px; padding: 4px 6px;
}}
QLineEdit:focus {{ border-color: {ACCENT}; }}
QTableView {{ background: {BASE}; border: 1px solid {BORDER}; gridline-color: {BORDER}; }}
QHeaderView::section {{
    background: {PANEL}; color: {MUTED}; border: none; border-bottom: 1px solid {BORDER};
    padding: 4px 6px;
}}
QLabel#viewerPlaceholder {{ background: #0b0b0c; color: {MUTED}; }}
QSplitter::handle {{ background: {BORDER}; width: 1px; }}
QStatusBar {{ background: {PANEL}; border-top: 1px solid {BORDER}; color: {MUTED}; }}
QLabel#modeIndicator {{
    color: {WARNING}; border: 1px solid {WARNING}; border-radius: 8px; padding: 0 8px;
    margin: 2px 4px;
}}
"""


def dark_palette() -> QPalette:
    """The palette every widget draws with."""
    palette = QPalette()
    colours = {
        QPalette.ColorRole.Window: WINDOW,
        QPalette.ColorRole.WindowText: TEXT,
        QPalette.ColorRole.Base: BASE,
        QPalette.ColorRole.AlternateBase: ALTERNATE,
        QPalette.ColorRole.ToolTipBase: PANEL,
        QPalette.ColorRole.ToolTipText: TEXT,
        QPalette.ColorRole.PlaceholderText: MUTED,
        QPalette.ColorRole.Text: TEXT,
        QPalette.ColorRole.Button: PANEL,
        QPalette.ColorRole.ButtonText: TEXT,
        QPalette.ColorRole.BrightText: "#ffffff",
        QPalette.ColorRole.Highlight: ACCENT,
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: "#6ea0d8",
    }
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(MUTED))
    return palette


def apply_theme(app: QApplication) -> None:
    """Fusion style (it honours the palette on every platform), the palette, the style sheet."""
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    app.setStyleSheet(STYLE_SHEET)
