"""Frame extraction: stills (JPEG ``frame`` media rows plus ``frames`` rows) taken from a video.

Manual (one frame, by time or number), every N frames, every N seconds, and automatic by the
"runs" algorithm (``media/runs.py``) given a per-frame score function.

Threading: every function here decodes and writes files, so it runs in the caller's thread, which
must be a worker (a CLI command, a UI operation) and NEVER the UI thread. Progress callbacks are
called on that thread; a CancelToken may be set from any thread.

Consistency: each still is committed as soon as it is made, file first (temp file and rename),
then its rows, so a cancel or a crash keeps every still finished so far and never leaves a row
without its file; if recording fails the new file is deleted again. Batches stop between frames
when cancelled and return what was done with ``cancelled`` set (no CancelledError), so the
caller can say how many stills were kept.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import SupportsFloat

from iamedic_desktop.core.errors import InvalidInputError, StorageError
from iamedic_desktop.core.progress import CancelToken, Progress, ProgressCallback, no_progress
from iamedic_desktop.media.frame_source import FrameSource, RGBFrame
from iamedic_desktop.media.runs import Run, RunsParams, RunTracker
from iamedic_desktop.media.selected_frames import iter_selected
from iamedic_desktop.media.storage import MediaStore
from iamedic_desktop.models import MediaType
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.schemas.extraction import (
    BatchExtractionResult,
    ExtractionResult,
    RunDTO,
    RunsExtractionResult,
)
from iamedic_desktop.schemas.media import MediaDTO
from iamedic_desktop.schemas.predictions import ClassificationPredictionDTO
from iamedic_desktop.services.frame_timing import TIMESTAMP_SLACK
from iamedic_desktop.services.frames import find_frame, list_frames
from iamedic_desktop.services.media_records import get_media
from iamedic_desktop.services.media_rules import check_model_version, round_timestamp
from iamedic_desktop.services.predictions import store_classification_prediction
from iamedic_desktop.services.still_writer import StillWriter
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from iamedic_desktop.services.validation import check_number, check_positive_int

log = logging.getLogger(__name__)

ScoreFunction = Callable[[RGBFrame], SupportsFloat]  # a probability; numpy scalars welcome
PROGRESS_INTERVAL_S = 0.1  # progress at most ten times a second, plus the first and last step
MIN_EVERY_SECONDS = 0.001  # timestamps are kept to the millisecond

# --- helpers ----------------------------------------------------------------------------------


@contextmanager
def _open_video(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    media_store: MediaStore,
    video_media_id: str | uuid.UUID,
) -> Iterator[tuple[MediaDTO, FrameSource, Path]]:
    """The actor's video (refusing anything else) and a frame source on its stored file."""
    media = get_media(uow_factory, actor, video_media_id)  # role and ownership checks
    if media.media_type is not MediaType.VIDEO:
        raise InvalidInputError(
            f"'{media.filename}' is {media.media_type.value}, not a video; stills are taken "
            "from videos."
        )
    path = media_store.path(media.file_path)
    if not path.is_file():
        raise StorageError(
            f"The file of the video '{media.filename}' is missing from the media store."
        )
    from iamedic_desktop.media.open_source import open_frame_source

    source = open_frame_source(path)
    try:
        yield media, source, path
    finally:
        source.close()


def _timestamp(source: FrameSource, n: int) -> float:
    return round(source.timestamp(n), 3)


