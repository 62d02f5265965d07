"""Argument types and option sets shared by several commands."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def _count(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be {minimum} or more, got {value}")
        return value

    return parse


def add_paging(parser: argparse.ArgumentParser, *, limit: int, search_help: str) -> None:
    """``--search S --offset N --limit N`` for a listing."""
    parser.add_argument("--search", metavar="S", help=search_help)
    parser.add_argument(
        "--offset", type=_count(0), default=0, metavar="N", help="skip the first N (default 0)"
    )
    parser.add_argument(
        "--limit", type=_count(1), default=limit, metavar="N", help=f"show N at most ({limit})"
    )
