"""AI in the window: predict this image or frame, the selected media or the whole study.

The window's composition root creates one ``AiController``; it binds the AI actions of the
keymap, runs ``services.inference`` as AI jobs (``ai_jobs.py``: progress and Cancel in the
status bar) and refreshes only what a run changed: the open target's predictions and label,
the study's row and media list (the AI state), the open video's markers. It also owns the
parts that follow the models (``model_notice_widget.py``: the new champion, the pull) and a
video's frame scores (``frame_scores_controller.py``), and imports a model version's predicted
boxes as annotations (the dock's version picker, or Shift+P).

Threading: UI thread. Services run on the AI runner (predictions) or the database runner
(importing boxes, a short write), never here.
"""

from __future__ import annotations

import functools
import logging
import uuid
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from iamedic_desktop.core.errors import ModelError
from iamedic_desktop.core.progress import CancelToken, ProgressCallback
from iamedic_desktop.models.central import MediaType
from iamedic_desktop.ui.ai_jobs import AiJobs
from iamedic_desktop.ui.frame_scores_controller import FrameScoresController
from iamedic_desktop.ui.model_notice_widget import NO_MODEL_MESSAGE, ModelsController

if TYPE_CHECKING:
    from iamedic_desktop.core.settings import Settings
    from iamedic_desktop.services.local_store import LocalStore
    from iamedic_desktop.ui.main_window import MainWindow

log = logging.getLogger(__name__)


class AiController(QObject):
    """Binds the AI actions to the services and the views that show their results."""

    predicted = Signal(object)  # PredictionRunDTO, once a run ended (cancelled included)
    boxes_imported = Signal(object)  # ImportedBoxesDTO

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self.jobs = AiJobs(window.status, self)
        self.jobs.runner.failed.connect(self._failed)
        self.models = ModelsController(window, self.jobs, self)
        self.frames = FrameScoresController(window, self.jobs, self.models, self)
        self.picker = window.annotation_dock.version_picker
        self.picker.import_requested.connect(self.import_boxes)
        self.models.champions_changed.connect(self.picker.set_champions)
        bind = window.window_actions.bind
        bind("predict_frame", self.predict_current)
        bind("predict_selection", self.predict_selection)
        bind("predict_study", self.predict_study)
        bind("import_predicted_boxes", lambda: self.import_boxes(None))
        bind("score_frames", self.frames.score_current)
        bind("auto_frames", self.frames.ask_auto_frames)
        window.menus.ai_menu.addSeparator()
        window.menus.ai_menu.addActions([self.models.check_action, self.models.pull_action])
        window.menus.settings_saved.connect(lambda _settings: self.models.read_status())

    def shutdown(self) -> None:
        """Stop the AI job in progress and the models' checks (the window is closing)."""
        self.models.shutdown()
        self.jobs.shutdown()

    def is_idle(self) -> bool:
        """True when no AI job, model check or pull is under way."""
        return self.jobs.is_idle() and self.models.is_idle()

    # --- predict ---------------------------------------------------------------------------------

    def predict_current(self) -> None:
        """Predict the image or still on the canvas, or the video frame shown (as a still)."""
        media, store = self._window.current_media, self._window.store
        if media is None or store is None:
            self._window.notify("Open an image, a still or a video frame to predict it")
            return
        if media.media_type is MediaType.VIDEO:
            frame = self._window.player.current_frame
            target = self._window.annotation.target
            still = target.still_id if target is not None and target.is_video_frame else None
            job = functools.partial(_predict_frame, store, self._settings(), media.id, frame, still)
            what = f"frame {frame} of {media.filename}"
        else:
            job = functools.partial(_predict, store, self._settings(), [media.id])
            what = media.filename
        self._start(f"Predicting {what}", job)

    def predict_selection(self) -> None:
        """Predict the media selected in the media list (videos: every frame scored)."""
        listing = self._window.browser.media_list
        rows = sorted({i.row() for i in listing.table.selectionModel().selectedRows()})
        ids = [listing.model.media(row).id for row in rows]
        store = self._window.store
        if not ids or store is None:
            self._window.notify("Select media in the list first (Ctrl or Shift for several)")
            return
        count = f"{len(ids)} media" if len(ids) > 1 else listing.model.media(rows[0]).filename
        job = functools.partial(_predict, store, self._settings(), ids)
        self._start(f"Predicting {count}", job)

    def predict_study(self) -> None:
        """Predict every media of the open study."""
        study, store = self._window.current_study, self._window.store
        if study is None or store is None:
            self._window.notify("Open a study first, then predict it")
            return
        job = functools.partial(_predict_study, store, self._settings(), study.id)
        self._start(f"Predicting the study '{study.alias}'", job)

    def _settings(self) -> Settings:
        return self.models.settings()

    def _start(self, title: str, job: Any) -> None:
        if not self.models.may_predict():
            self._window.notify(NO_MODEL_MESSAGE)
            return
        if not self.jobs.start(title, job, self._predicted):
            self._window.notify(f"{self.jobs.running} is under way; wait for it or cancel it")

    def _predicted(self, run: Any) -> None:
        self._window.notify(run.message)
        changed = set(_changed_ids(run))
        self._refresh_after(changed)
        self.frames.reload_scores()  # a video in the run has its frames scored now
        self.predicted.emit(run)

    def _refresh_after(self, changed: set[uuid.UUID]) -> None:
        window = self._window
        study = window.current_study
        if study is not None:
            window.browser.refresh_study(study.id)  # the AI state and the labels set
        media = window.current_media
        if media is None:
            return
        if media.media_type is MediaType.VIDEO:
            window.annotation.refresh_stills(media.id)  # a frame may have become a still
            window.refresh_markers()
        elif media.id in changed:
            window.annotation.follow_store()  # only what differs changes on the canvas

    def _failed(self, message: str, error: object) -> None:
        if isinstance(error, ModelError):
            self.models.model_failed(error)
        self._window.notify_error(message, error if isinstance(error, BaseException) else None)

    # --- import predicted boxes ------------------------------------------------------------------

    def import_boxes(self, model_version: str | None = None) -> None:
        """Make the shown (or given) version's boxes above 0.5 annotations of this target."""
        window, store = self._window, self._window.store
        target = window.annotation.target
        version = model_version or self.picker.shown_box_version()
        if store is None or target is None or target.still_id is None or version is None:
            window.notify("No predicted boxes here: predict this image or frame first (Ctrl+P)")
            return
        from iamedic_desktop.services.inference import import_predicted_boxes

        job = functools.partial(
            import_predicted_boxes,
            store.uow,
            store.actor,
            target.still_id,
            version,
            media_store=store.media,  # an image's size, to keep the boxes inside it
        )
        window.database.run(job, on_success=self._imported)

    def _imported(self, result: Any) -> None:
        window = self._window
        window.notify(result.message)
        window.annotation.follow_store()
        window.refresh_markers()
        if window.current_study is not None:
            window.browser.refresh_study(window.current_study.id)
        self.boxes_imported.emit(result)


