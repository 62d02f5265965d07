"""Open the right FrameSource for a file, judged by its content (never its extension)."""

from __future__ import annotations

from pathlib import Path

from iamedic_desktop.core.errors import InvalidInputError, NotFoundError
from iamedic_desktop.media.frame_source import FrameSource


def open_frame_source(
    path: Path, *, cache_mb: int | None = None, readahead: int | None = None
) -> FrameSource:
    """A DICOM cine, a still image or a video source for ``path``; sizes default to settings."""
    from iamedic_desktop.media.sniff import sniff

    path = Path(path)
    if not path.is_file():
        raise NotFoundError(f"'{path.name}' does not exist.")
    kind = sniff(path)
    if kind.kind == "dicom":
        from iamedic_desktop.media.dicom import open_dicom

        return open_dicom(path)
    if kind.kind == "image":
        from iamedic_desktop.media.still_source import StillFrameSource

        return StillFrameSource(path)
    if kind.kind == "video":
        from iamedic_desktop.core.settings import get_settings
        from iamedic_desktop.media.video_source import VideoFrameSource

        settings = get_settings()
        return VideoFrameSource(
            path,
            cache_mb=settings.frame_cache_mb if cache_mb is None else cache_mb,
            readahead=settings.readahead_frames if readahead is None else readahead,
            index_cache_dir=settings.cache_dir,
        )
    raise InvalidInputError(f"'{path.name}' cannot be shown: {kind.reason}")
