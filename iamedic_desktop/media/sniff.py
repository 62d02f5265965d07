"""What a file is, by its content: libmagic on its first bytes, DICOM by its preamble.

The extension is never consulted: a text file named ``clip.mp4`` is text. An MPEG transport
stream, which this libmagic does not know, is recognised by its sync byte repeating every 188
bytes (192 in a Blu-ray ``.m2ts``, whose packets carry a 4-byte time code first). The accepted
types are the web's (``media/mime_types.py``); a few spellings libmagic uses for them are mapped
to the web's names (``video/x-ms-asf`` is how libmagic names a WMV file). Runs in the inspection
child (``media/inspect_worker.py``), as libmagic parses untrusted bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.media.mime_types import (
    ACCEPTED_IMAGE_MIME_TYPES,
    ACCEPTED_VIDEO_MIME_TYPES,
    CONVERTED_VIDEO_MIME_TYPES,
)

SNIFF_BYTES = 64 * 1024
DICOM_MIME = "application/dicom"
TRANSPORT_STREAM_MIME = "video/mp2t"
_TS_SYNC = 0x47
_TS_PACKETS = 8  # consecutive packets that must start with the sync byte

Kind = Literal["image", "video", "dicom"]

# libmagic's names for accepted types -> the names the web stores.
ALIASES: dict[str, str] = {
    "image/x-ms-bmp": "image/bmp",
    "image/x-bmp": "image/bmp",
    "image/pjpeg": "image/jpeg",
    "video/x-ms-asf": "video/x-ms-wmv",
    "video/x-m4v": "video/mp4",
    "video/avi": "video/x-msvideo",
    "video/msvideo": "video/x-msvideo",
    "video/x-mkv": "video/x-matroska",
    "application/ogg": "video/ogg",
}

# How a refused type reads to a clinician.
_DESCRIPTIONS: dict[str, str] = {
    "application/x-empty": "an empty file",
    "inode/x-empty": "an empty file",
    "text/html": "a web page (HTML)",
    "image/svg+xml": "an SVG drawing, which is not an accepted image type",
    "application/pdf": "a PDF document",
    "application/zip": "a ZIP archive",
    "application/octet-stream": "data of no recognised type",
}


@dataclass(frozen=True)
class Sniffed:
    """The detected MIME type, the kind it implies (None: not accepted) and why."""

    mime_type: str
    kind: Kind | None
    reason: str


def _describe(mime: str) -> str:
    if mime in _DESCRIPTIONS:
        return _DESCRIPTIONS[mime]
    if mime.startswith("text/"):
        return "a text file"
    if mime.startswith("audio/"):
        return "a sound recording without pictures"
    if mime.startswith("image/"):
        return "an image of a type that is not accepted"
    if mime.startswith("video/"):
        return "a video of a type that is not accepted"
    return "not an image, a video or a DICOM file"


def _looks_like_dicom(path: Path, head: bytes) -> bool:
    try:
        from iamedic_desktop.media.dicom_file import is_dicom
    except ImportError:  # pragma: no cover - the DICOM module is part of the package
        return head[128:132] == b"DICM"
    return head[128:132] == b"DICM" or is_dicom(path)


# Short names of the accepted types, for messages (a type missing here shows its subtype).
_SHORT_NAMES: dict[str, str] = {
    "video/3gpp": "3GP",
    "video/mp4": "MP4",
    "video/mpeg": "MPEG",
    "video/ogg": "Ogg",
    "video/quicktime": "QuickTime",
    "video/webm": "WebM",
    "video/x-flv": "FLV",
    "video/x-matroska": "Matroska",
    "video/x-ms-wmv": "WMV",
    "video/x-msvideo": "AVI",
    "video/mp2t": "MPEG-TS",
}


def _short(mime: str) -> str:
    return _SHORT_NAMES.get(mime, mime.split("/")[1].upper())


def accepted_summary() -> str:
    """The accepted types, for refusal messages."""
    images = ", ".join(sorted(_short(m) for m in ACCEPTED_IMAGE_MIME_TYPES))
    accepted = ACCEPTED_VIDEO_MIME_TYPES | CONVERTED_VIDEO_MIME_TYPES
    videos = ", ".join(sorted(_short(m) for m in accepted))
    return f"accepted are images ({images}), videos ({videos}) and DICOM files"


def is_transport_stream(head: bytes) -> bool:
    """Whether ``head`` starts with MPEG transport stream packets (188 or 192 bytes each)."""
    for size, offset in ((188, 0), (192, 4)):
        if len(head) >= offset + size * _TS_PACKETS and all(
            head[offset + size * n] == _TS_SYNC for n in range(_TS_PACKETS)
        ):
            return True
    return False


def sniff_bytes(head: bytes) -> str:
    """libmagic's MIME type of ``head``, with the web's spelling of accepted types."""
    import magic

    mime = str(magic.from_buffer(head, mime=True)).strip().lower()
    return ALIASES.get(mime, mime)


def sniff(path: Path) -> Sniffed:
    """What ``path`` holds, judged by content only."""
    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError as exc:
        raise InvalidInputError(f"The file cannot be read: {exc.strerror or exc}.") from exc
    if not head:
        return Sniffed("application/x-empty", None, "The file is empty.")
    if _looks_like_dicom(path, head):
        return Sniffed(DICOM_MIME, "dicom", "DICOM (by its content)")
    mime = sniff_bytes(head)
    if mime == "application/octet-stream" and is_transport_stream(head):
        mime = TRANSPORT_STREAM_MIME
    if mime in ACCEPTED_IMAGE_MIME_TYPES:
        return Sniffed(mime, "image", f"an image ({mime})")
    if mime in ACCEPTED_VIDEO_MIME_TYPES or mime in CONVERTED_VIDEO_MIME_TYPES:
        return Sniffed(mime, "video", f"a video ({mime})")
    summary = accepted_summary()
    return Sniffed(
        mime, None, f"This is {_describe(mime)} ({mime}), judged by its content; {summary}."
    )
