"""DTOs of the study browser: a study's row with its annotation status, a media row, sort keys."""

from __future__ import annotations

import enum

from pydantic import BaseModel, ConfigDict

from iamedic_desktop.schemas.media import MediaDTO
from iamedic_desktop.schemas.studies import StudyDTO


class StudySortKey(enum.StrEnum):
    """What the study list is ordered by (the query orders; never a view over loaded rows)."""

    ALIAS = "alias"
    CREATED = "created"
    UPDATED = "updated"
    MEDIA = "media"
    STATUS = "status"


class AnnotationStatus(enum.StrEnum):
    """How far a study (or one media) has come, in workflow order.

    - ``empty``: a study without active media (never a media's status).
    - ``ai_pending``: not annotated, a classifier model is configured, and at least one item has
      not been scored by it yet: an image or still without a classification prediction of that
      model version, or a video with no frame scores of that version stored and none of whose
      active stills has one.
    - ``not_annotated``: some item waits for a clinician, and none for the AI (everything is
      scored, or no model is configured: then only a clinician can move it on).
    - ``annotated``: every active image and still has a usefulness label, and every active video
      has at least one active still that has one (spec: "Annotated means").
    """

    EMPTY = "empty"
    AI_PENDING = "ai_pending"
    NOT_ANNOTATED = "not_annotated"
    ANNOTATED = "annotated"

    @property
    def label(self) -> str:
        """The words a clinician reads."""
        return _LABELS[self]

    @property
    def rank(self) -> int:
        """Position in the workflow (the order of a sort by status)."""
        return list(AnnotationStatus).index(self)


_LABELS = {
    AnnotationStatus.EMPTY: "No media",
    AnnotationStatus.AI_PENDING: "AI pending",
    AnnotationStatus.NOT_ANNOTATED: "Not annotated",
    AnnotationStatus.ANNOTATED: "Annotated",
}


class AiState(enum.StrEnum):
    """Where a study's (or one media's) classifier scores stand.

    - ``scored``: every item has a classification prediction (of the model version in use; of
      any version when no model is configured, e.g. the web's, by sync).
    - ``pending``: a model is configured and some item waits for its score.
    - ``no_model``: some item has no score and no model is configured to give one.
    """

    SCORED = "scored"
    PENDING = "pending"
    NO_MODEL = "no_model"

    @property
    def label(self) -> str:
        """The words a clinician reads."""
        return _AI_LABELS[self]


_AI_LABELS = {AiState.SCORED: "Scored", AiState.PENDING: "AI pending", AiState.NO_MODEL: "No model"}

NO_MODEL_HINT = (
    "No classifier model is configured on this workstation. Pull the registry's champion "
    "models (AI → Pull champion models, or `iamedic models pull`), or choose the web's "
    "inference services in Settings → AI; predictions made by the web arrive by sync."
)


def ai_state(unscored: int, model_version: str | None) -> AiState:
    """The AI state of items of which ``unscored`` have no score, under ``model_version``."""
    if unscored == 0:
        return AiState.SCORED
    return AiState.PENDING if model_version is not None else AiState.NO_MODEL


class StudyRowDTO(StudyDTO):
    """A study as the browser lists it: the study, its status and what the status counts.

    ``unlabelled`` counts the active items still waiting for a clinician, ``unscored`` the
    ones the classifier has not scored (see ``AnnotationStatus``), ``ai_state`` what that
    means (see ``AiState``).
    """

    status: AnnotationStatus
    unlabelled: int
    unscored: int
    ai_state: AiState = AiState.SCORED

    def to_study(self) -> StudyDTO:
        """The plain study DTO (what the browser's ``study_opened`` carries)."""
        return StudyDTO.model_validate(self.model_dump(include=set(StudyDTO.model_fields)))


class MediaRowDTO(BaseModel):
    """One media of a study as the browser lists it.

    ``duration``, ``fps``, ``frame_count``, ``width`` and ``height`` come from the probe kept at
    import (``media_files.probe_json``) and are None for images. ``stills`` counts a video's
    active stills, ``labelled_stills`` those with a usefulness label. ``ai_state`` is the
    media's own (a video's: scored when one of its active stills is).
    """

    model_config = ConfigDict(frozen=True)

    media: MediaDTO
    status: AnnotationStatus
    ai_state: AiState = AiState.SCORED
    duration: float | None = None
    fps: float | None = None
    frame_count: int | None = None
    width: int | None = None
    height: int | None = None
    stills: int = 0
    labelled_stills: int = 0
