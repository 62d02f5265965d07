"""DTOs of a prediction run (what the models said and what changed) and of a box import."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, computed_field

from iamedic_desktop.models.central import MediaType
from iamedic_desktop.schemas.annotations import BoxAnnotationDTO
from iamedic_desktop.schemas.predictions import BoxPredictionDTO, ClassificationPredictionDTO


class MediaPredictionDTO(BaseModel):
    """One media predicted in a run.

    Images and stills: the classifier's probability and the box model's boxes as stored, and
    the usefulness label the run set (``label_set``), or why it set none (``label_note``, with
    ``label_kept`` the clinician's label that was already there). ``removed_boxes`` are classes
    of an earlier run of the same box model version that this run no longer finds.
    Videos: every frame scored (``frames_scored``), how many count as useful and the best score.
    """

    model_config = ConfigDict(frozen=True)

    media_id: uuid.UUID
    media_type: MediaType
    name: str
    classification: ClassificationPredictionDTO | None = None
    boxes: list[BoxPredictionDTO] = []
    removed_boxes: list[str] = []
    label_set: int | None = None
    label_kept: int | None = None
    label_note: str | None = None
    frames_scored: int | None = None
    useful_frames: int | None = None
    best_score: float | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def probability(self) -> float | None:
        """The classifier's probability (None for a video)."""
        return self.classification.prediction if self.classification is not None else None


class SkippedMediaDTO(BaseModel):
    """A media the run left alone, and why (its file is not here, it cannot be decoded)."""

    model_config = ConfigDict(frozen=True)

    media_id: uuid.UUID
    media_type: MediaType
    name: str
    reason: str


class PredictionRunDTO(BaseModel):
    """What a prediction run did, media by media, even when cancelled.

    ``predicted`` are stored and stay; ``skipped`` were left alone with a reason; when
    ``cancelled``, the ``planned`` media not in either list were not reached.
    """

    model_config = ConfigDict(frozen=True)

    planned: int
    predicted: list[MediaPredictionDTO]
    skipped: list[SkippedMediaDTO]
    classifier_version: str | None
    box_model_version: str | None
    cancelled: bool
    message: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def predicted_ids(self) -> list[uuid.UUID]:
        """The media whose predictions changed (a view refreshes these)."""
        return [item.media_id for item in self.predicted]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def labelled_ids(self) -> list[uuid.UUID]:
        """The media that got a usefulness label from the classifier."""
        return [item.media_id for item in self.predicted if item.label_set is not None]


class SkippedBoxDTO(BaseModel):
    """A predicted box not imported, and why."""

    model_config = ConfigDict(frozen=True)

    bb_class: str
    confidence: float
    reason: str


class ImportedBoxesDTO(BaseModel):
    """Predicted boxes of one model version that became the clinician's boxes of a media.

    ``boxes`` are the annotations made (each credited to ``model_version`` in the box
    sources, where the store keeps them: ``sources_kept``); ``skipped`` the predicted boxes
    above the threshold that were not imported.
    """

    model_config = ConfigDict(frozen=True)

    media_id: uuid.UUID
    model_version: str
    threshold: float
    boxes: list[BoxAnnotationDTO]
    skipped: list[SkippedBoxDTO]
    sources_kept: bool
    message: str
