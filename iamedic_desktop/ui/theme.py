"""A dark theme for a dim reading room: low-luminance neutral greys, no pure white text.

Neutral greys (no tint) keep grey-scale ultrasound reading true; the image area is near black
so nothing around the scan is brighter than the scan. Text is a soft grey (about 75%
luminance), never white, so it does not glare in a dark room. One muted blue marks focus and
selection; amber marks the local-mode and warning states.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

IMAGE_BACKGROUND = "#0a0a0b"
WINDOW = "#1b1c1f"
BASE = "#141517"
ALTERNATE = "#18191c"
PANEL = "#212226"
RAISED = "#2a2c31"
TEXT = "#c4c7cc"
TEXT_STRONG = "#d9dbdf"
MUTED = "#858a92"
DISABLED = "#5b5f66"
ACCENT = "#3f6f9f"
ACCENT_SOFT = "#2c4a69"
BORDER = "#2c2e33"
WARNING = "#c99a45"
ERROR = "#c96a5f"
OK = "#6f9f6a"

STYLE_SHEET = f"""
QMainWindow, QWidget {{ font-size: 10pt; }}
QToolTip {{ background: {RAISED}; color: {TEXT}; border: 1px solid {BORDER}; }}
QLabel#panelTitle {{ color: {TEXT_STRONG}; font-size: 11pt; font-weight: 600; }}
QLabel#panelCount, QLabel#emptyState {{ color: {MUTED}; }}
QLineEdit, QSpinBox, QDoubleSpinBox, QComboBox, QKeySequenceEdit {{
    background: {BASE}; border: 1px solid {BORDER}; border-radius: 4px; padding: 3px 6px;
}}
QLineEdit:focus, QSpinBox:focus, QDoubleSpinBox:focus, QComboBox:focus {{
    border-color: {ACCENT};
}}
QPushButton, QToolButton {{
    background: {PANEL}; border: 1px solid {BORDER}; border-radius: 4px; padding: 3px 8px;
}}
QToolButton {{ padding: 3px 5px; }}
QPushButton:hover, QToolButton:hover {{ background: {RAISED}; }}
QPushButton:focus, QToolButton:focus {{ border-color: {ACCENT}; }}
QPushButton:checked, QToolButton:checked {{ background: {ACCENT_SOFT}; border-color: {ACCENT}; }}
QPushButton:disabled, QToolButton:disabled {{ color: {DISABLED}; }}
QTableView, QListView, QTreeView {{
    background: {BASE}; border: 1px solid {BORDER}; gridline-color: {BORDER};
    selection-background-color: {ACCENT_SOFT}; selection-color: {TEXT_STRONG};
}}
QTableView:focus, QListView:focus, QTreeView:focus {{ border-color: {ACCENT}; }}
QHeaderView::section {{
    background: {PANEL}; color: {MUTED}; border: none; border-bottom: 1px solid {BORDER};
    padding: 4px 6px;
}}
QDockWidget {{ color: {MUTED}; }}
QDockWidget::title {{ background: {PANEL}; padding: 5px 8px; border-bottom: 1px solid {BORDER}; }}
QGraphicsView {{ background: {IMAGE_BACKGROUND}; border: none; }}
QLabel#viewerPlaceholder {{ background: {IMAGE_BACKGROUND}; color: {MUTED}; }}
QSplitter::handle {{ background: {BORDER}; }}
QSplitter::handle:vertical {{ height: 3px; }}
QSplitter::handle:horizontal {{ width: 3px; }}
QSlider::groove:horizontal {{ height: 4px; background: {RAISED}; border-radius: 2px; }}
QSlider::handle:horizontal {{
    background: {TEXT}; width: 10px; margin: -4px 0; border-radius: 5px;
}}
QSlider::sub-page:horizontal {{ background: {ACCENT}; border-radius: 2px; }}
QProgressBar {{ background: {BASE}; border: 1px solid {BORDER}; border-radius: 3px; }}
QProgressBar::chunk {{ background: {ACCENT}; }}
QStatusBar {{ background: {PANEL}; border-top: 1px solid {BORDER}; color: {MUTED}; }}
QStatusBar QLabel#operationLabel {{ color: {MUTED}; padding: 0 6px; }}
QLabel#modeIndicator {{
    color: {WARNING}; border: 1px solid {WARNING}; border-radius: 8px; padding: 0 8px;
    margin: 2px 4px;
}}
QLabel#modeIndicator[state="connected"] {{ color: {OK}; border-color: {OK}; }}
QLabel#modeIndicator[state="syncing"] {{ color: {ACCENT}; border-color: {ACCENT}; }}
QLabel#modeIndicator[state="offline"], QLabel#modeIndicator[state="error"] {{
    color: {ERROR}; border-color: {ERROR};
}}
QLabel#shortcutMessage[problem="true"] {{ color: {ERROR}; }}
QMenu {{ background: {PANEL}; border: 1px solid {BORDER}; }}
QMenu::item:selected {{ background: {ACCENT_SOFT}; }}
"""


def dark_palette() -> QPalette:
    """The palette every widget draws with."""
    palette = QPalette()
    colours = {
        QPalette.ColorRole.Window: WINDOW,
        QPalette.ColorRole.WindowText: TEXT,
        QPalette.ColorRole.Base: BASE,
        QPalette.ColorRole.AlternateBase: ALTERNATE,
        QPalette.ColorRole.ToolTipBase: RAISED,
        QPalette.ColorRole.ToolTipText: TEXT,
        QPalette.ColorRole.PlaceholderText: MUTED,
        QPalette.ColorRole.Text: TEXT,
        QPalette.ColorRole.Button: PANEL,
        QPalette.ColorRole.ButtonText: TEXT,
        QPalette.ColorRole.BrightText: TEXT_STRONG,
        QPalette.ColorRole.Highlight: ACCENT,
        QPalette.ColorRole.HighlightedText: TEXT_STRONG,
        QPalette.ColorRole.Link: "#6d95c0",
        QPalette.ColorRole.Light: RAISED,
        QPalette.ColorRole.Midlight: PANEL,
        QPalette.ColorRole.Mid: BORDER,
        QPalette.ColorRole.Dark: BASE,
        QPalette.ColorRole.Shadow: "#000000",
    }
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.ButtonText,
    ):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(DISABLED))
    return palette


def apply_theme(app: QApplication) -> None:
    """Fusion style (it honours the palette on every platform), the palette, the style sheet."""
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    app.setStyleSheet(STYLE_SHEET)
