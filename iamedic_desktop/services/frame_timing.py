"""Where a still sits in its video: the frame index derived from its ``timestamp_seconds``.

Only the timestamp locates a still: the web writes other things into ``frames.frame_number``
(its count of stills + 1, int(timestamp x fps), a per-session counter; spec "What the web does
to shared rows"), and a row pulled from the central database may be the web's. So every reader
(readable names, timeline markers, frame lists, the CLI, annotation targets) takes the index
from ``frame_index`` here; ``frame_number`` is only written.

The mapping is the player's (``VideoIndex.index_at``): the frame shown at a time is the last one
whose presentation time is not after it. A stored timestamp is kept to the millisecond, so a
frame's own may be up to half of one early: the time is taken half a millisecond later. The
video's frame timing, best first:
- a constant-rate video's probe (``media_files.probe_json``): its rate and frame count;
- a variable-rate video, or one without a probe, whose file is here: every frame's time, from
  the video index the player itself uses (``media/video_index.py``, cached on disk);
- a variable-rate video whose file is not here: round(timestamp x average rate);
- nothing (a pulled video whose file is not fetched yet): no index; the still shows its time.

Threading: inside a unit of work (database executor). The first read of a video index demuxes
the file once (ffprobe, no decoding); later reads load it from the disk cache.
"""

from __future__ import annotations

import json
import logging
import math
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.core.settings import Settings, get_settings
from iamedic_desktop.models import Media, MediaFile

log = logging.getLogger(__name__)

TIMESTAMP_SLACK = 0.0005  # stored timestamps are rounded to the millisecond


@dataclass(frozen=True, eq=False)
class FrameTiming:
    """What is known of when a video's frames are shown (nothing, by default)."""

    fps: float | None = None
    frame_count: int | None = None
    times: npt.NDArray[np.float64] | None = None  # every frame's time from the first
    estimated: bool = False  # ``fps`` is a variable rate's average: round(timestamp x fps)


UNKNOWN_TIMING = FrameTiming()


def frame_index(timestamp_seconds: float, timing: FrameTiming) -> int | None:
    """The frame the player shows for a still at ``timestamp_seconds``; None when unknown."""
    if not math.isfinite(timestamp_seconds):
        return None
    seconds = max(0.0, timestamp_seconds)
    times = timing.times
    if times is not None and times.size:
        i = int(np.searchsorted(times, seconds + TIMESTAMP_SLACK + 1e-9, side="right")) - 1
        return min(max(i, 0), int(times.size) - 1)
    fps = timing.fps
    if not fps or fps <= 0 or not math.isfinite(fps):
        return None
    if timing.estimated:
        index = round(seconds * fps)
    else:
        index = math.floor((seconds + TIMESTAMP_SLACK) * fps + 1e-9)
    count = timing.frame_count
    return min(index, count - 1) if count else index


def video_timings(
    session: Session, video_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, FrameTiming]:
    """The frame timing of each of ``video_ids`` (``UNKNOWN_TIMING`` where nothing is known)."""
    timings = dict.fromkeys(video_ids, UNKNOWN_TIMING)
    # Probes and files are the embedded store's own (SQLite); a central store knows neither.
    if not timings or session.get_bind().dialect.name != "sqlite":
        return timings
    rows = session.execute(
        select(Media.id, Media.file_path, MediaFile.probe_json)
        .outerjoin(MediaFile, MediaFile.file_path == Media.file_path)
        .where(Media.id.in_(list(timings)))
    )
    media_dir = _media_dir(session)
    for video_id, file_path, probe_json in rows:
        path = media_dir / file_path if media_dir is not None else None
        timings[video_id] = _timing(_probe(probe_json), path)
    return timings


def video_timing(session: Session, video_id: uuid.UUID) -> FrameTiming:
    """The frame timing of one video."""
    return video_timings(session, [video_id])[video_id]


def _timing(probe: dict[str, Any] | None, path: Path | None) -> FrameTiming:
    fps, count = _number(probe, "fps"), _number(probe, "frame_count")
    frame_count = int(count) if count and count == int(count) else None
    if probe is not None and fps and not probe.get("is_vfr"):
        return FrameTiming(fps=fps, frame_count=frame_count)
    times = _player_times(path)
    if times is not None:
        return FrameTiming(times=times)
    return FrameTiming(fps=fps, frame_count=frame_count, estimated=True) if fps else UNKNOWN_TIMING


def _probe(probe_json: str | None) -> dict[str, Any] | None:
    try:
        probe = json.loads(probe_json) if probe_json else None
    except ValueError:
        return None
    return probe if isinstance(probe, dict) else None


def _number(probe: dict[str, Any] | None, key: str) -> float | None:
    value = probe.get(key) if probe is not None else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) and value > 0 else None


def _media_dir(session: Session) -> Path | None:
    """The media folder of the embedded store: beside its database, as a data folder is laid out."""
    database = session.get_bind().engine.url.database
    if not database or database == ":memory:":
        return None
    return Settings.model_construct(data_dir=Path(database).parent).media_dir


def _player_times(path: Path | None) -> npt.NDArray[np.float64] | None:
    """Every frame's time, as the player has them (its video index), or None without the file."""
    from iamedic_desktop.media.video_index import file_cache_key, load_video_index

    try:
        key = file_cache_key(path) if path is not None and path.is_file() else None
    except OSError:
        key = None
    if path is None or key is None or key in _UNREADABLE:
        return None
    try:
        return load_video_index(path, get_settings().cache_dir).seconds
    except (InvalidInputError, OSError, ValueError) as exc:
        _UNREADABLE.add(key)  # not demuxed again for every listing; a new file has a new key
        # Not a warning: the player says what is wrong when the video is opened.
        log.info("⚠️ No frame times in video file %s (%s): stills show their time", path.name, exc)
        return None


_UNREADABLE: set[str] = set()  # keys (path, size, mtime) of video files without an index
