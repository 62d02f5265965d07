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
from iamedic_desktop.cli import db, frames, media, studies, users
from iamedic_desktop.core.errors import IamedicError, InvalidInputError

if TYPE_CHECKING:
    from iamedic_desktop.core.settings import Settings

log = logging.getLogger(__name__)


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
    users.add_parsers(commands, common)
    studies.add_parsers(commands, common)
    media.add_parsers(commands, common)
    frames.add_parsers(commands, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 failure, 2 usage error)."""
    args = build_parser().parse_args(argv)
    # Late imports: pydantic-settings and logging set-up are not needed for --help.
    from iamedic_desktop.app import configure_logging, load_settings

    try:
        settings = load_settings()
        if args.handler is None:
            configure_logging(settings)
            return _open_window(settings)
        configure_logging(settings, console_level=logging.WARNING)
        code: int = args.handler(args, settings)
        return code
    except IamedicError as exc:
        log.info("❌ %s", exc.message)
        print(f"❌ {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("❌ Interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        # A defect, not a user error: the traceback goes to the log file, a line to the user.
        log.exception("❌ Unexpected error")
        print(f"❌ Unexpected error: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return 1


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
