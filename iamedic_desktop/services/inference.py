"""Predictions in the workflow: run the models over media or a whole study, store what they say.

Images and stills go through the classifier (in batches) and the box model; each media's
probability, boxes and, where it has none, the usefulness label the probability implies
(> 0.5 useful) are stored in one transaction as soon as that media is done. A video's every
frame is scored through ``frame_scoring.score_video`` (stored per video and model version).

Pixels are the stored file decoded as the canvas shows it (``media/still_source.py``: EXIF
orientation applied), so the boxes, in pixels of that image, land where the canvas draws.

Threading: decoding and inference run on the calling thread, which must be a worker (a CLI
command, a UI operation), never the UI thread. Progress is reported per media; a cancel is
honoured between media (and between a video's batches): what was stored stays.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from iamedic_desktop.core.errors import InvalidInputError, NotFoundError
from iamedic_desktop.core.progress import CancelToken, Progress, ProgressCallback, no_progress
from iamedic_desktop.core.settings import Settings
from iamedic_desktop.media.storage import MediaStore
from iamedic_desktop.ml.predictor import USEFUL_ABOVE, BoxModel, Classifier
from iamedic_desktop.models import Media, MediaType
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.schemas.inference import (
    MediaPredictionDTO,
    PredictionRunDTO,
    SkippedMediaDTO,
)
from iamedic_desktop.schemas.media import MediaDTO
from iamedic_desktop.services.box_import import import_predicted_boxes
from iamedic_desktop.services.media_records import media_dtos
from iamedic_desktop.services.media_rules import check_model_version
from iamedic_desktop.services.permissions import (
    find_study_for_actor,
    load_media_for_actor,
    require_doctor_role,
)
from iamedic_desktop.services.prediction_store import StoredPredictions, store_predictions
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from iamedic_desktop.services.validation import parse_id, try_parse_uuid

__all__ = ["import_predicted_boxes", "predict_media", "predict_study", "resolve_target"]

log = logging.getLogger(__name__)

MAX_BATCH = 16  # pictures decoded and held at once for one classifier call
FILE_MISSING = "its file is not on this workstation yet: fetch it (`iamedic media fetch`) first"


# --- planning ---------------------------------------------------------------------------------


def _plan(
    uow_factory: UnitOfWorkFactory, actor: Actor, media_ids: Iterable[object]
) -> list[MediaDTO]:
    """The actor's media, checked all before anything runs (one refusal stores nothing)."""
    wanted: list[uuid.UUID] = []
    for media_id in media_ids:
        parsed = parse_id(media_id, what="media")
        if parsed not in wanted:
            wanted.append(parsed)
    with uow_factory() as uow:
        session = uow.session
        require_doctor_role(session, actor)
        rows = [load_media_for_actor(session, actor, media_id) for media_id in wanted]
        return media_dtos(session, rows)


def resolve_target(uow_factory: UnitOfWorkFactory, actor: Actor, ref: str) -> tuple[str, uuid.UUID]:
    """``("media", id)`` or ``("study", id)`` for a media id, or a study's alias or id."""
    with uow_factory() as uow:
        session = uow.session
        require_doctor_role(session, actor)
        parsed = try_parse_uuid(ref) if isinstance(ref, str) else None
        if parsed is not None and session.get(Media, parsed) is not None:
            return "media", load_media_for_actor(session, actor, parsed).id
        return "study", find_study_for_actor(session, actor, ref).id


# --- the models -------------------------------------------------------------------------------


class _Models:
    """The models of a run, opened from the settings on first need and closed after."""

    def __init__(
        self, settings: Settings, classifier: Classifier | None, box_model: BoxModel | None
    ) -> None:
        self._settings = settings
        self._classifier = classifier
        self._box_model = box_model
        self._opened: list[Classifier | BoxModel] = []

    @property
    def classifier(self) -> Classifier:
        if self._classifier is None:
            from iamedic_desktop.services.models import open_classifier

            self._classifier = open_classifier(self._settings)
            self._opened.append(self._classifier)
            check_model_version(self._classifier.model_version)
            if self._settings.inference == "http":
                from iamedic_desktop.services.models import record_http_version

                # The status rule's model with HTTP inference: the service's version last seen.
                record_http_version(self._settings, self._classifier.model_version)
        return self._classifier

    @property
    def box_model(self) -> BoxModel:
        if self._box_model is None:
            from iamedic_desktop.services.models import open_box_model

            self._box_model = open_box_model(self._settings)
            self._opened.append(self._box_model)
            check_model_version(self._box_model.model_version)
        return self._box_model

    def version_of(self, kind: str) -> str | None:
        model = self._classifier if kind == "classifier" else self._box_model
        return model.model_version if model is not None else None

    def close(self) -> None:
        for model in self._opened:
            model.close()


