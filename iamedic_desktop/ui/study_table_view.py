"""The study table's view: rows of one height, no measuring of rows it does not show, and a
header menu (right click) to show or hide columns."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QMenu, QTableView, QWidget

from iamedic_desktop.ui.study_table_model import COLUMNS, StudyTableModel

CREATED_COLUMN = 1


class StudyTableView(QTableView):
    """Shows a ``StudyTableModel``; header clicks ask the model (hence the query) to sort.

    The alias is what a clinician looks for: in a narrow dock "Created" gives way to it (until
    the user shows or hides that column from the header menu), and comes back when there is room.
    """

    def __init__(self, model: StudyTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("studyTable")
        self.setModel(model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setAlternatingRowColors(True)
        vertical = self.verticalHeader()
        vertical.hide()
        # Fixed heights and no "resize to contents": the view never measures rows it does not
        # show, which would fetch their DTOs.
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        metrics = self.fontMetrics()
        date = metrics.horizontalAdvance("2026-11-26") + 24
        status = metrics.horizontalAdvance("Not annotated") + 16
        for column, size in ((1, date), (2, date), (3, 58), (4, status)):
            header.resizeSection(column, size)
        header.setMinimumSectionSize(40)
        # Newest first until the user clicks a header; the model asks for a new listing.
        header.setSortIndicator(1, Qt.SortOrder.DescendingOrder)
        header.setSortIndicatorShown(True)
        self.setSortingEnabled(True)
        # A narrow dock keeps the alias readable: "Updated" waits in the header's menu.
        header.setSectionHidden(2, True)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._column_menu)
        self._min_alias = metrics.horizontalAdvance("M" * 14)
        self._created_width = date
        self._created_by_user = False

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._created_by_user:
            return
        header = self.horizontalHeader()
        others = sum(
            header.sectionSize(c)
            for c in range(1, header.count())
            if c != CREATED_COLUMN and not header.isSectionHidden(c)
        )
        # A hidden section reads 0 wide: count the width the column takes when shown.
        room = self.viewport().width() - others - self._created_width
        header.setSectionHidden(CREATED_COLUMN, room < self._min_alias)

    def _column_menu(self, at: QPoint) -> None:
        header = self.horizontalHeader()
        menu = QMenu(self)
        for column in range(1, len(COLUMNS)):  # the alias always shows
            action = menu.addAction(COLUMNS[column][0])
            action.setCheckable(True)
            action.setChecked(not header.isSectionHidden(column))
            action.toggled.connect(lambda shown, c=column: self._choose(c, shown))
        menu.exec(header.mapToGlobal(at))

    def _choose(self, column: int, shown: bool) -> None:
        if column == CREATED_COLUMN:
            self._created_by_user = True
        self.horizontalHeader().setSectionHidden(column, not shown)