def _changed_ids(run: Any) -> list[uuid.UUID]:
    # The media a run predicted (and labelled): the views of the others stay as they are.
    return list(getattr(run, "predicted_ids", []))


def _predict(
    store: LocalStore,
    settings: Settings,
    media_ids: list[uuid.UUID],
    progress: ProgressCallback,
    cancel: CancelToken,
) -> Any:
    """AI runner: predict these media (images, stills; videos: every frame scored)."""
    from iamedic_desktop.services.inference import predict_media

    return predict_media(
        store.uow,
        store.actor,
        store.media,
        settings,
        media_ids,
        progress=progress,
        cancel=cancel,
    )


def _predict_study(
    store: LocalStore,
    settings: Settings,
    study_id: uuid.UUID,
    progress: ProgressCallback,
    cancel: CancelToken,
) -> Any:
    """AI runner: predict every media of a study."""
    from iamedic_desktop.services.inference import predict_study

    return predict_study(
        store.uow, store.actor, store.media, settings, study_id, progress=progress,
        cancel=cancel,
    )  # fmt: skip


def _predict_frame(
    store: LocalStore,
    settings: Settings,
    video_id: uuid.UUID,
    frame: int,
    still_id: uuid.UUID | None,
    progress: ProgressCallback,
    cancel: CancelToken,
) -> Any:
    """AI runner: a video frame is predicted as its still (taken first when there is none)."""
    if still_id is None:
        from iamedic_desktop.services.extraction import extract_frame

        taken = extract_frame(store.uow, store.actor, store.media, video_id, frame_number=frame)
        still_id = taken.frame.frame_media_id
    return _predict(store, settings, [still_id], progress, cancel)
