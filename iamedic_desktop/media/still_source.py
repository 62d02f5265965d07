"""A still image as a FrameSource: one frame, no frame rate, EXIF orientation applied.

Threading: the pixels are decoded once when the source opens; afterwards every method only
reads them, so any thread may call them.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.media.frame_source import RGBFrame

# The same limit as the import's image check: a larger picture could exhaust the memory.
MAX_STILL_PIXELS = 100_000_000


class StillFrameSource:
    """One decoded picture (RGB, upright as the camera meant it) behind the FrameSource API."""

    def __init__(self, path: Path) -> None:
        self._path = Path(path)
        self._pixels: RGBFrame | None = _decode(self._path)

    @property
    def frame_count(self) -> int:
        """Always 1."""
        return 1

    @property
    def fps(self) -> float:
        """0: a still has no frame rate."""
        return 0.0

    @property
    def width(self) -> int:
        """Width as displayed (EXIF orientation applied)."""
        return int(self._frame().shape[1])

    @property
    def height(self) -> int:
        """Height as displayed (EXIF orientation applied)."""
        return int(self._frame().shape[0])

    def timestamp(self, n: int) -> float:
        """0.0 for the only frame."""
        self._check(n)
        return 0.0

    def index_at(self, seconds: float) -> int:
        """0 at any time."""
        return 0

    def frame(self, n: int) -> RGBFrame:
        """The picture (read-only) for ``n == 0``."""
        self._check(n)
        return self._frame()

    def iter_frames(
        self, start: int = 0, stop: int | None = None
    ) -> Iterator[tuple[int, RGBFrame]]:
        """The one frame, when 0 is in ``start``..``stop - 1``."""
        if start <= 0 and (stop is None or stop > 0):
            yield 0, self._frame()

    def close(self) -> None:
        """Drop the pixels."""
        self._pixels = None

    def _frame(self) -> RGBFrame:
        if self._pixels is None:
            raise InvalidInputError(f"'{self._path.name}' is closed.")
        return self._pixels

    def _check(self, n: int) -> None:
        if n != 0:
            raise InvalidInputError(f"'{self._path.name}' is a still: it has only frame 0.")


def _decode(path: Path) -> RGBFrame:
    """Decode ``path`` with Pillow, turn it upright and make it 8-bit RGB."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's notes on odd files are not failures
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if width * height > MAX_STILL_PIXELS:
                    raise InvalidInputError(
                        f"'{path.name}' declares {width} x {height} pixels, more than this "
                        "workstation opens."
                    )
                upright = ImageOps.exif_transpose(image)
                if upright.mode in ("I;16", "I;16B", "I;16L", "I"):
                    # 16-bit grey: scale to 8 bits instead of clipping (Pillow's convert clips)
                    grey = np.asarray(upright, dtype=np.float64)
                    top = float(grey.max()) or 1.0
                    eight = np.clip(grey * (255.0 / top) + 0.5, 0, 255).astype(np.uint8)
                    rgb = np.ascontiguousarray(np.repeat(eight[:, :, None], 3, axis=2))
                else:
                    rgb = np.asarray(upright.convert("RGB"), dtype=np.uint8).copy()
    except InvalidInputError:
        raise
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidInputError(f"'{path.name}' is not an image that can be opened.") from exc
    except Image.DecompressionBombWarning as exc:
        raise InvalidInputError(f"'{path.name}' is too large an image to open.") from exc
    rgb.flags.writeable = False
    return rgb
