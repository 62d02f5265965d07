"""Readable names of media: a still is "Still at 0:00.167 (frame 5)", not its file name.

A still's frame index comes from its ``timestamp_seconds`` and the video's frame timing (the
probe kept in ``media_files``), never from ``frame_number`` of a row another system wrote: the
web writes other things there (spec: "What the web does to shared rows"). For a frames row this
workstation wrote (its insert still waits in the outbox) ``frame_number`` is the true index.

Threading: run inside a unit of work (database executor).
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from iamedic_desktop.models import Frame, Media, MediaFile, MediaType, OutboxEntry

# Stored timestamps are rounded to the millisecond: a frame's may be up to half of one early.
_ROUNDING = 0.0005


def format_still_time(seconds: float) -> str:
    """``m:ss.mmm`` (``h:mm:ss.mmm`` from an hour on)."""
    millis = max(0, round(seconds * 1000))
    minutes, millis = divmod(millis, 60_000)
    hours, minutes = divmod(minutes, 60)
    head = f"{hours}:{minutes:02d}" if hours else f"{minutes}"
    return f"{head}:{millis // 1000:02d}.{millis % 1000:03d}"


def frame_index_at(
    timestamp_seconds: float, fps: float | None, frame_count: int | None = None
) -> int | None:
    """The frame shown at ``timestamp_seconds`` of a constant-rate video, or None if unknown."""
    if not fps or fps <= 0 or not math.isfinite(fps) or not math.isfinite(timestamp_seconds):
        return None
    index = max(0, math.floor((timestamp_seconds + _ROUNDING) * fps + 1e-9))
    return min(index, frame_count - 1) if frame_count else index


def still_display_name(timestamp_seconds: float, frame_index: int | None) -> str:
    """ "Still at 0:00.167 (frame 5)"; without the index when it is not known."""
    name = f"Still at {format_still_time(timestamp_seconds)}"
    return name if frame_index is None else f"{name} (frame {frame_index})"


def _timing(probe_json: str | None) -> tuple[float | None, int | None]:
    """The video's constant frame rate and frame count from its probe (None when variable)."""
    try:
        probe = json.loads(probe_json) if probe_json else None
    except ValueError:
        return None, None
    if not isinstance(probe, dict) or probe.get("is_vfr"):
        return None, None  # a variable rate has no single fps to count frames by
    fps, count = probe.get("fps"), probe.get("frame_count")
    fps = float(fps) if isinstance(fps, int | float) and not isinstance(fps, bool) else None
    count = count if isinstance(count, int) and not isinstance(count, bool) and count > 0 else None
    return fps, count


def display_names(session: Session, media: Sequence[Media]) -> dict[uuid.UUID, str]:
    """Readable names of the stills among ``media`` (by media id); other media keep theirs."""
    still_ids = [m.id for m in media if m.media_type is MediaType.FRAME]
    if not still_ids:
        return {}
    # Frame timing and the outbox are the embedded store's own bookkeeping (SQLite only).
    local = session.get_bind().dialect.name == "sqlite"
    video = aliased(Media)
    columns = [Frame.frame_media_id, Frame.timestamp_seconds, Frame.frame_number]
    query = select(*columns).where(Frame.frame_media_id.in_(still_ids))
    if local:
        written_here = exists().where(
            OutboxEntry.table_name == Frame.__tablename__,
            OutboxEntry.row_id == Frame.id,
            OutboxEntry.operation == "insert",
        )
        query = (
            query.add_columns(MediaFile.probe_json, written_here)
            .join(video, video.id == Frame.video_media_id)
            .outerjoin(MediaFile, MediaFile.file_path == video.file_path)
        )
    names: dict[uuid.UUID, str] = {}
    rows: Sequence[Any] = session.execute(query).all()
    for row in rows:
        still_id, timestamp, number = row[0], row[1], row[2]
        probe_json, mine = (row[3], bool(row[4])) if local else (None, False)
        index = number if mine else frame_index_at(timestamp, *_timing(probe_json))
        names[still_id] = still_display_name(timestamp, index)
    return names
