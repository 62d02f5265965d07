"""The status bar: work in flight, an import's progress, the connection indicator."""

from __future__ import annotations

import threading

import pytest
from pytestqt.qtbot import QtBot

from iamedic_desktop.ui.status_bar_widget import ActivityRunner, StatusBarWidget

pytestmark = pytest.mark.gui


def _bar(qtbot: QtBot) -> StatusBarWidget:
    bar = StatusBarWidget()
    qtbot.addWidget(bar)
    bar.show()
    return bar


def test_work_in_flight_shows_a_busy_indicator_until_it_is_done(qtbot: QtBot) -> None:
    bar = _bar(qtbot)
    runner = ActivityRunner("Database", bar)
    bar.watch(runner)
    assert not bar.busy and not bar.progress_bar.isVisible()

    release = threading.Event()
    results: list[int] = []
    runner.run(lambda: release.wait(10) and 7, on_success=results.append)

    assert bar.busy and runner.in_flight == 1
    assert bar.operation_label.text() == "Database: 1 task"
    assert bar.progress_bar.isVisible() and bar.progress_bar.maximum() == 0  # busy, no end
    with qtbot.waitSignal(runner.activity_changed) as changed:
        release.set()
    assert changed.args == [0, "Database"]
    assert results == [7] and not bar.busy and not bar.progress_bar.isVisible()
    runner.shutdown()


def test_a_failure_ends_the_activity_and_still_reaches_the_failure_path(qtbot: QtBot) -> None:
    bar = _bar(qtbot)
    runner = ActivityRunner("Workers", bar, max_threads=2)
    bar.watch(runner)

    def broken() -> None:
        raise RuntimeError("decoder gone")

    with qtbot.waitSignal(runner.failed) as failed:
        runner.run(broken)
    assert "decoder gone" in failed.args[0]
    assert runner.in_flight == 0 and not bar.busy
    runner.shutdown()


def test_import_progress_shows_what_is_being_done(qtbot: QtBot) -> None:
    bar = _bar(qtbot)
    bar.set_progress(3, 10, "Importing scan_04.dcm")
    assert bar.operation_label.text() == "Importing scan_04.dcm"
    assert (bar.progress_bar.value(), bar.progress_bar.maximum()) == (3, 10)
    assert bar.busy
    bar.clear_progress()
    assert not bar.busy and not bar.operation_label.isVisible()


def test_connection_indicator_says_local_mode_and_takes_later_states(qtbot: QtBot) -> None:
    bar = _bar(qtbot)
    assert bar.connection_indicator.text() == "Local mode"
    bar.set_connection_state("local", "Local clinician")
    assert bar.connection_indicator.text() == "Local mode · Local clinician"
    bar.set_connection_state("offline", "db.example.org unreachable since 10:02")
    assert bar.connection_indicator.text().startswith("Central unreachable · db.example.org")
    assert bar.connection_indicator.property("state") == "offline"
    assert bar.connection_state == ("offline", "db.example.org unreachable since 10:02")
    with pytest.raises(ValueError, match="unknown connection state"):
        bar.set_connection_state("maybe", "")


def test_passing_messages_show_on_the_left(qtbot: QtBot) -> None:
    bar = _bar(qtbot)
    bar.show_notice("Saved", 0)
    assert bar.currentMessage() == "Saved"


def test_drain_waits_for_chained_work_before_the_window_closes(qtbot: QtBot) -> None:
    bar = _bar(qtbot)
    runner = ActivityRunner("Saving", bar)
    written: list[str] = []

    def then_save(_: object) -> None:
        runner.run(lambda: written.append("box"))  # queued by a callback, like an autosave

    runner.run(lambda: written.append("still"), on_success=then_save)
    assert runner.drain(10.0)
    assert written == ["still", "box"] and runner.is_idle()
    runner.shutdown()


def test_a_long_job_text_never_widens_the_window(qtbot: QtBot) -> None:
    """A job's text (a model file's name, a long study alias) is elided, with the whole of it
    on hover: the status bar's minimum width stays put, so the window never outgrows 1280 px."""
    from iamedic_desktop.ui.model_notice_widget import ModelNoticeWidget

    bar = StatusBarWidget()
    qtbot.addWidget(bar)
    notice = ModelNoticeWidget(bar)
    bar.addPermanentWidget(notice)
    bar.show()
    before = bar.minimumSizeHint().width()
    long = "Pulling frame_classifier_224x224 - 12: " + "x" * 400
    bar.set_progress(1, 10, long, cancel=lambda: None)
    notice.offer("fetal_structures_bb_regressor_224x224 v12 is the new champion " + "y" * 300)
    qtbot.waitUntil(bar.operation_label.isVisible)
    assert bar.operation_label.text() == long
    assert bar.minimumSizeHint().width() <= before + 2 * 380 + 200
    assert bar.sizeHint().width() < 1280
