"""DTOs of media rows and of frames (stills taken from a video)."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict

from iamedic_desktop.models.central import MediaType, UploadStatus


class MediaDTO(BaseModel):
    """A media row: an imported image or video, or a still (``media_type`` frame).

    ``display_name`` is set by listings where the file name is not for people: a still's
    (``frame_<uuid>_0.167s_<hex>.jpg``) reads "Still at 0:00.167 (frame 5)".
    """

    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: uuid.UUID
    study_id: uuid.UUID
    filename: str
    file_path: str
    file_size: int
    mime_type: str
    media_type: MediaType
    upload_status: UploadStatus
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    display_name: str | None = None

    @property
    def readable_name(self) -> str:
        """What a person reads: ``display_name`` when a listing gave one, else ``filename``."""
        return self.display_name or self.filename


class FrameDTO(BaseModel):
    """A still taken from a video: the frames row with its still's media row.

    ``frame_index`` is where the still sits in its video: the frame the player shows at
    ``timestamp_seconds`` (None while the video's frame timing is unknown). ``frame_number`` is
    the column as stored, which the web fills with other meanings: read ``frame_index``.
    """

    model_config = ConfigDict(frozen=True)

    id: uuid.UUID
    video_media_id: uuid.UUID
    frame_media_id: uuid.UUID
    timestamp_seconds: float
    frame_number: int
    frame_index: int | None
    width: int
    height: int
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    still: MediaDTO


class FrameRecordResult(BaseModel):
    """What recording a still did: created it, found one, or reactivated a deleted one.

    When ``created`` is false the caller's new file is not referenced by any row and may be
    discarded. ``cleared_annotations`` counts the labels and boxes removed on reactivation.
    """

    model_config = ConfigDict(frozen=True)

    frame: FrameDTO
    created: bool
    reactivated: bool
    cleared_annotations: int
    message: str
