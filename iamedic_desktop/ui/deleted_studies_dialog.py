"""The Deleted studies dialog: the user's soft-deleted studies (alias, when, media) and Restore.

The listing and each restore run on the database runner (no I/O on the UI thread); a restore
emits ``restored`` with the study as it now stands, so the study browser lists it again, and
the dialog reads its list anew and stays open for another. A failure is shown in the dialog
(and takes the runner's notification path).
"""

from __future__ import annotations

import functools
import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from iamedic_desktop.schemas.common import Page
from iamedic_desktop.schemas.studies import RestoredStudyDTO, StudyDTO
from iamedic_desktop.services.local_store import LocalStore
from iamedic_desktop.services.studies import list_deleted_studies, restore_study
from iamedic_desktop.services.validation import MAX_PAGE_SIZE
from iamedic_desktop.ui import theme
from iamedic_desktop.ui.operations import OperationRunner, describe_failure

log = logging.getLogger(__name__)

COLUMNS = ("Alias", "Deleted", "Media")


class DeletedStudiesDialog(QDialog):
    """Lists the user's deleted studies, the latest deleted first; Restore brings one back."""

    restored = Signal(object)  # StudyDTO: active again
    loaded = Signal(int)  # the number of deleted studies, once listed

    def __init__(
        self, database: OperationRunner, store: LocalStore, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Deleted studies")
        self._database = database
        self._store = store
        self._studies: list[StudyDTO] = []
        self._busy = False
        self._restoring = False  # a running restore finishes first; its outcome is shown
        self._closed = False  # a closed dialog (deleted on close) ignores a late listing

        intro = QLabel(
            "Studies you deleted, with their media, stills and annotations as they were. "
            "A restored study is back in your study list.",
            wordWrap=True,
        )
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self._message = QLabel("", wordWrap=True)
        self._message.setObjectName("dialogMessage")
        self._message.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.restore_button = QPushButton("Restore")
        self.restore_button.setToolTip("Bring the selected study back into your study list")
        buttons.addButton(self.restore_button, QDialogButtonBox.ButtonRole.ActionRole)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        if close is not None:
            close.setAutoDefault(False)
        # Enter in the list restores the selected study (the dialog's default button).
        self.restore_button.setDefault(True)
        self.restore_button.clicked.connect(self.restore_selected)
        buttons.rejected.connect(self.reject)
        self.table.itemSelectionChanged.connect(self._update_buttons)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self._message)
        layout.addWidget(buttons)
        self.resize(520, 360)
        self._update_buttons()
        self.reload()

    @property
    def message_text(self) -> str:
        """What the dialog says under the list ("" when nothing)."""
        return self._message.text() if not self._message.isHidden() else ""

    def reload(self) -> None:
        """Read the deleted studies again."""
        self._set_busy(True)
        self._database.run(
            functools.partial(
                list_deleted_studies, self._store.uow, self._store.actor, limit=MAX_PAGE_SIZE
            ),
            on_success=self._loaded,
            on_failure=self._failed,
        )

    def selected_study(self) -> StudyDTO | None:
        """The study whose row is selected."""
        rows = self.table.selectionModel().selectedRows()
        return self._studies[rows[0].row()] if rows else None

    def restore_selected(self) -> None:
        """Restore the selected study off the UI thread."""
        study = self.selected_study()
        if study is None or self._busy:
            return
        self._set_busy(True)
        self._restoring = True
        self._database.run(
            functools.partial(restore_study, self._store.uow, self._store.actor, str(study.id)),
            on_success=self._restored,
            on_failure=self._failed,
        )

    def reject(self) -> None:
        if not self._restoring:
            super().reject()

    def done(self, result: int) -> None:
        self._closed = True
        super().done(result)

    def _loaded(self, page: Page[StudyDTO]) -> None:
        if self._closed:
            return
        self._studies = list(page.items)
        self.table.setRowCount(len(self._studies))
        for row, study in enumerate(self._studies):
            when = study.updated_at.astimezone().strftime("%Y-%m-%d %H:%M")
            for column, text in enumerate((study.alias, when, str(study.media_count))):
                item = QTableWidgetItem(text)
                if column == 2:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(row, column, item)
        if self._studies:
            self.table.selectRow(0)
        elif not self.message_text:
            self._say("You have no deleted studies.")
        if page.total > len(self._studies):
            self._say(f"The {len(self._studies):,} latest of {page.total:,} deleted studies.")
        self._set_busy(False)
        self.loaded.emit(len(self._studies))

    def _restored(self, result: RestoredStudyDTO) -> None:
        self._restoring = False
        if result.restored:
            log.info("✅ %s", result.message)
            self.restored.emit(result.study)
        self._say(result.message)
        self.reload()

    def _failed(self, error: BaseException) -> None:
        self._restoring = False
        if self._closed:
            return
        self._set_busy(False)
        self._say(describe_failure(error), error=True)

    def _say(self, text: str, *, error: bool = False) -> None:
        self._message.setStyleSheet(f"color: {theme.ERROR};" if error else "")
        self._message.setText(text)
        self._message.show()

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.restore_button.setEnabled(not self._busy and self.selected_study() is not None)
