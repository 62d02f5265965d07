"""Messages the window shows carry no emoji (they would be empty boxes without an emoji font),
and the emoji font the set-up installs is one Qt finds."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator

import pytest
from PySide6.QtGui import QFontDatabase
from pytestqt.qtbot import QtBot

from iamedic_desktop.core.display_text import has_emoji
from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.ui.operations import OperationRunner

pytestmark = pytest.mark.gui

EMOJI_FONT = "Noto Color Emoji"  # fonts-noto-color-emoji, in .ci/dev's APT_PACKAGES


@pytest.fixture
def runner(qtbot: QtBot) -> Iterator[OperationRunner]:
    made = OperationRunner(max_threads=1)
    yield made
    qtbot.waitUntil(made.is_idle, timeout=10_000)
    made.shutdown()


def _fail(error: BaseException) -> None:
    raise error


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (
            InvalidInputError("❌ The file is damaged.\n⚠️ Nothing was stored."),
            "The file is damaged.\nNothing was stored.",
        ),
        (RuntimeError("🔄 sync stopped"), "Unexpected error: RuntimeError: sync stopped"),
    ],
)
def test_a_failure_reaches_the_window_without_emoji(
    qtbot: QtBot, runner: OperationRunner, error: BaseException, shown: str
) -> None:
    failures: list[BaseException] = []
    with qtbot.waitSignal(runner.failed, timeout=10_000) as failed:
        runner.run(lambda: _fail(error), on_failure=failures.append)
    assert failed.args[0] == shown
    assert not has_emoji(failed.args[0])
    assert failures == [error]  # the exception itself is untouched (the log keeps its text)


def _installed() -> bool:
    if shutil.which("fc-list") is None:
        return False
    found = subprocess.run(["fc-list", f":family={EMOJI_FONT}"], capture_output=True, text=True)
    return bool(found.stdout.strip())


@pytest.mark.skipif(not _installed(), reason=f"{EMOJI_FONT} is not installed (bash .ci/dev)")
def test_the_installed_emoji_font_is_found_by_qt(qtbot: QtBot) -> None:
    assert EMOJI_FONT in QFontDatabase.families()
