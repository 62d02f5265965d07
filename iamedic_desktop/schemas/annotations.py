"""DTOs of the clinician's annotations: the usefulness label and the boxes."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict

from iamedic_desktop.models.central import MediaType


class UsefulnessDTO(BaseModel):
    """The clinician's usefulness label of a media (0 not useful, 1 useful)."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: uuid.UUID
    media_id: uuid.UUID
    media_type: MediaType
    usefulness: int
    created_at: dt.datetime
    updated_at: dt.datetime


class BoxAnnotationDTO(BaseModel):
    """A clinician's box, identified across systems by (media_id, bb_class)."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: uuid.UUID
    media_id: uuid.UUID
    media_type: MediaType
    bb_class: str
    usefulness: int
    x_min: float
    y_min: float
    width: float
    height: float
    is_hidden: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class UsefulnessChangeDTO(BaseModel):
    """A usefulness label set, with the boxes that marking "not useful" removed."""

    model_config = ConfigDict(frozen=True)

    label: UsefulnessDTO
    removed_boxes: list[BoxAnnotationDTO]


class MediaAnnotationsDTO(BaseModel):
    """Every annotation of one media."""

    model_config = ConfigDict(frozen=True)

    media_id: uuid.UUID
    usefulness: UsefulnessDTO | None
    boxes: list[BoxAnnotationDTO]
