"""The window's menu bar: every keyboard action reachable by menu, with its shortcut shown.

The menus hold the window's own actions (``window_actions.py``: their shortcuts follow the
keymap, remapped ones included) and the study browser's; nothing is duplicated. Besides them:
Sign in / Sign out (``sign_in_controller.py``), Settings… and About. Sync now is in File, the
sync panel in View, predictions and automatic frames in AI (``ai_menu``: the AI controller adds
the models' entries). Order and names follow the desktop conventions: File, Edit, View,
Playback, Study, AI, Settings, Help. What only a menu (or its key) starts lives here too:
choosing files to import, Export annotations… (admins and doctors), the shortcut sheet,
Settings, About.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QUndoStack
from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

from iamedic_desktop.core.settings_file import save_keymap
from iamedic_desktop.ui.about_dialog import TITLE as ABOUT_TITLE
from iamedic_desktop.ui.about_dialog import AboutDialog, about_versions
from iamedic_desktop.ui.keymap import Keymap
from iamedic_desktop.ui.shortcut_sheet_dialog import ShortcutSheetDialog

if TYPE_CHECKING:
    from iamedic_desktop.core.settings import Settings
    from iamedic_desktop.services.local_store import LocalStore
    from iamedic_desktop.ui.main_window import MainWindow
    from iamedic_desktop.ui.operations import OperationRunner
    from iamedic_desktop.ui.sign_in_controller import SignInController
    from iamedic_desktop.ui.study_browser_dock import StudyBrowserDock
    from iamedic_desktop.ui.window_actions import WindowActions
    from iamedic_desktop.ui.window_layout import WindowLayout

log = logging.getLogger(__name__)

SEPARATOR = ""
Entry = str | tuple[str, list[str]]
_DIRECTIONS = ("left", "right", "up", "down")
# Keymap actions per menu, in order ("" is a separator; a tuple is a submenu).
EDIT: list[Entry] = [
    "undo", "redo", SEPARATOR,
    "new_box", "delete_box", "toggle_hidden", "accept_prediction", "copy_previous_boxes",
    SEPARATOR, "useful", "not_useful",
    ("Box &class", [f"class_{i}" for i in range(1, 10)]),
    ("&Nudge box", [f"nudge_{d}{step}" for step in ("", "_10") for d in _DIRECTIONS]),
    SEPARATOR, "save_now",
]  # fmt: skip
VIEW: list[Entry] = [
    SEPARATOR, "sync_panel", SEPARATOR, "fit", "actual_size", "zoom_in", "zoom_out",
]  # fmt: skip
PLAYBACK: list[Entry] = [
    "play_pause", SEPARATOR,
    "step_back", "step_forward", "step_back_10", "step_forward_10", "jump_start", "jump_end",
    SEPARATOR, "slower", "faster", SEPARATOR, "extract_frame",
]  # fmt: skip
AI: list[Entry] = [
    "predict_frame", "predict_selection", "predict_study", SEPARATOR,
    "import_predicted_boxes", SEPARATOR, "score_frames", "auto_frames",
]  # fmt: skip
SETTINGS: list[Entry] = ["settings", "shortcut_sheet"]
EXPORT_ROLES = {"admin", "doctor"}


class WindowMenus(QObject):
    """Builds the menu bar of ``window`` and runs what only a menu offers (Settings, About)."""

    settings_saved = Signal(object)  # Settings saved in the settings dialog

    def __init__(
        self,
        window: MainWindow,
        actions: WindowActions,
        layout: WindowLayout,
        account: SignInController,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._window_actions = actions
        self._actions = actions.actions
        self._account = account
        self.about_action = QAction(ABOUT_TITLE, window, objectName="action_about")
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        self.about_action.triggered.connect(lambda _checked=False: self.show_about())
        self._actions["settings"].setMenuRole(QAction.MenuRole.PreferencesRole)
        self._actions["quit"].setMenuRole(QAction.MenuRole.QuitRole)
        self.settings_dialog: QWidget | None = None
        self.about_dialog: AboutDialog | None = None
        self.export_dialog: QWidget | None = None
        actions.bind("import_files", self.choose_files_to_import)
        actions.bind("export_annotations", self.show_export)
        actions.bind("shortcut_sheet", self.show_shortcut_sheet)
        actions.bind("settings", self.show_settings)
        self._follow_undo_stack(window.annotation.undo_stack)
        self.view_menu = self._build(layout, window.browser)

    def _build(self, layout: WindowLayout, browser: StudyBrowserDock) -> QMenu:
        bar = self._window.menuBar()
        file = bar.addMenu("&File")
        file.addAction(self._actions["import_files"])
        file.addAction(self._actions["export_annotations"])
        file.addSeparator()
        file.addAction(self._actions["sync_now"])
        file.addSeparator()
        file.addActions([self._account.sign_in_action, self._account.sign_out_action])
        file.addSeparator()
        file.addAction(self._actions["quit"])
        self._fill(bar.addMenu("&Edit"), EDIT)
        view = layout.view_menu(self._actions["reset_layout"])  # the docks, then Reset layout
        self._fill(view, VIEW)
        self._fill(bar.addMenu("&Playback"), PLAYBACK)
        study = bar.addMenu("&Study")
        study.addActions([browser.new_action, browser.rename_action, browser.delete_action])
        study.addSeparator()
        study.addAction(self._actions["deleted_studies"])
        self.ai_menu = bar.addMenu("&AI")
        self._fill(self.ai_menu, AI)
        self._fill(bar.addMenu("Se&ttings"), SETTINGS)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self._actions["shortcut_sheet"])
        help_menu.addSeparator()
        help_menu.addAction(self.about_action)
        return view

    def _fill(self, menu: QMenu, entries: Sequence[Entry]) -> None:
        for entry in entries:
            if entry == SEPARATOR:
                menu.addSeparator()
            elif isinstance(entry, tuple):
                title, names = entry
                self._fill(menu.addMenu(title), names)
            else:
                menu.addAction(self._actions[entry])

    def _follow_undo_stack(self, stack: QUndoStack) -> None:
        # "Undo Move box": the menu says what an undo or redo would do, and greys out when
        # there is nothing to do.
        undo, redo = self._actions["undo"], self._actions["redo"]
        stack.undoTextChanged.connect(lambda text: undo.setText(f"Undo {text}" if text else "Undo"))
        stack.redoTextChanged.connect(lambda text: redo.setText(f"Redo {text}" if text else "Redo"))
        stack.canUndoChanged.connect(undo.setEnabled)
        stack.canRedoChanged.connect(redo.setEnabled)
        undo.setEnabled(stack.canUndo())
        redo.setEnabled(stack.canRedo())

    # --- About --------------------------------------------------------------------------------

    def show_about(self) -> None:
        """Gather the versions off the UI thread (ffmpeg runs), then show them."""
        self._window.workers.run(about_versions, on_success=self._about_ready)

    def _about_ready(self, versions: list[tuple[str, str]]) -> None:
        dialog = AboutDialog(versions, self._window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(lambda _obj=None: setattr(self, "about_dialog", None))
        self.about_dialog = dialog
        dialog.open()

    # --- Settings -----------------------------------------------------------------------------

    def show_settings(self) -> QWidget:
        """The settings dialog (Ctrl+,), with the Administration tab for an admin."""
        from iamedic_desktop.ui.settings_dialog import SettingsDialog

        settings = self._account.settings
        account = self._account.account
        is_admin = account is not None and "admin" in account.info.roles
        runner = self._window.database
        dialog = SettingsDialog(
            settings,
            runner,
            is_admin,
            self._window,
            admin_tab_factory=lambda parent: _administration_tab(
                runner, settings, parent, self._window.store
            ),
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.settings_saved.connect(self._settings_saved)
        dialog.destroyed.connect(lambda _obj=None: setattr(self, "settings_dialog", None))
        self.settings_dialog = dialog
        dialog.open()
        return dialog

    def _settings_saved(self, settings: Settings) -> None:
        self._window_actions.set_keymap(Keymap.load(settings.keymap)[0])
        self._account.set_settings(settings)  # the next store opening and sign-in use them
        self.settings_saved.emit(settings)

    # --- File and the shortcut sheet ----------------------------------------------------------

    def show_export(self) -> QWidget | None:
        """Export annotations (admins, and doctors for their own studies)."""
        account, store = self._account.account, self._window.store
        if store is None or account is None:
            self._window.notify("The store is still opening; export in a moment.")
            return None
        if not EXPORT_ROLES & set(account.info.roles):
            self._window.notify("Exporting annotations is for admins and doctors.")
            return None
        if self.export_dialog is not None:
            self.export_dialog.raise_()
            return self.export_dialog
        from iamedic_desktop.ui.export_dialog import ExportDialog

        dialog = ExportDialog(self._window.workers, self._account.settings, store, self._window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(lambda _obj=None: setattr(self, "export_dialog", None))
        self.export_dialog = dialog
        dialog.open()
        return dialog

    def choose_files_to_import(self) -> None:
        """Pick files to import into the open study (a file dialog)."""
        browser = self._window.browser
        if browser.current_study is None:  # refuse before the user picks files for nothing
            self._window.notify("Select or create a study first, then import into it.")
            return
        names, _ = QFileDialog.getOpenFileNames(self._window, "Import scans into the open study")
        if names:
            browser.import_files([Path(n) for n in names])

    def show_shortcut_sheet(self) -> ShortcutSheetDialog:
        """The shortcut sheet (F1); a saved keymap applies at once and goes to the settings."""
        dialog = ShortcutSheetDialog(self._window_actions.keymap, self._window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.keymap_saved.connect(self.apply_keymap)
        dialog.open()
        return dialog

    def apply_keymap(self, keymap: Keymap) -> None:
        """Use ``keymap`` now and save its changes in the settings file (off the UI thread)."""
        self._window_actions.set_keymap(keymap)
        self._window.database.run(
            functools.partial(save_keymap, keymap.overrides()),
            on_success=lambda path: self._window.notify(f"Shortcuts saved in {path}"),
        )


def _administration_tab(
    runner: OperationRunner, settings: Settings, parent: QWidget, store: LocalStore | None
) -> QWidget:
    from iamedic_desktop.ui.administration_tab import AdministrationTab

    return AdministrationTab(runner, settings, parent, store=store)
