"""Automatic frames: every frame of a video scored by the classifier, and the runs' best frames.

``score_video`` decodes every frame once and scores them in batches (``frame_batches.py``:
decoding and pre-processing on a producer thread overlap inference on the calling thread), then
stores the scores in one transaction, per (video, model version), in the local store's
``frame_scores`` table: local only, never synced (the central schema has no such table).
``auto_frames`` reuses the stored scores of the version when there are some, finds the runs
(``media/runs.py``) and makes each good run's best frame a still with its prediction
(``extraction.extract_runs``).

Threading: decoding, inference and writes: a worker thread only (a CLI command, a UI
operation), never the UI thread. A CancelToken may be set from any thread; a cancelled scoring
stores nothing.
"""

from __future__ import annotations

import logging
import uuid

import numpy as np

from iamedic_desktop.core.progress import CancelToken, ProgressCallback, no_progress
from iamedic_desktop.core.settings import Settings
from iamedic_desktop.media.runs import RunsParams
from iamedic_desktop.media.storage import MediaStore
from iamedic_desktop.ml.predictor import Classifier
from iamedic_desktop.models.base import utcnow
from iamedic_desktop.models.local import FrameScores
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.schemas.extraction import RunsExtractionResult
from iamedic_desktop.schemas.frame_scoring import FrameScoresDTO
from iamedic_desktop.services.classifier_model import current_classifier_version
from iamedic_desktop.services.extraction import extract_runs
from iamedic_desktop.services.frame_batches import score_frames
from iamedic_desktop.services.media_rules import check_model_version
from iamedic_desktop.services.permissions import load_media_for_actor, require_doctor_role
from iamedic_desktop.services.still_batch import open_video
from iamedic_desktop.services.transactions import commit_or_conflict
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)

SCORE_DTYPE = np.dtype("<f4")  # the stored blob: float32, little-endian, frame 0 first


def _dto(row: FrameScores) -> FrameScoresDTO:
    scores = np.frombuffer(row.scores, dtype=SCORE_DTYPE).astype(np.float64).tolist()
    return FrameScoresDTO(
        video_media_id=row.video_media_id,
        model_version=row.model_version,
        scores=scores,
        cancelled=False,
        frame_count=row.frame_count,
        stored_at=row.created_at,
        message=f"{row.frame_count} frames scored by {row.model_version}.",
    )


def _store(
    uow_factory: UnitOfWorkFactory, actor: Actor, video_id: uuid.UUID, version: str, blob: bytes
) -> FrameScoresDTO:
    """Store (or replace) the scores of a video and version, in one transaction."""
    count = len(blob) // SCORE_DTYPE.itemsize
    with uow_factory() as uow:
        session = uow.session
        require_doctor_role(session, actor)
        video = load_media_for_actor(session, actor, video_id)  # still theirs, not deleted
        row = session.get(FrameScores, (video.id, version))
        if row is None:
            row = FrameScores(video_media_id=video.id, model_version=version)
            session.add(row)
        row.frame_count, row.scores, row.created_at = count, blob, utcnow()
        clash = f"Scores of {version} for '{video.filename}' were stored meanwhile."
        commit_or_conflict(uow, clash)
        return _dto(row)


def score_video(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    media_store: MediaStore,
    classifier: Classifier,
    video_media_id: str | uuid.UUID,
    *,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> FrameScoresDTO:
    """Score every frame of one of the actor's videos and store the scores (replacing any).

    Progress is reported per batch; cancel stops between batches, stores nothing and returns
    the scores made so far with ``cancelled`` set. Worker thread only.
    """
    version = check_model_version(classifier.model_version)
    with open_video(uow_factory, actor, media_store, video_media_id) as (video, source, _path):
        total = source.frame_count
        log.info("🚀 Scoring %d frames of a video with %s", total, version)
        scored = score_frames(source, classifier, progress, cancel)
    # What is stored is float32: the scores returned are the same numbers as the stored ones.
    blob = np.asarray(scored.scores, dtype=SCORE_DTYPE).tobytes()
    if scored.cancelled:
        message = (
            f"Cancelled after {len(scored.scores)} of {total} frames: no scores were stored; "
            "score the video again to keep them."
        )
        log.info("⚠️ %s (%s)", message, version)
        return FrameScoresDTO(
            video_media_id=video.id,
            model_version=version,
            scores=np.frombuffer(blob, dtype=SCORE_DTYPE).astype(np.float64).tolist(),
            cancelled=True,
            frame_count=total,
            message=message,
        )
    if len(scored.scores) != total:
        log.warning("⚠️ %d of %d frames could be decoded and scored", len(scored.scores), total)
    stored = _store(uow_factory, actor, video.id, version, blob)
    log.info("✅ %s", stored.message)
    return stored


def stored_scores(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    video_media_id: str | uuid.UUID,
    model_version: str,
) -> FrameScoresDTO | None:
    """The stored scores of one of the actor's videos by a model version, or None."""
    version = check_model_version(model_version)
    with uow_factory() as uow:
        session = uow.session
        require_doctor_role(session, actor)
        video = load_media_for_actor(session, actor, video_media_id)
        row = session.get(FrameScores, (video.id, version))
        return _dto(row) if row is not None else None


def _open_classifier(settings: Settings) -> Classifier:
    from iamedic_desktop.services.models import open_classifier  # MLflow/ONNX: on first use

    return open_classifier(settings)


def auto_frames(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    media_store: MediaStore,
    settings: Settings,
    video_media_id: str | uuid.UUID,
    params: RunsParams | None = None,
    *,
    classifier: Classifier | None = None,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> RunsExtractionResult:
    """The best frame of each good run of a video as a still, with its prediction.

    The scores are the stored ones of the classifier's version (``classifier``, else the one in
    use: ``current_classifier_version``) when there are some; otherwise every frame is scored
    (and stored) first, with the given classifier or the one ``services.models`` opens. A
    cancel while scoring makes no still and stores nothing. Worker thread only.
    """
    params = params or RunsParams()
    version = classifier.model_version if classifier else current_classifier_version(settings)
    scores = stored_scores(uow_factory, actor, video_media_id, version) if version else None
    if scores is None:
        opened = classifier is None
        model = classifier if classifier is not None else _open_classifier(settings)
        try:
            scores = score_video(
                uow_factory, actor, media_store, model, video_media_id,
                progress=progress, cancel=cancel,
            )  # fmt: skip
        finally:
            if opened:
                model.close()
        if scores.cancelled:
            return _cancelled(scores, params)
        reused = ""
    else:
        reused = f"The scores of {scores.model_version} stored earlier were used. "
        log.info("🔧 Reusing the stored scores of %s", scores.model_version)
    result = extract_runs(
        uow_factory, actor, media_store, scores.video_media_id, scores.scores,
        scores.model_version, params, progress=progress, cancel=cancel,
    )  # fmt: skip
    return result.model_copy(update={"message": reused + result.message}) if reused else result


def _cancelled(scores: FrameScoresDTO, params: RunsParams) -> RunsExtractionResult:
    return RunsExtractionResult(
        video_media_id=scores.video_media_id,
        model_version=scores.model_version,
        run_threshold=params.run_threshold,
        min_run_length=params.min_run_length,
        prediction_threshold=params.prediction_threshold,
        patience=params.patience,
        frame_count=scores.frame_count,
        scores=scores.scores,
        runs=[],
        stills=[],
        predictions=[],
        cancelled=True,
        message=f"{scores.message} No still was made.",
    )
