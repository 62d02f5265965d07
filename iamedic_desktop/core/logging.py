"""Logging to the console and a rotating file, with the seed system's emoji prefixes.

Operators grep these prefixes: 🚀 start-up, 🔧 configuration and maintenance, ✅ success,
⚠️ warning, ❌ error, 🔄 sync. Messages carry them at the start, as the seed system writes them.

What a line quotes from its data is not written to the file: a user-facing message logged as it
is ("'x.mp4' could not be decoded"), an error's text or its traceback may name a file or a study
after the patient, so every quoted span in a record's arguments and traceback is written '…'.
The line's own words stay (``"'%s' box added"`` keeps its class: the argument has no quotes).
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import re
import sys
from pathlib import Path
from typing import Any

from iamedic_desktop.core.settings import Settings

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
LOG_FILE_NAME = "iamedic.log"

_HANDLER_MARK = "_iamedic_handler"
# A quote opens where no letter comes before it and closes where none comes after: the
# apostrophe of "the doctor's" is no quote, and one inside a name ('O'Brien.mp4') stays in it.
_QUOTED = re.compile(r"(?<!\w)'.*?'(?!\w)")
_REDACTED = "'…'"


def _redact(text: str) -> str:
    """``text`` with every span in single quotes written ``'…'``."""
    return _QUOTED.sub(_REDACTED, text) if "'" in text else text


def _redacted(arg: Any) -> Any:
    if isinstance(arg, str | BaseException):
        return _redact(str(arg))
    return arg


class _FileFormatter(logging.Formatter):
    """The log file's lines: quoted names in arguments and tracebacks written ``'…'``."""

    def format(self, record: logging.LogRecord) -> str:
        args, exc_text = record.args, record.exc_text
        if isinstance(args, tuple):
            record.args = tuple(_redacted(arg) for arg in args)
        elif isinstance(args, dict):
            record.args = {key: _redacted(arg) for key, arg in args.items()}
        record.exc_text = None  # another handler's cached traceback is not redacted
        try:
            return super().format(record)
        finally:
            record.args, record.exc_text = args, exc_text

    def formatException(self, ei: Any) -> str:
        return _redact(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return _redact(super().formatStack(stack_info))


class _LogFile(logging.handlers.RotatingFileHandler):
    """The rotating log file. A record it cannot write (a full disk, a folder gone) is dropped
    and said once on the console in one line, never as logging's own traceback."""

    _said = False

    def handleError(self, record: logging.LogRecord) -> None:
        if self._said:
            return
        self._said = True
        error = sys.exc_info()[1]
        reason = getattr(error, "strerror", None) or error
        with contextlib.suppress(OSError, ValueError):  # no console either: nothing more to do
            text = f"⚠️ The log file could not be written ({reason}); later lines may be missing."
            sys.stderr.write(text + "\n")


def setup_logging(settings: Settings, *, console: bool = True) -> Path:
    """Install the console and rotating-file handlers once; returns the log file's path.

    Calling it again (another settings object in tests) replaces the handlers it installed.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            root.removeHandler(handler)
            handler.close()
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    log_file = settings.log_dir / LOG_FILE_NAME
    formatter = logging.Formatter(LOG_FORMAT)
    file_handler = _LogFile(
        log_file,
        maxBytes=settings.log_max_bytes,
        backupCount=settings.log_backups,
        encoding="utf-8",
    )
    file_handler.setFormatter(_FileFormatter(LOG_FORMAT))
    handlers: list[logging.Handler] = [file_handler]
    if console:
        stream = logging.StreamHandler(sys.stderr)
        stream.setFormatter(formatter)
        handlers.append(stream)
    for handler in handlers:
        setattr(handler, _HANDLER_MARK, True)
        root.addHandler(handler)
    root.setLevel(settings.log_level)
    # Third-party chatter stays out of the operator's log unless asked for.
    for noisy in ("alembic", "sqlalchemy.engine", "httpx", "urllib3"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    return log_file
