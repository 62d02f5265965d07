"""Start-up shared by the CLI and the window: read the settings, install the log handlers.

Imports nothing heavy: the CLI calls it before it knows which command runs.
"""

from __future__ import annotations

import logging
import sys
import tomllib
from pathlib import Path

from pydantic import ValidationError

from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.core.logging import setup_logging
from iamedic_desktop.core.settings import Settings, default_settings_file, get_settings

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
        problem = f"{field} (IAMEDIC_{field.upper()}): {error['msg']}"
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

    The CLI passes WARNING so a command's stdout (tables, JSON) is all a caller reads.
    """
    log_file = setup_logging(settings, console=True)
    for handler in logging.getLogger().handlers:
        # The console handler is the plain StreamHandler on stderr (file handlers subclass it).
        if type(handler) is logging.StreamHandler and handler.stream is sys.stderr:
            handler.setLevel(console_level)
    return log_file
