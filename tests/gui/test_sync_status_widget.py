"""The sync's labels in the status bar: what they say, and that they never widen the window."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from iamedic_desktop.sync.engine import SyncStatus
from iamedic_desktop.sync.runner import RunnerState
from iamedic_desktop.ui.status_bar_widget import StatusBarWidget
from iamedic_desktop.ui.sync_status_widget import SyncStatusWidget

pytestmark = pytest.mark.gui

AT = dt.datetime(2026, 3, 4, 13, 5, tzinfo=dt.UTC)


def _status(pending: int = 0, conflicts: int = 0) -> SyncStatus:
    return SyncStatus(pending, conflicts, AT, None, None, True)


def test_the_runner_and_the_status_read_are_shown(qtbot: QtBot) -> None:
    widget = SyncStatusWidget()
    qtbot.addWidget(widget)
    widget.show()
    widget.show_runner(RunnerState(online=True, running=True))
    assert (widget.state, widget.state_text) == ("syncing", "Syncing…")
    widget.show_runner(RunnerState(online=True))
    assert (widget.state, widget.state_text) == ("online", "Online")
    widget.show_status(_status(pending=3, conflicts=2))
    assert widget.pending_label.text() == "3 pending"
    assert widget.last_label.text() == f"Last sync {AT.astimezone():%H:%M}"
    assert widget.conflicts_button.isVisible() and widget.conflicts_button.text() == "2 conflicts"
    with qtbot.waitSignal(widget.conflicts_clicked):
        widget.conflicts_button.click()
    widget.show_runner(RunnerState(online=False, last_error="The sync stopped: no answer"))
    assert (widget.state, widget.state_text) == ("offline", "Offline")
    assert widget.state_label.toolTip() == "The sync stopped: no answer"
    widget.show_status(_status())
    assert not widget.conflicts_button.isVisible()


def test_a_narrow_status_bar_leaves_details_out_rather_than_widen_the_window(
    qtbot: QtBot,
) -> None:
    bar = StatusBarWidget()
    qtbot.addWidget(bar)
    sync = bar.sync_status
    sync.show_runner(RunnerState(online=True))
    sync.show_status(_status(pending=12, conflicts=1))
    bar.set_connection_state("signed_in", "Dr. Ada Lovelace-Byron")
    bar.resize(1200, 24)
    bar.show()
    qtbot.waitUntil(lambda: sync.last_label.isVisible())
    wide = sync.width()

    sync.show_off("no central database", "No central database is configured: ...")
    sync.show_status(_status(pending=12, conflicts=1))  # details back, conflicts too
    QApplication.processEvents()  # the status bar lays its widgets out again
    least = bar.minimumSizeHint().width()
    assert least < bar.sizeHint().width()  # the sync's labels can give way
    bar.resize(least, 24)
    QApplication.processEvents()

    assert bar.minimumSizeHint().width() == least  # giving way did not raise the minimum
    assert sync.width() < wide
    assert sync.conflicts_button.isVisible()  # what needs a person stays
    assert not sync.last_label.isVisible() and not sync.pending_label.isVisible()
    assert sync.state_label.text() == "Sync off"  # the reason in its tooltip and when wider
    assert sync.state_text == "Sync off: no central database"
    bar.resize(1200, 24)
    qtbot.waitUntil(lambda: sync.state_label.text() == "Sync off: no central database")
    assert sync.last_label.isVisible()
