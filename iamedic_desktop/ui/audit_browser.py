"""The central audit log in the window: who changed what, filtered, a page at a time, and the
hash chain checked.

Filters: the user (e-mail or id), the study (alias or id), the table, and a time range (an ISO
date or date and time, this computer's zone). Search lists the newest entries first, 100 a
page; Newer and Older page through. Verify chain recomputes the whole chain and says "Chain
intact: N entries checked" or names the first broken entry.

Threading: every read runs through ``run`` (an operation at the admin's target, see
``services/audit_query.py``); the widget reads its fields on the UI thread and only then starts it.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from iamedic_desktop.services.admin_target import AdminTarget
from iamedic_desktop.services.audit_query import (
    AuditPage,
    AuditQuery,
    ChainCheck,
    check_chain,
    fetch_page,
)
from iamedic_desktop.ui import theme
from iamedic_desktop.ui.audit_table_model import TABLE_WORDS, AuditTableModel
from iamedic_desktop.ui.operations import describe_failure

Run = Callable[[Callable[[AdminTarget], Any], Callable[[Any], None],
                Callable[[BaseException], None]], None]  # fmt: skip


def _moment(text: str, field: str) -> dt.datetime | None:
    """An ISO date or date and time (this computer's zone when none is given), or None."""
    if not text.strip():
        return None
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"The {field} time is not a date: write it as 2026-12-01 or 2026-12-01 08:30."
        ) from None
    return moment if moment.tzinfo else moment.astimezone()


