"""Checks of media, prediction and annotation input that need no database.

The accepted MIME types, the nine box classes, the model-version spelling and box geometry are
the web system's rules (spec/domain_rules.md, spec/central_schema.md).
"""

from __future__ import annotations

import re
import uuid

from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.media.mime_types import ACCEPTED_IMAGE_MIME_TYPES, ACCEPTED_VIDEO_MIME_TYPES
from iamedic_desktop.models.central import BB_CLASSES, MediaType, UploadStatus
from iamedic_desktop.services.validation import check_number, clean_text

FILENAME_MAX_LENGTH = 500
MODEL_VERSION_MAX_LENGTH = 255
MIN_BOX_SIZE = 10.0
# Float slack so a box drawn exactly to the image edge is not refused after scaling round-trips.
_EDGE_TOLERANCE = 1e-6

# "<registered model name> - <version number>", e.g. "frame_classifier_224x224 - 3".
_MODEL_VERSION = re.compile(r"\S(?:.*\S)? - [0-9]+")


def clean_filename(filename: object) -> str:
    """A media display name: stripped, 1-500 characters."""
    return clean_text(filename, what="file name", max_length=FILENAME_MAX_LENGTH)


def check_file_path(file_path: object) -> str:
    """A storage key: a bare uuid4 string in canonical form (no folder, no extension)."""
    text = file_path if isinstance(file_path, str) else ""
    try:
        parsed = uuid.UUID(text)
    except ValueError:
        parsed = None
    if parsed is None or parsed.version != 4 or str(parsed) != text:
        raise InvalidInputError(
            f"The storage key {file_path!r} is not a bare uuid4 "
            "(like 3f2b8c1e-9d4a-4b7e-8c2f-1a2b3c4d5e6f, lower case, no folder or extension)."
        )
    return text


def check_file_size(file_size: object) -> int:
    """An exact file size in bytes; empty files are refused."""
    if isinstance(file_size, bool) or not isinstance(file_size, int):
        raise InvalidInputError(
            f"The file size must be a whole number of bytes, not {file_size!r}."
        )
    if file_size <= 0:
        raise InvalidInputError("The file is empty; empty files cannot be imported.")
    return file_size


def media_type_for(mime_type: object, media_type: object = None) -> tuple[str, MediaType]:
    """The accepted MIME type and the media type it implies; a given media type must agree.

    Stills (``frame``) are recorded only through the frames service.
    """
    mime = mime_type.strip().lower() if isinstance(mime_type, str) else ""
    if mime in ACCEPTED_IMAGE_MIME_TYPES:
        implied = MediaType.IMAGE
    elif mime in ACCEPTED_VIDEO_MIME_TYPES:
        implied = MediaType.VIDEO
    else:
        images = _names(ACCEPTED_IMAGE_MIME_TYPES)
        videos = _names(ACCEPTED_VIDEO_MIME_TYPES)
        raise InvalidInputError(
            f"Files of type {mime_type!r} are not accepted; accepted are the images "
            f"{images} and the videos {videos}."
        )
    if media_type is None:
        return mime, implied
    given = check_media_type(media_type)
    if given is MediaType.FRAME:
        raise InvalidInputError("A still taken from a video is recorded as a frame, not imported.")
    if given is not implied:
        raise InvalidInputError(
            f"A file of type {mime} is {_article(implied)}, not {_article(given)}."
        )
    return mime, implied


def check_media_type(media_type: object) -> MediaType:
    """One of the media types: image, video, frame."""
    try:
        return MediaType(str(media_type))
    except ValueError:
        names = ", ".join(f"'{m.value}'" for m in MediaType)
        raise InvalidInputError(
            f"'{media_type}' is not a media type; use one of {names}."
        ) from None


def check_upload_status(status: object) -> UploadStatus:
    """One of the upload states: uploaded, processing, failed."""
    try:
        return UploadStatus(str(status))
    except ValueError:
        names = ", ".join(f"'{s.value}'" for s in UploadStatus)
        raise InvalidInputError(
            f"'{status}' is not an upload status; use one of {names}."
        ) from None


