"""Display names of imported files: the original name, made safe to show and to store.

A file name comes from a disk, a USB stick or a scanner's export and may hold anything a file
system allows: control characters, right-to-left overrides that make ``gpj.exe`` read as
``exe.jpg``, path separators from another system, ``..``, thousands of characters. The display
name keeps what a clinician recognises and drops the rest; it is only ever shown, never used as
a path (the stored file is named by its uuid key).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePath

MAX_NAME_LENGTH = 500  # media.filename is varchar(500)
MAX_EXTENSION_LENGTH = 16
FALLBACK_STEM = "unnamed"

# Bidirectional controls and invisible formatting characters are Unicode category Cf; control
# characters (C0, DEL, C1) are Cc; lone surrogates (from undecodable bytes) are Cs; line and
# paragraph separators Zl/Zp break a one-line display.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_SEPARATORS = re.compile(r"[/\\]+")
_DOTS = re.compile(r"\.{2,}")
_SPACES = re.compile(r"\s+")
_BREAKS = re.compile("[\t\n\r\v\f\x85\u2028\u2029]")


def _visible(text: str) -> str:
    return "".join(ch for ch in text if unicodedata.category(ch) not in _DROPPED_CATEGORIES)


def safe_display_name(original: str, *, max_length: int = MAX_NAME_LENGTH) -> str:
    """``original`` as a one-line name: NFC, no control or bidi characters, no '/', '\\', '..'.

    Path separators become '_', runs of dots one dot, runs of white space one space; leading
    and trailing dots and spaces go. A name with nothing left becomes ``unnamed`` (with its
    extension). A name longer than ``max_length`` characters is shortened in its stem, so the
    extension stays.
    """
    text = unicodedata.normalize("NFC", original)
    text = _BREAKS.sub(" ", text)  # a tab or a line break reads as a space
    text = _visible(text)
    text = _SEPARATORS.sub("_", text)
    text = _DOTS.sub(".", text)
    text = _SPACES.sub(" ", text).strip(" .")
    stem, extension = split_extension(text)
    if not stem.strip(" ."):
        stem = FALLBACK_STEM
    room = max_length - len(extension)
    if len(stem) > room:
        stem = stem[:room].rstrip(" .")
    return unicodedata.normalize("NFC", f"{stem}{extension}")


def split_extension(name: str) -> tuple[str, str]:
    """``("clip", ".mp4")``; an over-long or odd suffix is part of the stem, not an extension."""
    suffix = PurePath(name).suffix if name else ""
    if (
        not suffix
        or len(suffix) > MAX_EXTENSION_LENGTH
        or suffix == name
        or not suffix[1:].replace("_", "").replace("-", "").isalnum()
    ):
        return name, ""
    return name[: -len(suffix)], suffix


def with_extension(name: str, extension: str) -> str:
    """``name`` with its extension replaced (a DICOM stored as PNG or MP4 reads as such)."""
    stem, _ = split_extension(name)
    return safe_display_name(f"{stem}{extension}")
