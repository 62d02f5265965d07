"""One interface for every kind of moving or still picture: frame *n*, exactly.

Implementations: a video file (``video_source.py``), a DICOM cine (``dicom.py``) and a still
image (``still_source.py``). Frames are RGB ``uint8`` arrays of shape (height, width, 3),
C-contiguous, and frame *n* is the same pixels as decoding the file from its start. A source
that can also hand its sequential frames over as 8-bit greyscale (height, width), without
making RGB first, is a ``PixelFormatSource`` (``iter_frames(..., pixel_format="gray")``).
Threading: a source is used by one thread at a time unless it says otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

RGBFrame = npt.NDArray[np.uint8]  # H x W x 3, or H x W for pixel_format="gray"
PixelFormat = Literal["rgb24", "gray"]
PIXEL_FORMATS: tuple[PixelFormat, ...] = ("rgb24", "gray")


@runtime_checkable
class FrameSource(Protocol):
    """Random and sequential access to the frames of one media file."""

    @property
    def frame_count(self) -> int:
        """How many frames there are (counted, never trusted from a header)."""
        ...

    @property
    def fps(self) -> float:
        """Nominal frames per second (the cine's own rate; 0 for a still)."""
        ...

    @property
    def width(self) -> int:
        """Width of a frame in pixels, as displayed (rotation applied)."""
        ...

    @property
    def height(self) -> int:
        """Height of a frame in pixels, as displayed (rotation applied)."""
        ...

    def timestamp(self, n: int) -> float:
        """Presentation time of frame ``n`` in seconds from the first frame."""
        ...

    def index_at(self, seconds: float) -> int:
        """The frame shown at ``seconds`` (the last frame whose timestamp is <= seconds)."""
        ...

    def frame(self, n: int) -> RGBFrame:
        """Frame ``n`` (0-based), exactly."""
        ...

    def iter_frames(
        self, start: int = 0, stop: int | None = None
    ) -> Iterator[tuple[int, RGBFrame]]:
        """Frames ``start``..``stop - 1`` in order, decoded sequentially (fast)."""
        ...

    def close(self) -> None:
        """Release the decoder and caches."""
        ...


@runtime_checkable
class PixelFormatSource(FrameSource, Protocol):
    """A FrameSource whose sequential frames also come as 8-bit greyscale (``"gray"``)."""

    @property
    def pixel_formats(self) -> tuple[PixelFormat, ...]:
        """The ``pixel_format`` values ``iter_frames`` takes (``"rgb24"`` first)."""
        ...

    def iter_frames(
        self, start: int = 0, stop: int | None = None, *, pixel_format: PixelFormat = "rgb24"
    ) -> Iterator[tuple[int, RGBFrame]]:
        """Frames ``start``..``stop - 1`` in order, as RGB or as greyscale ``H x W``."""
        ...
