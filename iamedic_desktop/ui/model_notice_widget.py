"""The models in the window: what is in use, a new champion offered, and pulling it.

Once the store is ready, ``ModelsController`` reads the models' status from this workstation's
own files (``services.models.model_status``, no network), then a few seconds later asks the
registry whether the alias names a newer version (``check_models``): start-up never waits for
MLflow, and a registry out of reach only leaves a line in the log. A new champion shows a small
notice in the status bar, "frame_classifier_224x224 v4 is the new champion — Pull", whose
button pulls the models as an AI job (progress and Cancel in the status bar). After a pull the
views whose AI state depends on the champion read again.

Threading: UI thread; the status reads and checks run on a quiet runner of their own (no busy
indicator for a look at the registry), pulls on the AI jobs' runner.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHBoxLayout, QToolButton, QWidget

from iamedic_desktop.core.progress import CancelToken, ProgressCallback
from iamedic_desktop.ui.elided_label import ElidedLabel
from iamedic_desktop.ui.operations import OperationRunner
from iamedic_desktop.ui.status_bar_widget import STATUS_TEXT_MAX_W

if TYPE_CHECKING:
    from iamedic_desktop.core.settings import Settings
    from iamedic_desktop.schemas.models import ModelsStatusDTO
    from iamedic_desktop.ui.ai_jobs import AiJobs
    from iamedic_desktop.ui.main_window import MainWindow

log = logging.getLogger(__name__)

CHECK_DELAY_MS = 4000  # after the store is ready: MLflow loads while the user looks around
NO_MODEL_MESSAGE = (
    "No model on this workstation yet: pull the champion models (AI → Pull champion models, "
    "or `iamedic models pull` in a terminal), or choose the web's inference services in "
    "Settings → AI."
)


class ModelNoticeWidget(QWidget):
    """A line in the status bar: the new champion, with Pull and a dismiss button."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelNotice")
        self.label = ElidedLabel("", self, object_name="modelNoticeText")
        self.label.setMaximumWidth(STATUS_TEXT_MAX_W)  # never widens the window
        self.pull_button = QToolButton(self, objectName="modelNoticePull")
        self.pull_button.setText("Pull")
        self.pull_button.setToolTip("Download the new champion models and use them")
        self.dismiss_button = QToolButton(self, objectName="modelNoticeDismiss")
        self.dismiss_button.setText("×")
        self.dismiss_button.setToolTip("Not now (AI → Pull champion models later)")
        self.dismiss_button.clicked.connect(lambda _=False: self.hide())
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        row.addWidget(self.label)
        row.addWidget(self.pull_button)
        row.addWidget(self.dismiss_button)
        self.hide()

    def offer(self, text: str | None) -> None:
        """Show ``text`` with Pull (None: nothing is offered, hide)."""
        self.label.setText(text or "")
        self.label.setToolTip(text or "")
        self.setVisible(bool(text))


def notice_text(status: ModelsStatusDTO) -> str | None:
    """ "frame_classifier_224x224 v4 is the new champion — Pull" for each kind offered."""
    offered = [
        f"{kind.name} v{kind.new_champion_version}"
        for kind in status.kinds
        if kind.new_champion_version is not None
    ]
    if not offered:
        return None
    verb = "is the new champion" if len(offered) == 1 else "are the new champions"
    return f"{' and '.join(offered)} {verb}"


