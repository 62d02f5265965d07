"""A video's frame scores in the window: the timeline's score lane and automatic frames.

When a video opens, the scores stored for the classifier version in use are drawn in the
timeline's score lane at once (``services.frame_scoring.stored_scores``, on the database
runner). "Score all frames" scores every frame (``score_video``) and "Automatic frames…"
(``auto_frames_dialog.py``) takes the best frame of each good run as a still
(``auto_frames``), both as AI jobs with progress and Cancel; the new stills then appear in the
media list and as timeline markers.

Threading: UI thread; the services run on the AI runner or the database runner.
"""

from __future__ import annotations

import functools
import uuid
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal

from iamedic_desktop.core.progress import CancelToken, ProgressCallback
from iamedic_desktop.models.central import MediaType
from iamedic_desktop.ui.auto_frames_dialog import AutoFramesDialog
from iamedic_desktop.ui.model_notice_widget import NO_MODEL_MESSAGE

if TYPE_CHECKING:
    from iamedic_desktop.core.settings import Settings
    from iamedic_desktop.media.runs import RunsParams
    from iamedic_desktop.schemas.media import MediaDTO
    from iamedic_desktop.services.local_store import LocalStore
    from iamedic_desktop.ui.ai_jobs import AiJobs
    from iamedic_desktop.ui.main_window import MainWindow
    from iamedic_desktop.ui.model_notice_widget import ModelsController


class FrameScoresController(QObject):
    """Draws a video's frame scores, scores all its frames, and takes its automatic frames."""

    scores_shown = Signal(object, int)  # video id, how many scores the lane draws
    auto_frames_done = Signal(object)  # RunsExtractionResult

    def __init__(
        self,
        window: MainWindow,
        jobs: AiJobs,
        models: ModelsController,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._window = window
        self._jobs = jobs
        self._models = models
        self.dialog: AutoFramesDialog | None = None
        self._params: RunsParams | None = None  # the last settings chosen, offered again
        window.player.media_opened.connect(lambda _info: self.reload_scores())
        models.pulled.connect(lambda _status: self.reload_scores())  # another champion's scores

    def _video(self) -> tuple[MediaDTO, LocalStore] | None:
        media, store = self._window.current_media, self._window.store
        if media is None or store is None or media.media_type is not MediaType.VIDEO:
            return None
        return media, store

    def _show(self, video_id: uuid.UUID, scores: list[float] | None) -> None:
        media = self._window.current_media
        if media is None or media.id != video_id:
            return  # another media opened meanwhile
        self._window.player_panel.timeline.set_scores(scores or None)
        self.scores_shown.emit(video_id, len(scores or []))

    # --- stored scores -------------------------------------------------------------------------

    def reload_scores(self) -> None:
        """Draw the open video's stored scores of the classifier in use (or an empty lane)."""
        found = self._video()
        if found is None:
            return
        media, store = found
        job = functools.partial(_stored, store, self._models.settings(), media.id)
        self._window.database.run(job, on_success=lambda s: self._show(media.id, s))

    # --- score all frames ----------------------------------------------------------------------

    def score_current(self) -> None:
        """Score every frame of the open video with the classifier in use."""
        found = self._video()
        if found is None:
            self._window.notify("Open a video to score its frames")
            return
        if not self._models.may_predict():
            self._window.notify(NO_MODEL_MESSAGE)
            return
        media, store = found
        job = functools.partial(_score, store, self._models.settings(), media.id)
        title = f"Scoring every frame of {media.filename}"
        if not self._jobs.start(title, job, functools.partial(self._scored, media.id)):
            self._window.notify(f"{self._jobs.running} is under way; wait for it or cancel it")

    def _scored(self, video_id: uuid.UUID, result: Any) -> None:
        self._window.notify(result.message or f"{len(result.scores)} frames scored")
        if not result.cancelled:
            self._show(video_id, list(result.scores))
        study = self._window.current_study
        if study is not None:
            self._window.browser.refresh_study(study.id)  # the video is scored now

    # --- automatic frames ----------------------------------------------------------------------

    def ask_auto_frames(self) -> AutoFramesDialog | None:
        """Ask for the runs' settings, then take the open video's best frames as stills."""
        found = self._video()
        if found is None:
            self._window.notify("Open a video to take its best frames automatically")
            return None
        if not self._models.may_predict():
            self._window.notify(NO_MODEL_MESSAGE)
            return None
        media, _store = found
        dialog = AutoFramesDialog(media.filename, self._params, self._window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.run_auto_frames(dialog.params()))
        dialog.destroyed.connect(lambda _obj=None: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()
        return dialog

    def run_auto_frames(self, params: RunsParams) -> None:
        """Take the open video's best frames as stills with these settings."""
        found = self._video()
        if found is None:
            return
        self._params = params
        media, store = found
        job = functools.partial(_auto, store, self._models.settings(), media.id, params)
        title = f"Automatic frames of {media.filename}"
        if not self._jobs.start(title, job, functools.partial(self._auto_done, media.id)):
            self._window.notify(f"{self._jobs.running} is under way; wait for it or cancel it")

    def _auto_done(self, video_id: uuid.UUID, result: Any) -> None:
        window = self._window
        runs, stills = len(result.runs), len(result.stills)
        made = f"{stills} still{'s' if stills != 1 else ''} taken from {runs} run"
        made += "s" if runs != 1 else ""
        window.notify(f"Automatic frames cancelled: {made}" if result.cancelled else made)
        self._show(video_id, list(result.scores))
        study = window.current_study
        if study is not None:
            window.browser.refresh_study(study.id)  # the stills are new media rows
        media = window.current_media
        if media is not None and media.id == video_id:
            window.annotation.refresh_stills(video_id)
            window.refresh_markers()
        self.auto_frames_done.emit(result)


def _stored(store: LocalStore, settings: Settings, video_id: uuid.UUID) -> list[float] | None:
    """Database runner: the video's scores of the classifier version in use, if stored."""
    from iamedic_desktop.services.classifier_model import current_classifier_version
    from iamedic_desktop.services.frame_scoring import stored_scores

    version = current_classifier_version(settings)
    if version is None:
        return None
    found = stored_scores(store.uow, store.actor, video_id, version)
    return list(found.scores) if found is not None else None


def _score(
    store: LocalStore,
    settings: Settings,
    video_id: uuid.UUID,
    progress: ProgressCallback,
    cancel: CancelToken,
) -> Any:
    """AI runner: score every frame of a video with the classifier in use."""
    from iamedic_desktop.services.frame_scoring import score_video
    from iamedic_desktop.services.models import open_classifier

    classifier = open_classifier(settings)
    try:
        return score_video(
            store.uow, store.actor, store.media, classifier, video_id, progress=progress,
            cancel=cancel,
        )  # fmt: skip
    finally:
        classifier.close()


def _auto(
    store: LocalStore,
    settings: Settings,
    video_id: uuid.UUID,
    params: RunsParams,
    progress: ProgressCallback,
    cancel: CancelToken,
) -> Any:
    """AI runner: the runs algorithm over the video's scores; each good run's best frame."""
    from iamedic_desktop.services.frame_scoring import auto_frames

    return auto_frames(
        store.uow, store.actor, store.media, settings, video_id, params, progress=progress,
        cancel=cancel,
    )  # fmt: skip
