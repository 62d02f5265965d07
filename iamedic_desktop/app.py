"""Start-up shared by the CLI and the window: read the settings, install the log handlers.

Imports nothing heavy: the CLI calls it before it knows which command runs.
"""

from __future__ import annotations

import logging
import sys
import tomllib
from pathlib import Path

from pydantic import ValidationError

from iamedic_desktop.core.errors import InvalidInputError, StorageError
from iamedic_desktop.core.logging import LOG_FILE_NAME, LOG_FORMAT, setup_logging
from iamedic_desktop.core.settings import (
    Settings,
    default_settings_file,
    get_settings,
    make_folder,
)

# Fields whose value may carry something private (a URL with a password): never echoed back.
_UNECHOED_FIELDS = ("url",)


def load_settings() -> Settings:
    """The process-wide settings; a bad value becomes an error that names where to fix it."""
    try:
        return get_settings()
    except ValidationError as exc:
        raise InvalidInputError(_describe_invalid_settings(exc)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInputError(
            f"The settings file {default_settings_file()} is not valid TOML: {exc}."
        ) from exc


def _describe_invalid_settings(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "settings"
        # A validator's own message reads as written, without pydantic's "Value error, ".
        reason = error.get("ctx", {}).get("error") if error["type"] == "value_error" else None
        message = str(reason) if reason is not None else error["msg"]
        problem = f"{field} (IAMEDIC_{field.upper()}): {message.rstrip('.')}"
        if "input" in error and not any(word in field for word in _UNECHOED_FIELDS):
            problem += f", got {error['input']!r}"
        problems.append(problem)
    return (
        "Invalid settings: "
        + "; ".join(problems)
        + f". Check the IAMEDIC_* environment variables, .env and {default_settings_file()}."
    )


def configure_logging(settings: Settings, *, console_level: int = logging.INFO) -> Path:
    """Log to the rotating file at the settings' level and to stderr at ``console_level``.

    The CLI passes WARNING so a command's stdout (tables, JSON) is all a caller reads. Tracebacks
    go to the file only: a person at the console reads one line per message.
    """
    make_folder(settings.log_dir)
    try:
        log_file = setup_logging(settings, console=True)
    except OSError as exc:
        raise StorageError(
            f"The log file {settings.log_dir / LOG_FILE_NAME} cannot be written: "
            f"{exc.strerror or exc}."
        ) from exc
    for handler in logging.getLogger().handlers:
        # The console handler is the plain StreamHandler on stderr (file handlers subclass it).
        if type(handler) is logging.StreamHandler and handler.stream is sys.stderr:
            handler.setLevel(console_level)
            handler.setFormatter(_OneLineFormatter(LOG_FORMAT))
    return log_file


class _OneLineFormatter(logging.Formatter):
    """The record's message without its traceback or stack (the log file keeps those)."""

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text, record.stack_info
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        try:
            return super().format(record)
        finally:
            record.exc_info, record.exc_text, record.stack_info = saved
