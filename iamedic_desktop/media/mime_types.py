"""The MIME types the IAMEDIC web system accepts (spec/domain_rules.md), by content.

A light module: the import's inspection child and the services both read it, and it loads
nothing else. ``CONVERTED_VIDEO_MIME_TYPES`` are taken in on import although the web does not
list them, because they are always stored converted (as H.264 MP4): the web only ever sees the
stored file's type.
"""

from __future__ import annotations

ACCEPTED_IMAGE_MIME_TYPES: frozenset[str] = frozenset(
    f"image/{sub}" for sub in ("jpeg", "png", "gif", "bmp", "tiff", "webp")
)
ACCEPTED_VIDEO_MIME_TYPES: frozenset[str] = frozenset(
    f"video/{sub}"
    for sub in (
        "mp4",
        "mpeg",
        "quicktime",
        "x-msvideo",
        "x-ms-wmv",
        "webm",
        "3gpp",
        "x-flv",
        "x-matroska",
        "ogg",
    )
)

# MPEG transport streams, as capture recorders and some scanners write them (.ts, .m2ts).
CONVERTED_VIDEO_MIME_TYPES: frozenset[str] = frozenset({"video/mp2t"})
