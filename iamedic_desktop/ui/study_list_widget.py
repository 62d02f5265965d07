"""The study list panel: the local user's studies, searched and paged off the UI thread."""

from __future__ import annotations

import logging
from typing import Any, Protocol

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from iamedic_desktop.ui.operations import OperationRunner
from iamedic_desktop.ui.study_table_model import StudyTableModel

log = logging.getLogger(__name__)

PAGE_SIZE = 100
SEARCH_DELAY_MS = 250


class StudySource(Protocol):
    """One page of studies (``services.studies.list_studies`` bound to a store and an actor)."""

    def __call__(self, *, search: str | None, offset: int, limit: int) -> Any: ...


class StudyListWidget(QWidget):
    """Lists studies newest first; a search reloads, scrolling fetches the next page."""

    studies_loaded = Signal(int)  # the listing's total, after each (re)load

    def __init__(self, runner: OperationRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._source: StudySource | None = None
        # Latest wins: a page from an older listing (the search changed since) is dropped.
        self._generation = 0

        self._title = QLabel("Studies", objectName="panelTitle")
        self._count = QLabel("", objectName="panelCount")
        self._search = QLineEdit(placeholderText="Search studies by alias", clearButtonEnabled=True)
        self._model = StudyTableModel(self)
        self._table = QTableView(self)
        self._table.setModel(self._model)
        self._table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self._table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self._table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self._table.setAlternatingRowColors(True)
        self._table.setShowGrid(False)
        self._table.verticalHeader().hide()
        header = self._table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self._empty = QLabel("", objectName="emptyState", alignment=Qt.AlignmentFlag.AlignCenter)
        self._empty.setWordWrap(True)
        self._empty.hide()

        title_row = QHBoxLayout()
        title_row.addWidget(self._title)
        title_row.addStretch(1)
        title_row.addWidget(self._count)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(title_row)
        layout.addWidget(self._search)
        layout.addWidget(self._table, 1)
        layout.addWidget(self._empty)

        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.reload)
        self._search.textChanged.connect(self._search_timer.start)
        self._model.fetch_requested.connect(self._fetch_page)

    @property
    def model(self) -> StudyTableModel:
        """The rows on show."""
        return self._model

    @property
    def search_box(self) -> QLineEdit:
        """The search field (reloads a moment after the last keystroke)."""
        return self._search

    def set_source(self, source: StudySource) -> None:
        """Where studies come from (set once the store is open); loads the first page."""
        self._source = source
        self.reload()

    def reload(self) -> None:
        """Load the first page again for the current search."""
        if self._source is None:
            return
        self._generation += 1
        generation = self._generation
        source = self._source
        search = self._search.text().strip() or None
        self._runner.run(
            lambda: source(search=search, offset=0, limit=PAGE_SIZE),
            on_success=lambda page: self._first_page_arrived(generation, page),
        )

    def _first_page_arrived(self, generation: int, page: Any) -> None:
        if generation != self._generation:
            return
        self._model.reset_rows(page.items, page.total)
        self._show_counts(page.total)
        log.info("✅ Showing %d of %d studies", len(page.items), page.total)
        self.studies_loaded.emit(page.total)

    def _fetch_page(self, offset: int) -> None:
        if self._source is None:
            return
        generation = self._generation
        source = self._source
        search = self._search.text().strip() or None
        self._runner.run(
            lambda: source(search=search, offset=offset, limit=PAGE_SIZE),
            on_success=lambda page: self._next_page_arrived(generation, page),
            on_failure=lambda _exc: self._next_page_failed(generation),
        )

    def _next_page_arrived(self, generation: int, page: Any) -> None:
        if generation == self._generation:
            self._model.append_page(page.items, page.total)

    def _next_page_failed(self, generation: int) -> None:
        if generation == self._generation:
            self._model.fetch_failed()

    def _show_counts(self, total: int) -> None:
        self._count.setText("1 study" if total == 1 else f"{total} studies")
        if total:
            self._empty.hide()
        elif self._search.text().strip():
            self._empty.setText("No study matches this search.")
            self._empty.show()
        else:
            self._empty.setText(
                "No studies yet. Create one from the command line: iamedic studies create ALIAS"
            )
            self._empty.show()
