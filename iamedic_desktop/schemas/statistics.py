"""DTOs of the model statistics: how each model version does against the clinicians' labels.

A ratio that cannot be computed (nothing to divide by) is None; tables show it as "n/a".
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class StatisticsRequest(BaseModel):
    """The thresholds the statistics are computed with, and whether hidden boxes count."""

    model_config = ConfigDict(frozen=True)

    classification_threshold: float = Field(0.5, ge=0.0, le=1.0)
    confidence_threshold: float = Field(0.5, ge=0.0, le=1.0)
    iou_threshold: float = Field(0.5, gt=0.0, le=1.0)
    include_hidden: bool = False


class ClassificationStatisticsDTO(BaseModel):
    """Usefulness predicted (probability > threshold) against the clinicians' labels."""

    model_config = ConfigDict(frozen=True)

    scored: int  # media with a prediction of this version
    labelled: int  # of those, media with a usefulness label: the pairs judged
    tp: int
    fp: int
    fn: int
    tn: int
    accuracy: float | None
    precision: float | None
    recall: float | None
    f1: float | None


class ClassBoxStatisticsDTO(BaseModel):
    """One box class: truth boxes, hits, false alarms, misses, and 11-point AP."""

    model_config = ConfigDict(frozen=True)

    bb_class: str
    truths: int
    tp: int
    fp: int
    fn: int
    ap: float | None  # None: no truth box of this class on the media counted


class BoxStatisticsDTO(BaseModel):
    """Box predictions against the clinicians' boxes on the media this version scored."""

    model_config = ConfigDict(frozen=True)

    media: int  # media with at least one box prediction of this version
    classes: list[ClassBoxStatisticsDTO]
    map: float | None  # mean AP over the classes with a truth box


class ModelVersionStatisticsDTO(BaseModel):
    """One model version (``<name> - <version>``) and what can be said of it."""

    model_config = ConfigDict(frozen=True)

    model_version: str
    classification: ClassificationStatisticsDTO | None  # None: no classification prediction
    boxes: BoxStatisticsDTO | None  # None: no box prediction


class StatisticsReportDTO(BaseModel):
    """Every model version found, computed with ``request``, and the store read."""

    model_config = ConfigDict(frozen=True)

    request: StatisticsRequest
    where: str  # "this workstation" or "central database host/db"
    versions: list[ModelVersionStatisticsDTO]
