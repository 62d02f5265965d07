"""The size of a picture as the canvas shows it: EXIF orientation applied.

A camera or a phone may store a picture sideways with an EXIF Orientation tag; the canvas
(``media/still_source.py``) turns it upright, and boxes are drawn, checked, predicted and
exported in those upright pixels. Every size read from a file goes through here, so a turned
picture's boxes are never checked against the wrong width and height.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

EXIF_ORIENTATION = 0x0112
QUARTER_TURNS = {5, 6, 7, 8}  # orientations shown turned a quarter: width and height swap


def shown_size(image: Image.Image) -> tuple[int, int]:
    """(width, height) of an opened picture once turned upright (only its header is read)."""
    width, height = image.size
    if image.getexif().get(EXIF_ORIENTATION) in QUARTER_TURNS:
        return height, width
    return width, height
