"""The main window: the composition root that wires the docks, the review area and the keys.

It creates the two runners every part shares (the database runner: one thread, the database
executor; the workers runner: two threads for decoding and thumbnails), opens the store off
the UI thread, and connects the parts: a study opened in the browser titles the window, a
media activated there opens in the player and becomes the annotation target, each frame the
player delivers is painted on the canvas, and every failure takes one path to the status bar
and the log. A media whose file is not here yet (pulled from the central database) is fetched
first (``media_fetch_controller.py``, on a third runner of its own), its progress shown in the
review area. Sign-in and the account pages (``sign_in_controller.py``), the menu bar
(``menu_bar.py``) and the background sync of the signed-in user's store (``sync_controller.py``,
with its status bar labels, the sync panel and the conflicts on the canvas) and the AI
(``ai_controller.py``: predictions, frame scores, the models) are wired here too.
The parts themselves live in their own modules.
"""

from __future__ import annotations

import functools
import gc
import logging
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QImage
from PySide6.QtWidgets import QMainWindow, QWidget

from iamedic_desktop.media.storage import is_key
from iamedic_desktop.models.central import MediaType
from iamedic_desktop.services.local_store import LocalStore, open_local_store
from iamedic_desktop.ui.ai_controller import AiController
from iamedic_desktop.ui.annotation_canvas import AnnotationCanvasView
from iamedic_desktop.ui.annotation_controller import AnnotationController
from iamedic_desktop.ui.annotation_dock import AnnotationDock
from iamedic_desktop.ui.keymap import Keymap
from iamedic_desktop.ui.media_fetch_controller import MediaFetchController
from iamedic_desktop.ui.menu_bar import WindowMenus
from iamedic_desktop.ui.player_controller import PlayerController
from iamedic_desktop.ui.player_panel import PlayerPanel
from iamedic_desktop.ui.review_area_widget import ReviewAreaWidget
from iamedic_desktop.ui.shortcut_sheet_dialog import ShortcutSheetDialog
from iamedic_desktop.ui.sign_in_controller import SignInController
from iamedic_desktop.ui.status_bar_widget import ActivityRunner, StatusBarWidget
from iamedic_desktop.ui.store_follower import StoreFollower
from iamedic_desktop.ui.study_browser_dock import StudyBrowserDock
from iamedic_desktop.ui.sync_conflict_view import SyncConflictView
from iamedic_desktop.ui.sync_controller import SyncController
from iamedic_desktop.ui.sync_panel import SyncPanelDock
from iamedic_desktop.ui.timeline_markers import load_markers
from iamedic_desktop.ui.window_actions import (
    WindowActions,
    bind_review_actions,
    bind_study_actions,
    bind_sync_actions,
)
from iamedic_desktop.ui.window_layout import WindowLayout
from iamedic_desktop.ui.window_state import (
    QSETTINGS_APPLICATION,
    QSETTINGS_ORGANISATION,
    WindowState,
    window_settings,
)

if TYPE_CHECKING:
    from iamedic_desktop.core.settings import Settings
    from iamedic_desktop.schemas.extraction import ExtractionResult
    from iamedic_desktop.schemas.media import MediaDTO
    from iamedic_desktop.schemas.studies import StudyDTO
    from iamedic_desktop.services.sign_in import Account

log = logging.getLogger(__name__)

__all__ = ["QSETTINGS_APPLICATION", "QSETTINGS_ORGANISATION", "MainWindow", "window_settings"]

WINDOW_TITLE = "IAMEDIC Workstation"
DRAIN_TIMEOUT_S = 30.0  # how long closing waits for pending saves
# Worker threads (decoding, thumbnails, imports) run Python too; with the default 5 ms switch
# interval the UI thread can queue behind them for the GIL many times in one repaint.
UI_SWITCH_INTERVAL_S = 0.001


