"""The log file rotates, keeps emoji intact, and the CLI's console shows warnings only."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from iamedic_desktop.app import configure_logging
from iamedic_desktop.core.logging import LOG_FILE_NAME, setup_logging
from iamedic_desktop.core.settings import Settings


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    """Handlers installed by a test are closed and removed; the root level comes back."""
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in before:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def test_the_file_rotates_and_keeps_the_configured_backups() -> None:
    settings = Settings(log_max_bytes=64 * 1024, log_backups=2)
    log_file = setup_logging(settings, console=False)
    log = logging.getLogger("iamedic_desktop.test")

    line = "🔄 sync pushed a row " + "x" * 200
    for _ in range(1_500):  # about 5 files' worth
        log.info(line)

    assert log_file == settings.log_dir / LOG_FILE_NAME
    names = sorted(p.name for p in settings.log_dir.iterdir())
    assert names == [LOG_FILE_NAME, f"{LOG_FILE_NAME}.1", f"{LOG_FILE_NAME}.2"]
    for path in settings.log_dir.iterdir():
        assert path.stat().st_size <= 64 * 1024


def test_emoji_prefixes_are_written_as_utf8() -> None:
    settings = Settings()
    log_file = setup_logging(settings, console=False)
    logging.getLogger("iamedic_desktop.test").warning("⚠️ Étude « NT 12w » 🚀 ✅ ❌")
    for handler in logging.getLogger().handlers:
        handler.flush()

    text = log_file.read_bytes().decode("utf-8")  # strict: fails on anything not UTF-8
    assert "WARNING iamedic_desktop.test: ⚠️ Étude « NT 12w » 🚀 ✅ ❌" in text


def test_the_cli_console_shows_warnings_only(capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings()
    log_file = configure_logging(settings, console_level=logging.WARNING)
    log = logging.getLogger("iamedic_desktop.test")

    log.info("🔧 routine detail")
    log.warning("⚠️ something to see")
    for handler in logging.getLogger().handlers:
        handler.flush()

    captured = capsys.readouterr()
    assert "something to see" in captured.err
    assert "routine detail" not in captured.err
    assert captured.out == ""  # stdout stays for tables and JSON
    assert "routine detail" in log_file.read_text(encoding="utf-8")


def test_a_log_file_that_cannot_be_written_says_so_once_without_a_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    log_file = setup_logging(Settings(), console=False)
    handler = next(
        h for h in logging.getLogger().handlers if getattr(h, "baseFilename", "") == str(log_file)
    )

    def full(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    handler.shouldRollover = full  # type: ignore[method-assign]  # every write hits a full disk
    log = logging.getLogger("iamedic_desktop.test")
    for _ in range(3):
        log.warning("⚠️ something worth a line")

    err = capsys.readouterr().err
    assert "Traceback" not in err and "Logging error" not in err
    assert err.count("⚠️ The log file could not be written") == 1, err
    assert "No space left on device" in err


def test_names_a_message_quotes_are_not_written_to_the_log_file() -> None:
    """A file or study named after a patient reaches messages ('DOE_JANE.mp4' could not be
    decoded); the log file keeps the line and its traceback, never the quoted name."""
    from iamedic_desktop.core.errors import InvalidInputError

    settings = Settings()
    log_file = setup_logging(settings, console=False)
    log = logging.getLogger("iamedic_desktop.test")
    error = InvalidInputError("'DOE_JANE_1987.mp4' could not be decoded.")
    try:
        raise error
    except InvalidInputError:
        log.exception("❌ %s", error.message)
    log.warning("⚠️ Import refused: %s", error)
    log.info("✅ '%s' box added to media %s", "NT", 12)  # the template's own words stay
    log.error("❌ %s", "The doctor's label of 'SMITH_ANN.mp4' could not be removed.")
    log.error("❌ %s", "'O'BRIEN_KATE.png' and 'LEE_MAY.png' are not in the study's list.")
    for handler in logging.getLogger().handlers:
        handler.flush()

    text = log_file.read_text(encoding="utf-8")
    assert "DOE_JANE" not in text
    assert "❌ '…' could not be decoded." in text
    assert "⚠️ Import refused: '…' could not be decoded." in text
    assert "InvalidInputError: '…' could not be decoded." in text  # the traceback's last line
    assert "✅ 'NT' box added to media 12" in text
    assert "SMITH" not in text and "BRIEN" not in text and "LEE_MAY" not in text
    assert "❌ The doctor's label of '…' could not be removed." in text  # an apostrophe is no quote
    assert "❌ '…' and '…' are not in the study's list." in text
