"""DTOs of studies."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict


class StudyDTO(BaseModel):
    """A doctor's study as the views show it; ``media_count`` counts its active media rows."""

    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: uuid.UUID
    doctor_id: uuid.UUID
    alias: str
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    media_count: int


class RestoredStudyDTO(BaseModel):
    """What a restore did: the study as it now stands, whether it was deleted, and in words."""

    model_config = ConfigDict(frozen=True)

    study: StudyDTO
    restored: bool
    message: str