class _Reporter:
    """Calls the progress callback at most every PROGRESS_INTERVAL_S, and always when forced."""

    def __init__(self, progress: ProgressCallback, total: int) -> None:
        self.progress = progress
        self.total = total
        self._last = -math.inf

    def __call__(self, done: int, message: str, *, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last >= PROGRESS_INTERVAL_S:
            self._last = now
            self.progress(Progress(done, self.total, message))


def _check_score(value: object, n: int) -> float:
    try:
        score = float(value)  # type: ignore[arg-type]  # anything may come back
    except (TypeError, ValueError):
        score = math.nan
    if isinstance(value, bool) or not math.isfinite(score) or not 0.0 <= score <= 1.0:
        raise InvalidInputError(
            f"The frame classifier gave {value!r} for frame {n}; a probability from 0 to 1 "
            "was expected."
        )
    return score


def _frame_index(source: FrameSource, at_seconds: object, frame_number: object) -> int:
    """The frame asked for by time or by number, checked against the video."""
    if (at_seconds is None) == (frame_number is None):
        raise InvalidInputError("Give either a time or a frame number for the still, not both.")
    count = source.frame_count
    if count <= 0:
        raise InvalidInputError("This video has no frames to take a still from.")
    if frame_number is not None:
        n = check_positive_int(frame_number, what="frame number", allow_zero=True)
        if n >= count:
            raise InvalidInputError(
                f"Frame {n} does not exist: the video has {count} frames (0 to {count - 1})."
            )
        return n
    seconds = round_timestamp(at_seconds)
    last = source.timestamp(count - 1)
    end = round(last + (1.0 / source.fps if source.fps > 0 else 0.0), 6)  # the last one's end
    if seconds > last and seconds >= end:
        raise InvalidInputError(f"{seconds:.3f} s is past the end of the video ({end:.3f} s).")
    # The frame a still at this (millisecond) timestamp is placed at everywhere (frame_timing).
    return source.index_at(seconds + TIMESTAMP_SLACK)


def _batch_message(result: dict[str, int], planned: int, cancelled: bool) -> str:
    done = result["created"] + result["existing"] + result["reactivated"]
    parts = [f"{result['created']} new"]
    if result["existing"]:
        parts.append(f"{result['existing']} already there")
    if result["reactivated"]:
        parts.append(f"{result['reactivated']} restored")
    text = f"{done} of {planned} stills ({', '.join(parts)})"
    return f"Cancelled: {text} are kept." if cancelled else f"Done: {text}."


def _extract_indices(
    writer: StillWriter,
    source: FrameSource,
    path: Path,
    indices: Sequence[int],
    progress: ProgressCallback,
    cancel: CancelToken | None,
) -> BatchExtractionResult:
    """Stills of the frames ``indices`` (sorted, unique), decoding once from first to last."""
    planned = len(indices)
    stills: list[ExtractionResult] = []
    counts = {"created": 0, "existing": 0, "reactivated": 0}

    def add(result: ExtractionResult) -> None:
        stills.append(result)
        key = "created" if result.created else "reactivated" if result.reactivated else "existing"
        counts[key] += 1

    to_decode: list[tuple[int, float]] = []
    cancelled = False
    for n in indices:  # stills already there need no pixels: no decoding for them
        timestamp = _timestamp(source, n)
        known = writer.existing(timestamp)
        if known is None:
            to_decode.append((n, timestamp))
        elif cancel is not None and cancel.cancelled:
            cancelled = True
            break
        else:
            add(writer.keep(known))
    if to_decode and not cancelled:
        first, last = to_decode[0][0], to_decode[-1][0]
        report = _Reporter(progress, last - first + 1)
        wanted = dict(to_decode)
        position = first - 1  # the last frame decoded

        def tick(n: int) -> bool:
            nonlocal position, cancelled
            if cancel is not None and cancel.cancelled:
                cancelled = True
                return False
            position = n
            report(n - first + 1, f"{len(stills)} of {planned} stills")
            return True

        report(0, f"0 of {planned} stills", force=True)
        for n, pixels in iter_selected(source, path, list(wanted), tick):
            add(writer.save(n, wanted[n], pixels))
        report(position - first + 1, f"{len(stills)} of {planned} stills", force=True)
    stills.sort(key=lambda r: r.frame.timestamp_seconds)
    message = _batch_message(counts, planned, cancelled)
    log.info("%s %s ('%s')", "⚠️" if cancelled else "✅", message, writer.video.filename)
    return BatchExtractionResult(
        video_media_id=writer.video.id,
        planned=planned,
        stills=stills,
        cancelled=cancelled,
        message=message,
        **counts,
    )


def _writer(
    uow_factory: UnitOfWorkFactory, actor: Actor, media_store: MediaStore, video: MediaDTO
) -> StillWriter:
    known = list_frames(uow_factory, actor, video.id, include_deleted=True)
    return StillWriter(uow_factory, actor, media_store, video, known=known)


# --- services ---------------------------------------------------------------------------------


def extract_frame(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    media_store: MediaStore,
    video_media_id: str | uuid.UUID,
    *,
    at_seconds: float | None = None,
    frame_number: int | None = None,
) -> ExtractionResult:
    """The still of one frame of a video, by time (the frame shown then) or by frame number.

    By time, the still's timestamp is the time asked, rounded to the millisecond, and its frame
    is the one shown then; by number, the timestamp is that frame's presentation time rounded to
    the millisecond. A still already at that timestamp is returned (restored, annotations
    cleared, if it was deleted) and nothing new is stored. Worker thread only.
    """
    with _open_video(uow_factory, actor, media_store, video_media_id) as (video, source, _path):
        n = _frame_index(source, at_seconds, frame_number)
        timestamp = round_timestamp(at_seconds) if at_seconds is not None else None
        timestamp = _timestamp(source, n) if timestamp is None else timestamp
        known = find_frame(uow_factory, actor, video.id, timestamp)
        writer = StillWriter(uow_factory, actor, media_store, video, known=[known] if known else [])
        if known is not None:
            return writer.keep(known)
        return writer.save(n, timestamp, source.frame(n))


def extract_every_frames(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    media_store: MediaStore,
    video_media_id: str | uuid.UUID,
    n: int,
    *,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> BatchExtractionResult:
    """Stills of frames 0, n, 2n, ... decoded in one sequential pass. Worker thread only."""
    step = check_positive_int(n, what="frame interval")
    with _open_video(uow_factory, actor, media_store, video_media_id) as (video, source, path):
        writer = _writer(uow_factory, actor, media_store, video)
        indices = list(range(0, source.frame_count, step))
        return _extract_indices(writer, source, path, indices, progress, cancel)


def extract_every_seconds(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    media_store: MediaStore,
    video_media_id: str | uuid.UUID,
    seconds: float,
    *,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> BatchExtractionResult:
    """Stills of the frames shown at 0 s, s, 2s, ... (each once). Worker thread only.

    Each still's timestamp is its frame's presentation time, so on a variable-frame-rate video
    it may differ from the multiple of ``seconds`` it was chosen for.
    """
    step = check_number(seconds, what="interval in seconds")
    if step < MIN_EVERY_SECONDS:
        raise InvalidInputError(
            f"The interval must be at least {MIN_EVERY_SECONDS} s, not {step:g} s."
        )
    with _open_video(uow_factory, actor, media_store, video_media_id) as (video, source, path):
        writer = _writer(uow_factory, actor, media_store, video)
        count = source.frame_count
        indices: list[int] = []
        if count > 0:
            last = source.timestamp(count - 1)
            # Targets to the microsecond, so 3 x 0.1 s is 0.3 s and not just above it.
            for k in range(int(last / step + 1e-9) + 1):
                index = source.index_at(round(k * step, 6))
                if not indices or index != indices[-1]:
                    indices.append(index)
        return _extract_indices(writer, source, path, indices, progress, cancel)


def extract_runs(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    media_store: MediaStore,
    video_media_id: str | uuid.UUID,
    score: ScoreFunction,
    model_version: str,
    params: RunsParams | None = None,
    *,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> RunsExtractionResult:
    """Automatic extraction: score every frame, find the runs, keep each good run's best frame.

    One sequential decode: ``score`` sees every frame once, in order; when a run closes and its
    best score reaches the prediction threshold, its best frame (held in memory since it was
    decoded) becomes a still at once, with the score stored as its classification prediction
    under ``model_version`` (``<name> - <version>``). Worker thread only.
    """
    version = check_model_version(model_version)
    params = params or RunsParams()
    with _open_video(uow_factory, actor, media_store, video_media_id) as (video, source, _path):
        writer = _writer(uow_factory, actor, media_store, video)
        total = source.frame_count
        tracker = RunTracker(params)
        scores: list[float] = []
        runs: list[RunDTO] = []
        stills: list[ExtractionResult] = []
        predictions: list[ClassificationPredictionDTO] = []
        best: tuple[int, RGBFrame] | None = None  # the open run's best frame so far
        report = _Reporter(progress, total)

        def close(run: Run) -> None:
            extract = run.best_score >= params.prediction_threshold
            timestamp = _timestamp(source, run.best_index)
            runs.append(
                RunDTO(
                    start=run.start,
                    end=run.end,
                    best_index=run.best_index,
                    best_score=run.best_score,
                    best_timestamp_seconds=timestamp,
                    extracted=extract,
                )
            )
            if not extract:
                return
            assert best is not None and best[0] == run.best_index
            known = writer.existing(timestamp)
            still = writer.keep(known) if known else writer.save(best[0], timestamp, best[1])
            stills.append(still)
            predictions.append(
                store_classification_prediction(
                    uow_factory,
                    actor,
                    still.frame.frame_media_id,
                    prediction=run.best_score,
                    model_version=version,
                )
            )

        cancelled = False
        report(0, "Scoring frames", force=True)
        frames = source.iter_frames(0, total)
        try:
            for n, pixels in frames:
                if cancel is not None and cancel.cancelled:
                    cancelled = True
                    break
                value = _check_score(score(pixels), n)
                scores.append(value)
                closed = tracker.push(value)
                if closed is not None:
                    close(closed)
                if tracker.open_best_index == n:
                    best = (n, pixels.copy())  # a decoder may reuse its buffer
                report(n + 1, f"Scored {n + 1} of {total} frames; {len(stills)} stills")
        finally:
            close_frames = getattr(frames, "close", None)
            if close_frames is not None:
                close_frames()
        if not cancelled:
            last_run = tracker.finish()
            if last_run is not None:
                close(last_run)
        report(len(scores), f"Scored {len(scores)} of {total} frames", force=True)
    message = (
        f"{'Cancelled' if cancelled else 'Done'}: {len(scores)} of {total} frames scored, "
        f"{len(runs)} runs, {len(stills)} stills."
    )
    log.info("%s %s ('%s', %s)", "⚠️" if cancelled else "✅", message, video.filename, version)
    return RunsExtractionResult(
        video_media_id=video.id,
        model_version=version,
        run_threshold=params.run_threshold,
        min_run_length=params.min_run_length,
        prediction_threshold=params.prediction_threshold,
        patience=params.patience,
        frame_count=total,
        scores=scores,
        runs=runs,
        stills=stills,
        predictions=predictions,
        cancelled=cancelled,
        message=message,
    )