class ModelsController(QObject):
    """Keeps the models' status, offers a new champion, pulls on request."""

    status_changed = Signal(object)  # ModelsStatusDTO
    champions_changed = Signal(list)  # the model versions in use here
    pulled = Signal(object)  # ModelsStatusDTO after a pull

    def __init__(self, window: MainWindow, jobs: AiJobs, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._window = window
        self._jobs = jobs
        self._runner = OperationRunner(self, max_threads=1)
        self._status: ModelsStatusDTO | None = None
        self._checked = False
        self.notice = ModelNoticeWidget(window.status)
        window.status.insertPermanentWidget(0, self.notice)
        self.notice.pull_button.clicked.connect(lambda _=False: self.pull())
        self.check_action = QAction("Check for new models", window, objectName="action_check")
        self.check_action.triggered.connect(lambda _=False: self.check(quiet=False))
        self.pull_action = QAction("Pull champion models", window, objectName="action_pull")
        self.pull_action.triggered.connect(lambda _=False: self.pull())
        self._timer = QTimer(self, singleShot=True, interval=CHECK_DELAY_MS)
        self._timer.timeout.connect(lambda: self.check(quiet=True))
        window.store_ready.connect(self._store_ready)

    @property
    def status(self) -> ModelsStatusDTO | None:
        """The last status read (None until the first read returns)."""
        return self._status

    def settings(self) -> Settings:
        """The settings in force (those saved last in the settings dialog)."""
        return self._window.account.settings

    def may_predict(self) -> bool:
        """False when it is known that no model is here to predict with (local inference)."""
        status = self._status
        if status is None or status.backend == "http":
            return True  # not known yet, or the services answer: the run says what it finds
        return status.classifier.model_version is not None or status.boxes.model_version is not None

    def is_idle(self) -> bool:
        """True when no status read or registry check is under way."""
        return self._runner.is_idle()

    def shutdown(self) -> None:
        """Stop the timer and wait for a check in progress (the window is closing)."""
        self._timer.stop()
        self._runner.shutdown()

    # --- status and checks -------------------------------------------------------------------

    def _store_ready(self) -> None:
        self.read_status()
        if not self._checked:  # once per start: a sign-in reopening the store does not ask again
            self._checked = True
            self._timer.start()

    def read_status(self) -> None:
        """Read what is in use here (files only) and show it."""
        from iamedic_desktop.services.models import model_status

        settings = self.settings()
        self._runner.run(lambda: model_status(settings), on_success=self._status_read)

    def check(self, *, quiet: bool) -> None:
        """Ask the registry whether its alias names newer versions (quiet: failures only logged)."""
        from iamedic_desktop.services.models import check_models

        settings = self.settings()

        def checked_failed(error: BaseException) -> None:
            if quiet:
                log.warning("⚠️ The model registry was not checked: %s", error)
            else:
                self._window.notify_error(f"The model registry was not checked: {error}", error)

        def checked(status: ModelsStatusDTO) -> None:
            self._status_read(status)
            if not quiet:
                text = notice_text(status)
                self._window.notify(status.note or (text or "The champion models are in use"))

        self._runner.run(
            lambda: check_models(settings), on_success=checked, on_failure=checked_failed
        )

    def _status_read(self, status: ModelsStatusDTO) -> None:
        before = self._champions()
        self._status = status
        self.notice.offer(notice_text(status))
        self.status_changed.emit(status)
        if self._champions() != before:
            self.champions_changed.emit(self._champions())

    def _champions(self) -> list[str]:
        status = self._status
        if status is None:
            return []
        versions = [status.classifier.model_version, status.boxes.model_version]
        return [v for v in (*versions, status.http_model_version) if v]

    def model_failed(self, _error: BaseException) -> None:
        """A job found no model to run: read the status again (it may have changed)."""
        self.read_status()

    # --- pull --------------------------------------------------------------------------------

    def pull(self) -> None:
        """Download and adopt the alias's versions, as an AI job."""
        settings = self.settings()

        def job(progress: ProgressCallback, cancel: CancelToken) -> Any:
            from iamedic_desktop.services.models import pull_models

            return pull_models(settings, progress=progress, cancel=cancel)

        if not self._jobs.start("Pulling the champion models", job, self._pulled):
            self._window.notify(f"{self._jobs.running} is under way; wait for it or cancel it")

    def _pulled(self, status: ModelsStatusDTO) -> None:
        self._status_read(status)
        in_use = [k.model_version for k in status.kinds if k.model_version]
        self._window.notify(status.note or f"In use now: {', '.join(in_use)}")
        # The AI state of every item follows the champion classifier: read the views again.
        browser = self._window.browser
        browser.reload()
        browser.media_list.refresh()
        self.pulled.emit(status)