# --- one media --------------------------------------------------------------------------------


def _decode(media_store: MediaStore, media: MediaDTO) -> np.ndarray | str:
    """The picture as the canvas shows it, or why it cannot be had."""
    from iamedic_desktop.media.still_source import StillFrameSource

    if not media_store.exists(media.file_path):
        return FILE_MISSING
    try:
        source = StillFrameSource(media_store.path(media.file_path))
    except InvalidInputError:
        return "its file cannot be decoded as an image"
    try:
        return source.frame(0)
    finally:
        source.close()


def _store(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    media: MediaDTO,
    models: _Models,
    probability: float,
    image: np.ndarray,
    set_labels: bool,
) -> StoredPredictions:
    boxes = models.box_model.boxes(image)
    return store_predictions(
        uow_factory,
        actor,
        media.id,
        classifier_version=models.classifier.model_version,
        probability=probability,
        box_model_version=models.box_model.model_version,
        boxes=boxes,
        set_label=set_labels,
    )


def _picture_result(media: MediaDTO, stored: StoredPredictions) -> MediaPredictionDTO:
    return MediaPredictionDTO(
        media_id=media.id,
        media_type=media.media_type,
        name=media.readable_name,
        classification=stored.classification,
        boxes=stored.boxes,
        removed_boxes=stored.removed_boxes,
        label_set=stored.label_set,
        label_kept=stored.label_kept,
        label_note=stored.label_note,
    )


def _skipped(media: MediaDTO, reason: str) -> SkippedMediaDTO:
    return SkippedMediaDTO(
        media_id=media.id, media_type=media.media_type, name=media.readable_name, reason=reason
    )


# --- the run ----------------------------------------------------------------------------------


class _Run:
    """The state of one run: what was predicted, skipped, and the progress so far."""

    def __init__(self, total: int, progress: ProgressCallback, cancel: CancelToken | None) -> None:
        self.total = total
        self.progress = progress
        self.cancel = cancel
        self.predicted: list[MediaPredictionDTO] = []
        self.skipped: list[SkippedMediaDTO] = []
        self.cancelled = False

    @property
    def done(self) -> int:
        return len(self.predicted) + len(self.skipped)

    def stop_requested(self) -> bool:
        if self.cancel is not None and self.cancel.cancelled:
            self.cancelled = True
        return self.cancelled

    def report(self, message: str) -> None:
        self.progress(Progress(self.done, self.total, message))

    def skip(self, media: MediaDTO, reason: str) -> None:
        self.skipped.append(_skipped(media, reason))
        self.report(f"Skipped {media.readable_name}")


def _pictures(
    run: _Run,
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    media_store: MediaStore,
    models: _Models,
    pictures: Sequence[MediaDTO],
    set_labels: bool,
) -> None:
    start = 0
    while start < len(pictures) and not run.stop_requested():
        # The classifier batches within a call; the chunk bounds the decoded pictures held.
        chunk = pictures[start : start + MAX_BATCH]
        start += MAX_BATCH
        ready: list[tuple[MediaDTO, np.ndarray]] = []
        for media in chunk:
            if run.stop_requested():
                break
            decoded = _decode(media_store, media)
            if isinstance(decoded, str):
                run.skip(media, decoded)
            else:
                ready.append((media, decoded))
        if not ready:
            continue
        probabilities = models.classifier.classify([image for _, image in ready])
        for (media, image), probability in zip(ready, probabilities, strict=True):
            if run.stop_requested():
                return
            try:
                stored = _store(uow_factory, actor, media, models, probability, image, set_labels)
            except NotFoundError:
                run.skip(media, "it was deleted while the models ran")
                continue
            run.predicted.append(_picture_result(media, stored))
            run.report(f"Predicted {media.readable_name}")


