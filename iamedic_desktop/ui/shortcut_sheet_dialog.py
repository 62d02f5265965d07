"""The shortcut sheet (F1): every action and its keys; change one, reset, save."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QKeySequenceEdit,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from iamedic_desktop.ui.keymap import ACTIONS, PORTABLE, Keymap, KeymapError, native_text

ARROWS_NOTE = (
    "Arrows nudge the selected box (Shift: 10 pixels); with no box selected they step "
    "frames (Shift: 10 frames). A and D always step frames."
)


class ShortcutSheetDialog(QDialog):
    """Lists actions and keys; the user captures a new key for one action and saves the map."""

    keymap_saved = Signal(object)  # the new Keymap; the window applies and stores it

    def __init__(self, keymap: Keymap, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.setObjectName("shortcutSheet")
        self.keymap = keymap.copy()
        self.table = QTableWidget(len(ACTIONS), 3, self)
        self.table.setHorizontalHeaderLabels(["Group", "Action", "Keys"])
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)

        self.key_edit = QKeySequenceEdit(self)
        self.key_edit.setMaximumSequenceLength(1)  # one chord: what annotators press
        self.key_edit.setClearButtonEnabled(True)
        self.assign_button = QPushButton("Assign", self)
        self.clear_button = QPushButton("No key", self)
        self.reset_button = QPushButton("Reset to defaults", self)
        self.message = QLabel(objectName="shortcutMessage", wordWrap=True)
        self.message.setText(ARROWS_NOTE)
        buttons = QDialogButtonBox(self)
        self.save_button = buttons.addButton("Save", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Close)

        edit_row = QHBoxLayout()
        edit_row.addWidget(QLabel("New key:"))
        edit_row.addWidget(self.key_edit, 1)
        edit_row.addWidget(self.assign_button)
        edit_row.addWidget(self.clear_button)
        edit_row.addStretch()
        edit_row.addWidget(self.reset_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(edit_row)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

        self.assign_button.clicked.connect(self._assign)
        self.clear_button.clicked.connect(self._clear)
        self.reset_button.clicked.connect(self._reset)
        self.key_edit.editingFinished.connect(self._assign)
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)
        self.table.currentCellChanged.connect(lambda *_: self.key_edit.clear())
        self.table.cellDoubleClicked.connect(lambda *_: self.capture_key())
        # Enter on a row captures its new key (not Save); Escape while capturing is a way
        # out (not a key for the action), and Escape on the list closes the sheet.
        self.table.installEventFilter(self)
        self.key_edit.installEventFilter(self)
        self.save_button.setAutoDefault(False)
        self._fill()
        self.table.setCurrentCell(0, 1)
        self.resize(620, 640)

    def capture_key(self) -> None:
        """Wait for the new key of the selected action in the key field."""
        label = ACTIONS[max(self.table.currentRow(), 0)].label
        self.key_edit.clear()
        self.key_edit.setFocus(Qt.FocusReason.OtherFocusReason)
        self._say(f"Press the new key for '{label}' (Escape: leave it as it is).")

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            plain = event.modifiers() in (
                Qt.KeyboardModifier.NoModifier,
                Qt.KeyboardModifier.KeypadModifier,
            )
            enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            if watched is self.table and enter and plain:
                self.capture_key()
                return True
            if watched is self.key_edit and event.key() == Qt.Key.Key_Escape and plain:
                self.key_edit.clear()
                self._say(ARROWS_NOTE)
                self.table.setFocus(Qt.FocusReason.OtherFocusReason)
                return True
        return super().eventFilter(watched, event)

    def _say(self, text: str, problem: bool = False) -> None:
        self.message.setText(text)
        self.message.setProperty("problem", problem)
        self.message.style().polish(self.message)

    def _fill(self) -> None:
        for row, spec in enumerate(ACTIONS):
            keys = native_text(self.keymap.keys(spec.name))
            for column, text in enumerate((spec.group, spec.label, keys)):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, spec.name)
                self.table.setItem(row, column, item)

    def current_action(self) -> str:
        """The action of the selected row."""
        return ACTIONS[max(self.table.currentRow(), 0)].name

    def select_action(self, name: str) -> None:
        """Select the row of ``name`` (tests and keyboard users)."""
        row = next(i for i, spec in enumerate(ACTIONS) if spec.name == name)
        self.table.setCurrentCell(row, 1)

    def keys_shown(self, name: str) -> str:
        """The keys column of an action, as the user reads it."""
        row = next(i for i, spec in enumerate(ACTIONS) if spec.name == name)
        return self.table.item(row, 2).text()

    def _set(self, text: str) -> None:
        action = self.current_action()
        try:
            self.keymap.set_keys(action, text)
        except KeymapError as exc:
            self._say(f"Not changed: {exc}", problem=True)
        else:
            shown = native_text(self.keymap.keys(action)) or "no key"
            label = ACTIONS[self.table.currentRow()].label
            self._say(f"'{label}' is now {shown}. Save to keep it.")
            self._fill()

    def _assign(self) -> None:
        sequence: QKeySequence = self.key_edit.keySequence()
        if sequence.isEmpty():
            return
        self._set(sequence.toString(PORTABLE))
        self.key_edit.clear()
        if self.key_edit.hasFocus():  # captured: back to the list, for another action
            self.table.setFocus(Qt.FocusReason.OtherFocusReason)

    def _clear(self) -> None:
        self._set("")

    def _reset(self) -> None:
        self.keymap = Keymap()
        self._fill()
        self._say("Every action has its default keys again. Save to keep them.")

    def _save(self) -> None:
        self.keymap_saved.emit(self.keymap.copy())
        self.accept()
