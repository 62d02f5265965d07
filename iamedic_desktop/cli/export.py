"""`iamedic export`: filled in by its own module's work."""

from __future__ import annotations

import argparse


def add_parsers(commands: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Register the `export` command (nothing yet)."""