class AuditBrowser(QWidget):
    """Filters, the entries' table with paging, and Verify chain."""

    listed = Signal()  # a page is shown, or the listing was refused
    verified = Signal(str)  # what the chain's check found

    def __init__(self, run: Run, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._run_at_target = run
        self._query = AuditQuery()
        self._more = False
        self.user_edit = self._edit("auditUser", "User: e-mail or id")
        self.study_edit = self._edit("auditStudy", "Study: alias or id")
        self.since_edit = self._edit("auditSince", "From: 2026-12-01")
        self.until_edit = self._edit("auditUntil", "Before: 2026-12-02")
        self.table_filter = QComboBox(self)
        self.table_filter.setObjectName("auditTable")
        self.table_filter.addItem("Any table", None)
        for name, words in TABLE_WORDS.items():
            self.table_filter.addItem(words, name)
        self.search_button = self._button("Search", "auditSearch", self.search)
        self.newer_button = self._button("◀ Newer", "auditNewer", lambda: self._turn(-1))
        self.older_button = self._button("Older ▶", "auditOlder", lambda: self._turn(1))
        self.verify_button = self._button("Verify chain", "auditVerify", self.verify)
        self.page_label = QLabel("", self)
        self.page_label.setObjectName("auditPage")
        self.result_label = QLabel("", self, wordWrap=True)
        self.result_label.setObjectName("auditResult")
        self.model = AuditTableModel(self)
        self.table = self._make_table()
        self._lay_out()
        self.table_filter.currentIndexChanged.connect(lambda _i: self.search())
        self._set_paging()

    def _edit(self, name: str, placeholder: str) -> QLineEdit:
        edit = QLineEdit(self, clearButtonEnabled=True)
        edit.setObjectName(name)
        edit.setPlaceholderText(placeholder)
        edit.installEventFilter(self)
        return edit

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Enter in a filter searches; left alone, the dialog would take it for Close.
        if event.type() == QEvent.Type.KeyPress and isinstance(watched, QLineEdit):
            assert isinstance(event, QKeyEvent)
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.search()
                return True
        return super().eventFilter(watched, event)

    def _button(self, text: str, name: str, slot: Callable[[], None]) -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(name)
        button.setAutoDefault(False)
        button.clicked.connect(lambda _checked=False: slot())
        return button

    def _make_table(self) -> QTableView:
        table = QTableView(self)
        table.setObjectName("auditEntries")
        table.setModel(self.model)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setAlternatingRowColors(True)
        table.verticalHeader().hide()
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        return table

    def _lay_out(self) -> None:
        filters = QHBoxLayout()
        for widget, stretch in ((self.user_edit, 3), (self.study_edit, 2),
                                (self.table_filter, 2), (self.since_edit, 2),
                                (self.until_edit, 2)):  # fmt: skip
            filters.addWidget(widget, stretch)
        filters.addWidget(self.search_button)
        paging = QHBoxLayout()
        paging.addWidget(self.newer_button)
        paging.addWidget(self.page_label)
        paging.addWidget(self.older_button)
        paging.addStretch(1)
        paging.addWidget(self.verify_button)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addLayout(paging)
        layout.addWidget(self.result_label)

    # --- listing ------------------------------------------------------------------------------

    def search(self) -> None:
        """List the newest entries the filters select."""
        try:
            query = AuditQuery(
                user=self.user_edit.text().strip() or None,
                study=self.study_edit.text().strip() or None,
                table=self.table_filter.currentData(),
                since=_moment(self.since_edit.text(), "From"),
                until=_moment(self.until_edit.text(), "Before"),
            )
        except ValueError as exc:
            self._say(str(exc), problem=True)
            self.listed.emit()
            return
        self._fetch(query)

    def _turn(self, direction: int) -> None:
        self._fetch(self._query.page(self._query.offset + direction * self._query.limit))

    def _fetch(self, query: AuditQuery) -> None:
        self._query = query
        self._set_busy(True)
        self._say("Reading the audit log…")
        self._run(functools.partial(fetch_page, query), self._shown, self._refused)

    def _shown(self, result: tuple[str, AuditPage]) -> None:
        page = result[1]
        if page.query != self._query:
            return  # a later search is on its way
        self._more = page.more
        self.model.set_page(page.entries, page.emails)
        self.table.resizeColumnsToContents()
        self._set_busy(False)
        count = len(page.entries)
        self._say("No entry matches these filters." if not count else "")
        self.listed.emit()

    def _refused(self, error: BaseException) -> None:
        # An old page under a refused search would read as its answer: empty it.
        self._more = False
        self.model.set_page([], {})
        self._set_busy(False)
        self._say(describe_failure(error), problem=True)
        self.listed.emit()

    # --- the chain ----------------------------------------------------------------------------

    def verify(self) -> None:
        """Recompute the whole chain; say whether it holds, or its first broken entry."""
        self.verify_button.setEnabled(False)
        self._say("Checking the chain…")
        self._run(check_chain, self._checked, self._check_failed)

    def _checked(self, result: tuple[str, ChainCheck]) -> None:
        check = result[1]
        self.verify_button.setEnabled(True)
        text = check.summary()
        self._say(text, problem=not check.result.ok, ok=check.result.ok)
        self.verified.emit(text)

    def _check_failed(self, error: BaseException) -> None:
        self.verify_button.setEnabled(True)
        text = f"Not checked: {describe_failure(error)}"
        self._say(text, problem=True)
        self.verified.emit(text)

    # --- plumbing -----------------------------------------------------------------------------

    def _run(
        self,
        work: Callable[[AdminTarget], Any],
        on_success: Callable[[Any], None],
        on_failure: Callable[[BaseException], None],
    ) -> None:
        def alive(callback: Callable[[Any], None]) -> Callable[[Any], None]:
            return lambda value: callback(value) if shiboken6.isValid(self) else None

        self._run_at_target(work, alive(on_success), alive(on_failure))

    def _set_busy(self, busy: bool) -> None:
        self.search_button.setEnabled(not busy)
        self._set_paging(busy)

    def _set_paging(self, busy: bool = False) -> None:
        offset = self._query.offset
        self.newer_button.setEnabled(not busy and offset > 0)
        self.older_button.setEnabled(not busy and self._more)
        shown = self.model.rowCount()
        self.page_label.setText(f"Entries {offset + 1}–{offset + shown}" if shown else "")

    def _say(self, text: str, *, problem: bool = False, ok: bool = False) -> None:
        self.result_label.setText(text)
        color = theme.ERROR if problem else theme.OK if ok else ""
        self.result_label.setStyleSheet(f"color: {color};" if color else "")
