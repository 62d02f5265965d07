"""DTOs of frame extraction: one still, a batch of stills, and automatic extraction by runs."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict

from iamedic_desktop.schemas.media import FrameDTO
from iamedic_desktop.schemas.predictions import ClassificationPredictionDTO


class ExtractionResult(BaseModel):
    """One still: made now (``created``), already there, or restored from a soft delete.

    ``reactivated`` means a deleted still at that timestamp came back with its annotations
    cleared (``cleared_annotations`` of them); neither flag means it existed and nothing new
    was stored.
    """

    model_config = ConfigDict(frozen=True)

    frame: FrameDTO
    created: bool
    reactivated: bool
    cleared_annotations: int
    message: str


class BatchExtractionResult(BaseModel):
    """Stills taken every N frames or every N seconds: what was done, even when cancelled.

    ``planned`` frames were selected; ``stills`` holds one result per selected frame handled,
    in frame order. ``cancelled`` is true when the user stopped the work: the stills listed
    are stored and stay; the rest were not made.
    """

    model_config = ConfigDict(frozen=True)

    video_media_id: uuid.UUID
    planned: int
    stills: list[ExtractionResult]
    created: int
    existing: int
    reactivated: int
    cancelled: bool
    message: str


class RunDTO(BaseModel):
    """A run of useful frames: ``start``..``end`` inclusive and its best frame."""

    model_config = ConfigDict(frozen=True)

    start: int
    end: int
    best_index: int
    best_score: float
    best_timestamp_seconds: float
    extracted: bool


class RunsExtractionResult(BaseModel):
    """Automatic extraction: every frame's score, the runs found, the stills and predictions.

    ``scores[n]`` is frame *n*'s score (the timeline's score lane). ``cancelled`` while scoring:
    no runs and no stills; while taking stills: every run is listed, and the stills made before
    the stop are kept.
    """

    model_config = ConfigDict(frozen=True)

    video_media_id: uuid.UUID
    model_version: str
    run_threshold: float
    min_run_length: int
    prediction_threshold: float
    patience: int
    frame_count: int
    scores: list[float]
    runs: list[RunDTO]
    stills: list[ExtractionResult]
    predictions: list[ClassificationPredictionDTO]
    cancelled: bool
    message: str
