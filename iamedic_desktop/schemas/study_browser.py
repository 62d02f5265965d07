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
    - ``ai_pending``: not annotated, and at least one item has not been scored by the frame
      classifier yet: an image or still without a classification prediction (of the model
      version asked for; of any version when none is), or a video none of whose active stills
      has one.
    - ``not_annotated``: scored, but some item still waits for a clinician.
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


class StudyRowDTO(StudyDTO):
    """A study as the browser lists it: the study, its status and what the status counts.

    ``unlabelled`` counts the active items still waiting for a clinician, ``unscored`` the
    ones the classifier has not scored (see ``AnnotationStatus``).
    """

    status: AnnotationStatus
    unlabelled: int
    unscored: int

    def to_study(self) -> StudyDTO:
        """The plain study DTO (what the browser's ``study_opened`` carries)."""
        return StudyDTO.model_validate(self.model_dump(include=set(StudyDTO.model_fields)))


class MediaRowDTO(BaseModel):
    """One media of a study as the browser lists it.

    ``duration``, ``fps``, ``frame_count``, ``width`` and ``height`` come from the probe kept at
    import (``media_files.probe_json``) and are None for images. ``stills`` counts a video's
    active stills, ``labelled_stills`` those with a usefulness label.
    """

    model_config = ConfigDict(frozen=True)

    media: MediaDTO
    status: AnnotationStatus
    duration: float | None = None
    fps: float | None = None
    frame_count: int | None = None
    width: int | None = None
    height: int | None = None
    stills: int = 0
    labelled_stills: int = 0