class MainWindow(QMainWindow):
    """The workstation: studies on the left, the review area in the centre, annotation right."""

    store_ready = Signal()
    notified = Signal(str)  # every message shown to the user (tests, later a log panel)
    frame_shown = Signal(int)  # a frame is on the canvas (after the paint was asked for)
    markers_loaded = Signal(object)  # the timeline's markers of the open video
    still_extracted = Signal(object)  # ExtractionResult of the E key / the timeline

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        sys.setswitchinterval(UI_SWITCH_INTERVAL_S)
        # All loaded so far lives as long as the process: out of the collector's full passes,
        # which scan it holding the GIL and stalled the UI thread for 100-400 ms.
        gc.freeze()
        self._store: LocalStore | None = None
        # Filled and emptied on the database thread only: a store opened while the window
        # closes is still closed.
        self._opened_stores: list[LocalStore] = []
        self._study: StudyDTO | None = None
        self._media: MediaDTO | None = None
        self._state = WindowState()
        self.setWindowTitle(WINDOW_TITLE)
        self.setAcceptDrops(True)
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks)

        self.status = StatusBarWidget(self)
        self.setStatusBar(self.status)
        self.database = ActivityRunner("Database", self, max_threads=1)
        self.workers = ActivityRunner("Media", self, max_threads=2)
        self.fetches = ActivityRunner("Fetch", self, max_threads=1)  # minutes for a large file
        for runner in (self.database, self.workers, self.fetches):
            runner.failed.connect(self.notify_error)
            self.status.watch(runner)

        self.browser = StudyBrowserDock(self.database, self.workers, self)
        self.canvas = AnnotationCanvasView(self)
        self.annotation = AnnotationController(self.canvas, self.database, self)
        self.follower = StoreFollower(self.database, self.browser, self.annotation, self)
        self.annotation_dock = AnnotationDock(self.annotation, self)
        self.player = PlayerController(self)
        self.fetcher = MediaFetchController(self.fetches, self)
        self.player_panel = PlayerPanel(self.player, self)
        self.review = ReviewAreaWidget(self.canvas, self.player_panel, self)
        self.setCentralWidget(self.review)
        self.account = SignInController(self, self.review, self.database, self.status, settings)
        self.sync = SyncController(self.database, self.status.sync_status, self)
        self.sync_panel = SyncPanelDock(self.sync, self.database, self)
        self.sync_conflicts = SyncConflictView(
            self.sync, self.annotation, self.annotation_dock, self.database, self
        )
        docks = [
            (self.browser, Qt.DockWidgetArea.LeftDockWidgetArea),
            (self.annotation_dock, Qt.DockWidgetArea.RightDockWidgetArea),
        ]
        self.layout_keeper = WindowLayout(self, docks, self.review.splitter, self._state)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.sync_panel)
        self.tabifyDockWidget(self.annotation_dock, self.sync_panel)
        self.sync_panel.hide()  # until asked for: View -> Sync panel, or a click on the conflicts

        keymap, self.keymap_problems = Keymap.load(settings.keymap)
        self.window_actions = WindowActions(self, keymap)
        self._bind_actions()
        self.menus = WindowMenus(self, self.window_actions, self.layout_keeper, self.account)
        self.view_menu = self.menus.view_menu
        self._wire()
        self.ai = AiController(self)  # the AI menu's actions, the models' notice, score lane
        self.layout_keeper.restore()
        for problem in self.keymap_problems:
            self.notify(problem)
        self.status.show_notice("Opening the local store…", 0)
        self.reopen_store()

    # --- store --------------------------------------------------------------------------------

    @property
    def store(self) -> LocalStore | None:
        """The open local store, once it is ready."""
        return self._store

    @property
    def mode_indicator(self) -> QWidget:
        """The status bar's connection indicator ("Local mode")."""
        return self.status.connection_indicator

    @property
    def current_study(self) -> StudyDTO | None:
        """The study open in the browser."""
        return self._study

    @property
    def current_media(self) -> MediaDTO | None:
        """The media open in the review area."""
        return self._media

    def _open_store(self) -> LocalStore:
        # Database thread: creates or upgrades the store (migrations) and the local user.
        store = open_local_store(self.account.settings)
        self._opened_stores.append(store)
        return store

    def _close_stores(self) -> None:
        # Database thread, last task: closing may checkpoint the WAL.
        self.follower.close_watcher()
        while self._opened_stores:
            self._opened_stores.pop().close()

    def reopen_store(self) -> None:
        """Open the store as whoever acts now: at start, after a sign-in or a sign-out."""
        self.follower.stop()
        self.sync.stop()
        self.fetcher.cancel()
        self.browser.set_store(None)  # the open study closes with it
        self._store = None
        self.annotation.set_store(None)
        self.account.store_closed()

        def reopen() -> LocalStore:  # database thread
            self.sync.wait_stopped()  # no sync of the last user still runs on the store
            self._close_stores()
            return self._open_store()

        refused = self.account.store_refused  # "Sign-in required": the sign-in page
        self.database.run(reopen, on_success=self._store_opened, on_failure=refused)

    def _store_opened(self, store: LocalStore) -> None:
        self._store = store
        self.annotation.set_store(store)
        self.account.store_opened(store)  # who acts, then _account_read

    def _account_read(self, account: Account) -> None:
        store = self._store
        if store is None:
            return
        if account.is_doctor:  # listing studies is doctor work: nobody else has any
            self.browser.set_store(store)
            last = self._state.last_study_id()
            if last is not None:
                self.browser.open_study(last)
        self.notify("Local store ready")
        self.follower.start(store.settings.local_db_path)
        self.sync.start(store)
        self.store_ready.emit()

    # --- wiring -------------------------------------------------------------------------------

    def _wire(self) -> None:
        self.browser.study_opened.connect(self._study_opened)
        self.browser.study_closed.connect(self._study_closed)
        self.browser.media_activated.connect(self.open_media)
        self.browser.media_list.media_loaded.connect(lambda _n: self._check_open_media())
        self.follower.changed.connect(lambda _version: self.refresh_markers())
        self.follower.changed.connect(lambda _version: self.sync.refresh())  # pending, conflicts
        self.sync.message.connect(self.notify)
        self.status.sync_status.conflicts_clicked.connect(self.sync_panel.show_conflicts)
        self.follower.notice.connect(self.notify)
        self.account.reopen_requested.connect(self.reopen_store)
        self.account.account_loaded.connect(self._account_read)
        self.account.message.connect(self.notify)
        self.account.failed.connect(self.notify_error)
        self.player.frame_ready.connect(self._frame_ready)
        self.fetcher.progressed.connect(self._fetch_progressed)
        self.fetcher.fetched.connect(self._fetched)
        self.fetcher.failed.connect(self._fetch_failed)
        # The timeline is set up for a media when it has opened; its markers come after.
        self.player.media_opened.connect(lambda _info: self.refresh_markers())
        self.player.playing_changed.connect(self._playing_changed)
        self.player_panel.extract_requested.connect(self.extract_frame)
        self.annotation.annotations_changed.connect(self._annotations_changed)
        self.annotation.message.connect(self.notify)
        self.annotation.navigate_requested.connect(self._navigate)
        # A selected box takes the arrow keys (nudge) from frame stepping.
        self.canvas.box_selected.connect(
            lambda bb_class: self.window_actions.set_box_selected(bb_class is not None)
        )
        # Every part's failures take the window's one notification path.
        for part in (self.browser, self.player, self.annotation, self.player_panel):
            for name in ("failed", "error"):
                signal = getattr(part, name, None)
                if signal is not None:
                    signal.connect(self.notify_error)

    def _study_opened(self, study: StudyDTO) -> None:
        self._study = study
        self.setWindowTitle(f"{WINDOW_TITLE} — {study.alias}")
        self._state.remember_study(study.id)

    def _study_closed(self) -> None:
        self._study = None
        self.setWindowTitle(WINDOW_TITLE)
        self._state.remember_study(None)
        self.close_media()

    def close_media(self) -> None:
        """Empty the review area (the study holding the media went away)."""
        self._media = None
        self.fetcher.cancel()
        self.player.close_media()
        self.annotation.clear_target()
        self.canvas.clear_frame()
        self.review.set_media_open(False)

    def open_media(self, media: MediaDTO) -> None:
        """Show ``media`` in the review area: the player opens it, annotation targets it."""
        store = self._store
        if store is None:
            return
        self._media = media
        # One stat, no read: a pulled media's file may not be here yet.
        if not (is_key(media.file_path) and store.media.exists(media.file_path)):
            self.player.close_media()
            self.annotation.clear_target()
            self.canvas.clear_frame()
            self.fetcher.fetch(store, media)  # the review area says how far it got
            return
        self.fetcher.cancel()
        self._show_media(store, media)

    def _show_media(self, store: LocalStore, media: MediaDTO) -> None:
        self.review.set_media_open(True)
        self.player.open_media(store.media.path(media.file_path), media)
        if media.media_type is not MediaType.VIDEO:
            self.annotation.set_target(media, None, None)
        else:
            self.annotation.clear_target()  # a video frame is the target once it is shown

    def _fetch_progressed(self, media_id: uuid.UUID, percent: int) -> None:
        if self._media is not None and self._media.id == media_id:
            self.review.show_notice(f"Fetching from the central database… {percent} %")

    def _fetched(self, media: MediaDTO) -> None:
        if self._store is not None and self._media is not None and self._media.id == media.id:
            self._show_media(self._store, media)

    def _fetch_failed(self, media: MediaDTO, reason: str) -> None:
        # The runner has already told the status bar and the log.
        if self._media is not None and self._media.id == media.id:
            self.review.show_notice(f"This media's file could not be fetched. {reason}")

    def _check_open_media(self) -> None:
        # The media list of the open media's study was read again: is the open media gone?
        media, listing = self._media, self.browser.media_list
        if media is None or listing.study_id != media.study_id or listing.lists(media.id):
            return
        self.close_media()
        self.notify(f"{media.filename} was deleted elsewhere and is closed")

    def _navigate(self, media: MediaDTO, frame: int | None) -> None:
        # An undo or redo of an edit on another frame or media: show where it happened.
        if self._media is None or self._media.id != media.id:
            self.open_media(media)
        if frame is not None:
            self.player.seek(frame)

    def _frame_ready(self, frame: int, image: QImage) -> None:
        self.canvas.show_frame(image)
        # Annotation follows the frame only when paused: a playing video is for watching.
        if not self.player.is_playing:
            self._annotate_frame(frame)
        self.frame_shown.emit(frame)

    def _playing_changed(self, playing: bool) -> None:
        if playing:
            self.annotation.clear_target()  # no boxes of another frame over the moving image
        elif self.player.shown_frame is not None:
            self._annotate_frame(self.player.shown_frame)  # paused: this frame's boxes

    def _annotate_frame(self, frame: int) -> None:
        media = self._media
        if media is not None and media.media_type is MediaType.VIDEO:
            self.annotation.set_target(media, frame, self.player.timestamp(frame))

    def _annotations_changed(self, _change: object) -> None:
        self.refresh_markers()
        if self._study is not None:
            self.browser.refresh_study(self._study.id)

    def refresh_markers(self) -> None:
        """Reload the open video's stills, annotated frames and predictions on the timeline."""
        media, store = self._media, self._store
        if media is None or store is None or media.media_type is not MediaType.VIDEO:
            return
        self.database.run(
            functools.partial(load_markers, store, media.id),
            on_success=functools.partial(self._markers_loaded, media.id),
        )

    def _markers_loaded(self, media_id: uuid.UUID, markers: dict[str, list[int]]) -> None:
        if self._media is None or self._media.id != media_id:
            return  # another media opened meanwhile
        timeline = self.player_panel.timeline
        for kind, frames in markers.items():
            timeline.set_markers(kind, frames)
        self.markers_loaded.emit(markers)

    # --- actions ------------------------------------------------------------------------------

    def extract_frame(self, frame: int | None = None) -> None:
        """Store the frame on screen (or ``frame``) as a still of the open video."""
        media, store = self._media, self._store
        if media is None or store is None or media.media_type is not MediaType.VIDEO:
            self.notify("Open a video to extract one of its frames")
            return
        n = self.player.current_frame if frame is None else frame
        # Imported here: extraction brings the decoders, which start-up does not need.
        from iamedic_desktop.services.extraction import extract_frame

        self.database.run(
            functools.partial(
                extract_frame, store.uow, store.actor, store.media, media.id, frame_number=n
            ),
            on_success=self._frame_extracted,
        )

    def _frame_extracted(self, result: ExtractionResult) -> None:
        self.notify(result.message)
        if self._study is not None:
            self.browser.refresh_study(self._study.id)  # the still is a new media row
        video_id = result.frame.video_media_id
        if self._media is not None and self._media.id == video_id:
            self.refresh_markers()
            # The annotation side reads the video's stills again, the new one included.
            self.annotation.refresh_stills(video_id)
        self.still_extracted.emit(result)

    def _bind_actions(self) -> None:
        bind_review_actions(self.window_actions, self.player, self.annotation, self.canvas)
        bind_study_actions(self.window_actions, self.browser)
        bind_sync_actions(self.window_actions, self.sync, self.sync_panel)
        bind = self.window_actions.bind
        bind("extract_frame", self.extract_frame)
        bind("quit", self.close)
        bind("reset_layout", self.layout_keeper.reset)

    def show_shortcut_sheet(self) -> ShortcutSheetDialog:
        """The shortcut sheet (F1); a saved keymap applies at once and goes to the settings."""
        return self.menus.show_shortcut_sheet()

    # --- drops --------------------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.browser.import_files(paths)

    # --- messages -----------------------------------------------------------------------------

    def notify(self, message: str) -> None:
        """Show a passing message in the status bar."""
        self.status.show_notice(message)
        self.notified.emit(message)

    def notify_error(self, message: str, error: BaseException | None = None) -> None:
        """The one path every failure takes: logged with its cause, shown in the status bar."""
        log.error("❌ %s", message, exc_info=error)
        text = f"Error: {message}"
        self.status.show_notice(text, 0)
        self.notified.emit(text)

    # --- state --------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        self._state.save(self, self.review.splitter)
        self.follower.stop()
        self.sync.shutdown()  # after the sync in progress, before the store closes
        self.player.close_media()
        self.account.shutdown()  # a sign-in waiting for the browser stops
        self.fetcher.cancel()
        self.ai.shutdown()  # the AI job in progress stops at its next step
        self.fetches.shutdown()  # after its current chunk
        self.workers.shutdown()
        # Every edit the user saw applied is written before the store closes.
        if not self.database.drain(DRAIN_TIMEOUT_S):
            log.error("❌ Closing with saves still pending after %.0f s", DRAIN_TIMEOUT_S)
        self._store = None
        self.database.shutdown(last=self._close_stores)
        super().closeEvent(event)
