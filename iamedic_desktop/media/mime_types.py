"""The MIME types the IAMEDIC web system accepts (spec/domain_rules.md), by content.

A light module: the import's inspection child and the services both read it, and it loads
nothing else.
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
