"""The ``iamedic`` command: no arguments opens the window; subcommands work headless.

Imports stay light here: ``iamedic --help`` and ``--version`` load neither Qt nor SQLAlchemy;
each command imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from iamedic_desktop import __version__
from iamedic_desktop.cli import (
    audit,
    auth,
    db,
    doctors,
    export,
    frames,
    media,
    models,
    predict,
    stats,
    studies,
    sync,
    users,
)
from iamedic_desktop.cli.annotations import add_parsers as add_annotation_parsers
from iamedic_desktop.core.errors import IamedicError, InvalidInputError

if TYPE_CHECKING:
    from iamedic_desktop.core.settings import Settings

log = logging.getLogger(__name__)

EXIT_BROKEN_PIPE = 141  # what a shell reports for a writer ended by SIGPIPE


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree."""
    parser = argparse.ArgumentParser(
        prog="iamedic",
        description="IAMEDIC Workstation: fetal-ultrasound review at the desk. Without a "
        "command, opens the window.",
    )
    parser.add_argument("--version", action="version", version=f"iamedic {__version__}")
    parser.set_defaults(handler=None)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print JSON instead of a table")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    db.add_parsers(commands, common)
    auth.add_parsers(commands, common)
    users.add_parsers(commands, common)
    doctors.add_parsers(commands, common)
    studies.add_parsers(commands, common)
    media.add_parsers(commands, common)
    frames.add_parsers(commands, common)
    add_annotation_parsers(commands, common)  # `annotations` is the __future__ name here
    sync.add_parsers(commands, common)
    audit.add_parsers(commands, common)
    models.add_parsers(commands, common)
    predict.add_parsers(commands, common)
    export.add_parsers(commands, common)
    stats.add_parsers(commands, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 failure, 2 usage error).

    The one place where every failure becomes one line on stderr, never a traceback.
    """
    args = build_parser().parse_args(argv)
    # Late imports: pydantic-settings and logging set-up are not needed for --help.
    from iamedic_desktop.app import configure_logging, load_settings

    logging_ready = False
    try:
        settings = load_settings()
        if args.handler is None:
            configure_logging(settings)
            logging_ready = True
            return _open_window(settings)
        configure_logging(settings, console_level=logging.WARNING)
        logging_ready = True
        code: int = args.handler(args, settings)
        # Written out here, so a reader that has gone away is noticed in this try.
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        # The reader stopped early (``| head``): end quietly, as other command-line tools do.
        _discard_stdout()
        return EXIT_BROKEN_PIPE
    except IamedicError as exc:
        log.info("❌ %s", exc.message)
        print(f"❌ {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("❌ Interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        # A defect, not a user error: the traceback goes to the log file, a line to the user.
        if logging_ready:
            log.exception("❌ Unexpected error")
        print(f"❌ Unexpected error: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return 1


def _discard_stdout() -> None:
    """Point stdout at devnull, so the flush at exit does not fail on the closed pipe again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # a stdout with no file behind it (a test's capture)
        pass
    finally:
        os.close(devnull)


def _open_window(settings: Settings) -> int:
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY")
        or os.environ.get("WAYLAND_DISPLAY")
        or os.environ.get("QT_QPA_PLATFORM")
    ):
        raise InvalidInputError(
            "No display to open the window on: run it inside a desktop session, under "
            "`xvfb-run -a iamedic`, or use a subcommand (iamedic --help)."
        )
    from iamedic_desktop.ui.app import run_gui

    return run_gui(settings)
