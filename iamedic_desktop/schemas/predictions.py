"""DTOs of model predictions (classification probabilities and boxes)."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict

from iamedic_desktop.models.central import MediaType


class BoxPredictionIn(BaseModel):
    """One box as the box model gives it, in pixels of the stored image."""

    model_config = ConfigDict(frozen=True)

    bb_class: str
    confidence: float
    x_min: float
    y_min: float
    width: float
    height: float


class ClassificationPredictionDTO(BaseModel):
    """The classifier's probability that a media is useful, for one model version."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: uuid.UUID
    media_id: uuid.UUID
    media_type: MediaType
    prediction: float
    model_version: str
    created_at: dt.datetime
    updated_at: dt.datetime


class BoxPredictionDTO(BaseModel):
    """A predicted box for one (media, model version, class)."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: uuid.UUID
    media_id: uuid.UUID
    media_type: MediaType
    bb_class: str
    confidence: float
    x_min: float
    y_min: float
    width: float
    height: float
    model_version: str
    created_at: dt.datetime
    updated_at: dt.datetime


class MediaPredictionsDTO(BaseModel):
    """Every prediction stored for one media."""

    model_config = ConfigDict(frozen=True)

    media_id: uuid.UUID
    classifications: list[ClassificationPredictionDTO]
    boxes: list[BoxPredictionDTO]
