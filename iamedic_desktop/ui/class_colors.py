"""The colour of each box class: nine hues told apart at a glance on dark, grey ultrasound.

Saturated and light (no dark blue or dark red, which vanish on black; no grey or white, which
vanish on the speckle), and in the order of ``BB_CLASSES`` so the keys 1-9 and the colours keep
their places.
"""

from __future__ import annotations

from PySide6.QtGui import QColor

from iamedic_desktop.models.central import BB_CLASSES

_HEX: dict[str, str] = {
    "CM": "#ff5c5c",  # red
    "IT": "#ffa03a",  # orange
    "NT": "#ffe14d",  # yellow
    "midbrain": "#7ee36b",  # green
    "nasal bone": "#33e0c4",  # teal
    "nasal skin": "#4fb3ff",  # sky blue
    "nasal tip": "#b38cff",  # violet
    "palate": "#ff7ad9",  # pink
    "thalami": "#b4ff00",  # chartreuse
}

_FALLBACK = "#e0e0e0"
_cache: dict[str, QColor] = {}


def class_color(bb_class: str) -> QColor:
    """The colour of a class (a light grey for a name that is not a class)."""
    color = _cache.get(bb_class)
    if color is None:
        color = _cache[bb_class] = QColor(_HEX.get(bb_class, _FALLBACK))
    return QColor(color)


def class_key(bb_class: str) -> str:
    """The digit that picks the class ("1" for the first), or "" for a name that is not one."""
    return str(BB_CLASSES.index(bb_class) + 1) if bb_class in BB_CLASSES else ""


def label_text_color(background: QColor) -> QColor:
    """Black or white, whichever reads better on ``background``."""
    luminance = 0.299 * background.red() + 0.587 * background.green() + 0.114 * background.blue()
    return QColor("#000000") if luminance > 140 else QColor("#ffffff")
