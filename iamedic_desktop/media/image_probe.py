"""Whether an image really decodes: Pillow checks its structure, then decodes it whole.

A decompression bomb (a few kilobytes that declare a picture of billions of pixels) is refused
from its header, before a byte of pixels is decoded: the declared size is checked against
``MAX_IMAGE_PIXELS`` and Pillow's own guard is set to the same number. Runs in the inspection
child (``media/inspect_worker.py``), under its memory limit.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from iamedic_desktop.core.errors import InvalidInputError

# 100 megapixels: a 48 MP phone photo passes, ultrasound stills are far smaller.
MAX_IMAGE_PIXELS = 100_000_000


@dataclass(frozen=True)
class ImageInfo:
    """What Pillow found: the picture's size, its format and how many frames it holds."""

    width: int
    height: int
    format: str
    mode: str
    frames: int


def _check_size(width: int, height: int, max_pixels: int) -> None:
    if width <= 0 or height <= 0:
        raise InvalidInputError("The image declares no picture size: it is damaged.")
    if width * height > max_pixels:
        raise InvalidInputError(
            f"The image declares {width} x {height} pixels ({width * height / 1e6:,.0f} "
            f"megapixels), more than the {max_pixels / 1e6:,.0f} megapixels allowed: it could "
            "exhaust the memory (a decompression bomb) and was refused."
        )


def inspect_image(path: Path, *, max_pixels: int = MAX_IMAGE_PIXELS) -> ImageInfo:
    """Open, verify and fully decode the image at ``path``; refuse bombs and damaged files."""
    from PIL import Image, UnidentifiedImageError

    from iamedic_desktop.media.image_size import shown_size

    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                _check_size(*image.size, max_pixels)
                image.verify()  # structure and checksums, without decoding
            with Image.open(path) as image:
                image.load()  # decode the first (or only) picture entirely
                width, height = shown_size(image)  # as the canvas shows it
                return ImageInfo(
                    width=width,
                    height=height,
                    format=str(image.format or "unknown"),
                    mode=image.mode,
                    frames=int(getattr(image, "n_frames", 1) or 1),
                )
    except InvalidInputError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InvalidInputError(
            f"The image declares more than {max_pixels / 1e6:,.0f} megapixels: it could "
            "exhaust the memory (a decompression bomb) and was refused."
        ) from exc
    except UnidentifiedImageError as exc:
        raise InvalidInputError("The image cannot be decoded: its content is not valid.") from exc
    except MemoryError as exc:
        raise InvalidInputError("The image needs more memory to decode than allowed.") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        # Pillow reports truncated and corrupt data as OSError or SyntaxError.
        raise InvalidInputError(f"The image is damaged or truncated ({exc}).") from exc
