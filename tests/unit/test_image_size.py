"""A picture's size as the canvas shows it: an EXIF quarter turn swaps width and height."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from iamedic_desktop.media.image_probe import inspect_image
from iamedic_desktop.media.image_size import EXIF_ORIENTATION, shown_size


def _jpeg(path: Path, orientation: int | None) -> Path:
    exif = Image.Exif()
    if orientation is not None:
        exif[EXIF_ORIENTATION] = orientation
    Image.new("RGB", (64, 48), (90, 120, 30)).save(path, "JPEG", exif=exif.tobytes())
    return path


@pytest.mark.parametrize(
    ("orientation", "size"),
    [(None, (64, 48)), (1, (64, 48)), (3, (64, 48)), (5, (48, 64)), (6, (48, 64)), (8, (48, 64))],
)
def test_a_quarter_turn_swaps_the_size(
    tmp_path: Path, orientation: int | None, size: tuple[int, int]
) -> None:
    path = _jpeg(tmp_path / "p.jpg", orientation)
    with Image.open(path) as image:
        assert shown_size(image) == size
    info = inspect_image(path)  # what an import records
    assert (info.width, info.height) == size