def _videos(
    run: _Run,
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    media_store: MediaStore,
    models: _Models,
    videos: Sequence[MediaDTO],
) -> None:
    for media in videos:
        if run.stop_requested():
            return
        if not media_store.exists(media.file_path):
            run.skip(media, FILE_MISSING)
            continue
        try:
            from iamedic_desktop.services.frame_scoring import score_video
        except ImportError:  # a build without automatic frames
            run.skip(media, "scoring a video's frames is not available in this version")
            continue
        done, name = run.done, media.readable_name

        def forward(inner: Progress, done: int = done, name: str = name) -> None:
            run.progress(Progress(done, run.total, f"{name}: {inner.message}"))

        scores = score_video(
            uow_factory,
            actor,
            media_store,
            models.classifier,
            media.id,
            progress=forward,
            cancel=run.cancel,
        )
        if scores.cancelled:
            run.cancelled = True
            return
        values = list(scores.scores)
        run.predicted.append(
            MediaPredictionDTO(
                media_id=media.id,
                media_type=media.media_type,
                name=media.readable_name,
                frames_scored=len(values),
                useful_frames=sum(1 for v in values if v > USEFUL_ABOVE),
                best_score=max(values) if values else None,
            )
        )
        run.report(f"Scored the frames of {name}")


def _message(run: _Run) -> str:
    labelled = sum(1 for item in run.predicted if item.label_set is not None)
    parts = [f"{len(run.predicted)} of {run.total} media predicted", f"{labelled} labelled"]
    if run.skipped:
        parts.append(f"{len(run.skipped)} skipped")
    if run.cancelled:
        parts.append(f"cancelled: {run.total - run.done} not reached")
    return ("Cancelled: " if run.cancelled else "Done: ") + ", ".join(parts) + "."


def predict_media(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    media_store: MediaStore,
    settings: Settings,
    media_ids: Sequence[str | uuid.UUID],
    *,
    classifier: Classifier | None = None,
    box_model: BoxModel | None = None,
    set_labels: bool = True,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> PredictionRunDTO:
    """Predict the actor's media: images and stills first (classifier and boxes), then videos.

    Models not given are opened from the settings (``services/models.py``) when first needed
    and closed at the end. ``set_labels`` sets a usefulness label from the classifier only
    where the media has none. A media whose file is missing or unreadable is skipped with its
    reason. Another doctor's media (or an unknown id) refuses the whole run before anything
    is stored.
    """
    plan = _plan(uow_factory, actor, media_ids)
    pictures = [m for m in plan if m.media_type is not MediaType.VIDEO]
    videos = [m for m in plan if m.media_type is MediaType.VIDEO]
    run = _Run(len(plan), progress, cancel)
    models = _Models(settings, classifier, box_model)
    if classifier is not None:
        check_model_version(classifier.model_version)
    if box_model is not None:
        check_model_version(box_model.model_version)
    run.report("Starting")
    try:
        _pictures(run, uow_factory, actor, media_store, models, pictures, set_labels)
        _videos(run, uow_factory, actor, media_store, models, videos)
    finally:
        models.close()
    result = PredictionRunDTO(
        planned=len(plan),
        predicted=run.predicted,
        skipped=run.skipped,
        classifier_version=models.version_of("classifier"),
        box_model_version=models.version_of("boxes"),
        cancelled=run.cancelled,
        message=_message(run),
    )
    log.info(
        "%s Predictions (%s, %s): %s",
        "⚠️" if run.cancelled else "✅",
        result.classifier_version,
        result.box_model_version,
        result.message,
    )
    return result


def predict_study(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    media_store: MediaStore,
    settings: Settings,
    study_id: str | uuid.UUID,
    **options: Any,
) -> PredictionRunDTO:
    """Predict every active media of the actor's study (named by id or alias), in import order."""
    from iamedic_desktop.services.media_records import list_media

    media = list_media(uow_factory, actor, study_id)
    return predict_media(
        uow_factory, actor, media_store, settings, [m.id for m in media], **options
    )
