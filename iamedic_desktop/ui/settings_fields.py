"""One tab of the settings dialog: labelled fields, each with its reason shown beside it."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from iamedic_desktop.ui import theme


class SettingsFieldsTab(QWidget):
    """A form of named fields; ``values`` reads them, ``show_errors`` writes the reasons."""

    edited = Signal()  # a field was changed by hand: its reason, if any, no longer holds

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = QFormLayout(self)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.fields: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}

    def add_field(
        self, name: str, label: str, widget: QWidget, *, extra: QWidget | None = None
    ) -> QWidget:
        """Add a row: the field (and a button beside it), and its hidden error line below."""
        widget.setObjectName(name)
        error = QLabel(self, wordWrap=True)
        error.setObjectName(f"{name}_error")
        error.setStyleSheet(f"color: {theme.ERROR};")
        error.hide()
        row = QWidget(self)
        line = QHBoxLayout()
        line.setContentsMargins(0, 0, 0, 0)
        line.addWidget(widget, 1)
        if extra is not None:
            line.addWidget(extra)
        column = QVBoxLayout(row)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addLayout(line)
        column.addWidget(error)
        caption = QLabel(label, self)
        caption.setBuddy(widget)
        self.form.addRow(caption, row)
        self.fields[name] = widget
        self.errors[name] = error
        if isinstance(widget, QLineEdit):
            widget.textEdited.connect(lambda _text: self._edited(error))
        elif isinstance(widget, QComboBox):
            widget.activated.connect(lambda _index: self._edited(error))
        return widget

    def _edited(self, error: QLabel) -> None:
        error.hide()
        self.edited.emit()

    def add_note(self, text: str) -> QLabel:
        """A line of explanation under the fields above it."""
        note = QLabel(text, self, wordWrap=True)
        note.setStyleSheet(f"color: {theme.MUTED};")
        self.form.addRow(note)
        return note

    def line(
        self, name: str, label: str, value: object, *, placeholder: str = "", hidden: bool = False
    ) -> QLineEdit:
        """Add a one-line text field holding ``value`` (``hidden``: typed as dots)."""
        edit = QLineEdit("" if value is None else str(value), self)
        edit.setPlaceholderText(placeholder)
        if hidden:
            edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.add_field(name, label, edit)
        return edit

    def choice(
        self, name: str, label: str, options: list[tuple[str, str]], value: str
    ) -> QComboBox:
        """Add a list of (shown text, stored value) options, ``value`` selected."""
        combo = QComboBox(self)
        for text, data in options:
            combo.addItem(text, data)
        combo.setCurrentIndex(max(combo.findData(value), 0))
        self.add_field(name, label, combo)
        return combo

    def path_field(self, name: str, label: str, value: str, *, folder: bool) -> QLineEdit:
        """Add a path field with a Browse… button (a folder or a file)."""
        edit = QLineEdit(value, self)
        browse = QPushButton("Browse…", self)
        browse.setObjectName(f"{name}_browse")

        def pick() -> None:
            if folder:
                chosen = QFileDialog.getExistingDirectory(self, label, edit.text())
            else:
                chosen, _ = QFileDialog.getOpenFileName(self, label, edit.text())
            if chosen:
                edit.setText(chosen)

        browse.clicked.connect(pick)
        self.add_field(name, label, edit, extra=browse)
        return edit

    def values(self) -> dict[str, Any]:
        """Every field as typed (text) or chosen (the option's stored value)."""
        result: dict[str, Any] = {}
        for name, widget in self.fields.items():
            if isinstance(widget, QComboBox):
                result[name] = widget.currentData()
            elif isinstance(widget, QLineEdit):
                result[name] = widget.text()
        return result

    def show_errors(self, errors: dict[str, str]) -> str | None:
        """Show each reason beside its field, clear the others; the first refused field."""
        first = None
        for name, label in self.errors.items():
            reason = errors.get(name, "")
            label.setText(reason)
            label.setVisible(bool(reason))
            if reason and first is None:
                first = name
        return first

    def focus_field(self, name: str) -> None:
        """Put the cursor in ``name`` (the first refused field after Save)."""
        self.fields[name].setFocus(Qt.FocusReason.OtherFocusReason)
