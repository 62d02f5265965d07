"""Readable names of media: a still is "Still at 0:00.167 (frame 5)", not its file name.

A still's frame is derived from its ``timestamp_seconds`` and its video's frame timing
(``frame_timing.py``), never read from ``frame_number``: the web writes other things there
(spec: "What the web does to shared rows"). When the video's timing is unknown (a pulled video
whose file is not fetched yet) the name gives only the time.

Threading: run inside a unit of work (database executor).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from iamedic_desktop.models import Frame, Media, MediaType
from iamedic_desktop.services.frame_timing import frame_index, video_timings


def format_still_time(seconds: float) -> str:
    """``m:ss.mmm`` (``h:mm:ss.mmm`` from an hour on)."""
    millis = max(0, round(seconds * 1000))
    minutes, millis = divmod(millis, 60_000)
    hours, minutes = divmod(minutes, 60)
    head = f"{hours}:{minutes:02d}" if hours else f"{minutes}"
    return f"{head}:{millis // 1000:02d}.{millis % 1000:03d}"


def still_display_name(timestamp_seconds: float, frame_index: int | None) -> str:
    """ "Still at 0:00.167 (frame 5)"; without the index when it is not known."""
    name = f"Still at {format_still_time(timestamp_seconds)}"
    return name if frame_index is None else f"{name} (frame {frame_index})"


def display_names(session: Session, media: Sequence[Media]) -> dict[uuid.UUID, str]:
    """Readable names of the stills among ``media`` (by media id); other media keep theirs."""
    still_ids = [m.id for m in media if m.media_type is MediaType.FRAME]
    if not still_ids:
        return {}
    rows = session.execute(
        select(Frame.frame_media_id, Frame.video_media_id, Frame.timestamp_seconds).where(
            Frame.frame_media_id.in_(still_ids)
        )
    ).all()
    timings = video_timings(session, {video_id for _still, video_id, _ts in rows})
    return {
        still_id: still_display_name(timestamp, frame_index(timestamp, timings[video_id]))
        for still_id, video_id, timestamp in rows
    }