def check_model_version(model_version: object) -> str:
    """A model version spelled ``<registered model name> - <version number>``."""
    if (
        not isinstance(model_version, str)
        or len(model_version) > MODEL_VERSION_MAX_LENGTH
        or not _MODEL_VERSION.fullmatch(model_version)
    ):
        raise InvalidInputError(
            f"The model version {model_version!r} is not spelled '<model name> - <version>' "
            "(e.g. 'frame_classifier_224x224 - 3'); the web would count it as another model."
        )
    return model_version


def check_bb_class(bb_class: object) -> str:
    """One of the nine box classes, spelled exactly (a wrong case gets a hint)."""
    if isinstance(bb_class, str) and bb_class in BB_CLASSES:
        return bb_class
    hint = ""
    if isinstance(bb_class, str):
        close = [c for c in BB_CLASSES if c.lower() == bb_class.strip().lower()]
        if close:
            hint = f" Did you mean '{close[0]}'? Class names are case-sensitive."
    names = ", ".join(f"'{c}'" for c in BB_CLASSES)
    raise InvalidInputError(f"{bb_class!r} is not a box class; the classes are {names}.{hint}")


def check_probability(value: object, *, what: str) -> float:
    """A probability between 0 and 1 inclusive."""
    number = check_number(value, what=what)
    if not 0.0 <= number <= 1.0:
        raise InvalidInputError(f"The {what} must be between 0 and 1, not {number}.")
    return number


def check_usefulness(value: object) -> int:
    """A usefulness label: 0 (not useful) or 1 (useful)."""
    if isinstance(value, bool) or value not in (0, 1):
        raise InvalidInputError(f"Usefulness is 0 (not useful) or 1 (useful), not {value!r}.")
    return int(value)


def check_image_size(width: object, height: object) -> tuple[int, int]:
    """An image size in pixels, both sides above zero."""
    if (
        isinstance(width, bool)
        or isinstance(height, bool)
        or not isinstance(width, int)
        or not isinstance(height, int)
        or width <= 0
        or height <= 0
    ):
        raise InvalidInputError(f"The image size {width!r} x {height!r} is not a size in pixels.")
    return width, height


def check_box(
    x_min: object,
    y_min: object,
    width: object,
    height: object,
    image_width: int,
    image_height: int,
) -> tuple[float, float, float, float]:
    """A drawn box in pixels: at least 10 px wide and high, and inside the image."""
    x = check_number(x_min, what="box left edge")
    y = check_number(y_min, what="box top edge")
    w = check_number(width, what="box width")
    h = check_number(height, what="box height")
    if w < MIN_BOX_SIZE or h < MIN_BOX_SIZE:
        raise InvalidInputError(
            f"The box is {w:g} x {h:g} px; a box must be at least "
            f"{MIN_BOX_SIZE:g} px wide and {MIN_BOX_SIZE:g} px high."
        )
    if (
        x < -_EDGE_TOLERANCE
        or y < -_EDGE_TOLERANCE
        or x + w > image_width + _EDGE_TOLERANCE
        or y + h > image_height + _EDGE_TOLERANCE
    ):
        raise InvalidInputError(
            f"The box ({x:g}, {y:g}, {w:g} x {h:g} px) goes outside the "
            f"{image_width} x {image_height} px image; keep it inside the image."
        )
    return x, y, w, h


def check_predicted_box(
    x_min: object, y_min: object, width: object, height: object
) -> tuple[float, float, float, float]:
    """A predicted box in pixels: finite, with a positive width and height."""
    x = check_number(x_min, what="box left edge")
    y = check_number(y_min, what="box top edge")
    w = check_number(width, what="box width")
    h = check_number(height, what="box height")
    if w <= 0 or h <= 0:
        raise InvalidInputError(f"A predicted box needs a positive size, not {w:g} x {h:g} px.")
    return x, y, w, h


def round_timestamp(timestamp_seconds: object) -> float:
    """A video timestamp in seconds, 0 or later, rounded to the millisecond."""
    seconds = check_number(timestamp_seconds, what="timestamp")
    if seconds < 0:
        raise InvalidInputError(f"The timestamp must be 0 s or later, not {seconds:g} s.")
    return round(seconds, 3) + 0.0  # a negative zero is zero: never "-0.000 s"


def _article(media_type: MediaType) -> str:
    return f"an {media_type.value}" if media_type is MediaType.IMAGE else f"a {media_type.value}"


def _names(values: frozenset[str]) -> str:
    return ", ".join(sorted(values))
