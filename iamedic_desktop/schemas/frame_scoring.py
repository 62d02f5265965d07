"""DTOs of frame scoring: every frame of a video scored by one classifier version."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict


class FrameScoresDTO(BaseModel):
    """The classifier's score of each frame of a video (the timeline's score lane).

    ``scores[n]`` is frame *n*'s probability under ``model_version``, as stored (float32
    precision). ``cancelled``: the user stopped the scoring; ``scores`` then covers the frames
    scored before the stop and nothing was stored (``stored_at`` is None).
    """

    model_config = ConfigDict(frozen=True)

    video_media_id: uuid.UUID
    model_version: str
    scores: list[float]
    cancelled: bool
    frame_count: int
    stored_at: dt.datetime | None = None
    message: str = ""
