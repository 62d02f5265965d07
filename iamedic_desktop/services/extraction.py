"""Frame extraction: stills (JPEG ``frame`` media rows plus ``frames`` rows) taken from a video.

Manual (one frame, by time or number), every N frames, every N seconds, and automatic: the best
frames of the "runs" (``media/runs.py``) found in every frame's score (``frame_scoring.py``
makes the scores). The machinery (a video opened for stills, the stills of chosen frames) is in
``still_batch.py``.

Threading: every function here decodes and writes files, so it runs in the caller's thread, which
must be a worker (a CLI command, a UI operation) and NEVER the UI thread. Progress callbacks are
called on that thread; a CancelToken may be set from any thread.

Consistency: a still's file comes first (temp file, fsync, rename), then its rows, recorded in
batches of at most half a second (``still_writer.py``), so a cancel or an error keeps every still
made so far, a crash all but the last batch's, and no row is ever without its file; if recording
fails the batch's new files are deleted again. Batches stop between frames when cancelled and
return what was done with ``cancelled`` set (no CancelledError), so the caller can say how many
stills were kept.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import SupportsFloat

from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.core.progress import CancelToken, ProgressCallback, no_progress
from iamedic_desktop.media.frame_source import FrameSource
from iamedic_desktop.media.runs import Run, RunsParams, find_runs
from iamedic_desktop.media.storage import MediaStore
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.schemas.extraction import (
    BatchExtractionResult,
    ExtractionResult,
    RunDTO,
    RunsExtractionResult,
)
from iamedic_desktop.schemas.predictions import ClassificationPredictionDTO
from iamedic_desktop.services.frame_timing import TIMESTAMP_SLACK
from iamedic_desktop.services.frames import find_frame
from iamedic_desktop.services.media_rules import check_model_version, round_timestamp
from iamedic_desktop.services.predictions import store_classification_prediction
from iamedic_desktop.services.still_batch import (
    check_score,
    extract_indices,
    open_video,
    still_writer,
    timestamp_of,
)
from iamedic_desktop.services.still_writer import StillWriter
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from iamedic_desktop.services.validation import check_number, check_positive_int

log = logging.getLogger(__name__)

MIN_EVERY_SECONDS = 0.001  # timestamps are kept to the millisecond

# --- helpers ----------------------------------------------------------------------------------


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
    with open_video(uow_factory, actor, media_store, video_media_id) as (video, source, _path):
        n = _frame_index(source, at_seconds, frame_number)
        timestamp = round_timestamp(at_seconds) if at_seconds is not None else None
        timestamp = timestamp_of(source, n) if timestamp is None else timestamp
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
    with open_video(uow_factory, actor, media_store, video_media_id) as (video, source, path):
        writer = still_writer(uow_factory, actor, media_store, video)
        indices = list(range(0, source.frame_count, step))
        return extract_indices(writer, source, path, indices, progress, cancel)


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
    with open_video(uow_factory, actor, media_store, video_media_id) as (video, source, path):
        writer = still_writer(uow_factory, actor, media_store, video)
        count = source.frame_count
        indices: list[int] = []
        if count > 0:
            last = source.timestamp(count - 1)
            # Targets to the microsecond, so 3 x 0.1 s is 0.3 s and not just above it.
            for k in range(int(last / step + 1e-9) + 1):
                index = source.index_at(round(k * step, 6))
                if not indices or index != indices[-1]:
                    indices.append(index)
        return extract_indices(writer, source, path, indices, progress, cancel)


def extract_runs(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    media_store: MediaStore,
    video_media_id: str | uuid.UUID,
    scores: Sequence[SupportsFloat],
    model_version: str,
    params: RunsParams | None = None,
    *,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> RunsExtractionResult:
    """Automatic extraction: the runs of every frame's score, each good run's best frame a still.

    ``scores[n]`` is frame *n*'s probability under ``model_version`` (``<name> - <version>``),
    one per frame of the video. The runs are found first; the best frames of those whose best
    score reaches the prediction threshold are then taken in one decoding pass, each still
    stored with that score as its classification prediction right after it is made. Cancel
    stops between frames and keeps the stills made. Worker thread only.
    """
    version = check_model_version(model_version)
    params = params or RunsParams()
    checked = [check_score(value, n) for n, value in enumerate(scores)]
    with open_video(uow_factory, actor, media_store, video_media_id) as (video, source, path):
        total = source.frame_count
        if len(checked) != total:
            raise InvalidInputError(
                f"{len(checked)} scores were given for the {total} frames of "
                f"'{video.filename}'; score every frame of the video again."
            )
        found = find_runs(
            checked,
            run_threshold=params.run_threshold,
            min_run_length=params.min_run_length,
            patience=params.patience,
        )
        runs = [_run_dto(source, run, params.prediction_threshold) for run in found]
        best = {run.best_index: run.best_score for run in runs if run.extracted}
        predictions: list[ClassificationPredictionDTO] = []

        def predict(n: int, still: ExtractionResult) -> None:
            predictions.append(
                store_classification_prediction(
                    uow_factory,
                    actor,
                    still.frame.frame_media_id,
                    prediction=best[n],
                    model_version=version,
                )
            )

        writer = still_writer(uow_factory, actor, media_store, video)
        batch = extract_indices(writer, source, path, sorted(best), progress, cancel, predict)
    by_still = {p.media_id: p for p in predictions}
    message = (
        f"{'Cancelled' if batch.cancelled else 'Done'}: {total} frames scored, {len(runs)} runs, "
        f"{len(batch.stills)} of {len(best)} stills."
    )
    log.info("%s %s (video %s, %s)", "⚠️" if batch.cancelled else "✅", message, video.id, version)
    return RunsExtractionResult(
        video_media_id=video.id,
        model_version=version,
        run_threshold=params.run_threshold,
        min_run_length=params.min_run_length,
        prediction_threshold=params.prediction_threshold,
        patience=params.patience,
        frame_count=total,
        scores=checked,
        runs=runs,
        stills=batch.stills,
        predictions=[by_still[s.frame.frame_media_id] for s in batch.stills],
        cancelled=batch.cancelled,
        message=message,
    )


def _run_dto(source: FrameSource, run: Run, prediction_threshold: float) -> RunDTO:
    return RunDTO(
        start=run.start,
        end=run.end,
        best_index=run.best_index,
        best_score=run.best_score,
        best_timestamp_seconds=timestamp_of(source, run.best_index),
        extracted=run.best_score >= prediction_threshold,
    )
