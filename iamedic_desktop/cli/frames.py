"""``iamedic frames ...``: the stills of a video, and taking new ones."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from iamedic_desktop.cli.output import Column, print_json, print_table
from iamedic_desktop.cli.progress import ProgressBar, cancel_on_ctrl_c
from iamedic_desktop.cli.stores import local_store

if TYPE_CHECKING:
    from iamedic_desktop.core.settings import Settings

EXIT_CANCELLED = 130  # what a shell reports for Ctrl+C

FRAME_COLUMNS: list[Column] = [
    ("ID", lambda f: f.id),
    ("FRAME", lambda f: f.frame_index),  # derived from the timestamp; "-" while unknown
    ("TIME_S", lambda f: f"{f.timestamp_seconds:.3f}"),
    ("STILL", lambda f: f.frame_media_id),
    ("FILENAME", lambda f: f.still.filename),
    ("WIDTH", lambda f: f.width),
    ("HEIGHT", lambda f: f.height),
    ("ACTIVE", lambda f: f.is_active and f.still.is_active),
]


def _number(minimum: float, *, strict: bool, whole: bool) -> Callable[[str], Any]:
    def parse(text: str) -> int | float:
        try:
            value: int | float = int(text) if whole else float(text)
        except ValueError:
            kind = "a whole number" if whole else "a number"
            raise argparse.ArgumentTypeError(f"not {kind}: {text!r}") from None
        if not math.isfinite(value) or value < minimum or (strict and value == minimum):
            bound = f"more than {minimum:g}" if strict else f"{minimum:g} or more"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {text}")
        return value

    return parse


def add_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """Register the ``frames`` command group."""
    frames = commands.add_parser(
        "frames",
        help="list a video's stills and take new ones",
        description="Stills taken from a video (a frame media row plus a frames row). "
        "VIDEO and MEDIA are media ids.",
    )
    sub = frames.add_subparsers(dest="frames_command", metavar="COMMAND", required=True)

    listing = sub.add_parser("list", parents=[common], help="a video's stills in time order")
    listing.add_argument("video", metavar="VIDEO")
    listing.add_argument(
        "--include-deleted", action="store_true", help="also the soft-deleted stills"
    )
    listing.set_defaults(handler=list_command)

    extract = sub.add_parser(
        "extract",
        parents=[common],
        help="take stills from a video",
        description="Take one still (--at, --frame) or many (--every-frames, --every-seconds). "
        "A still already taken at the same time is reused. Ctrl+C stops after the current "
        "frame and keeps the stills made so far.",
    )
    extract.add_argument("media", metavar="MEDIA")
    how = extract.add_mutually_exclusive_group(required=True)
    how.add_argument(
        "--at",
        type=_number(0, strict=False, whole=False),
        metavar="SECONDS",
        help="the frame shown at this time (stored to the millisecond)",
    )
    how.add_argument(
        "--frame", type=_number(0, strict=False, whole=True), metavar="N", help="frame N (0-based)"
    )
    how.add_argument(
        "--every-frames",
        type=_number(1, strict=False, whole=True),
        metavar="N",
        help="frames 0, N, 2N, ...",
    )
    how.add_argument(
        "--every-seconds",
        type=_number(0, strict=True, whole=False),
        metavar="S",
        help="the frames shown at 0 s, S, 2S, ...",
    )
    extract.set_defaults(handler=extract_command)


def list_command(args: argparse.Namespace, settings: Settings) -> int:
    """Print a video's stills."""
    from iamedic_desktop.services.frames import list_frames

    with local_store(settings) as store:
        frames = list_frames(
            store.uow, store.actor, args.video, include_deleted=args.include_deleted
        )
    if args.json:
        items = [frame.model_dump(mode="json") for frame in frames]
        print_json({"total": len(items), "items": items})
    elif frames:
        print_table(frames, FRAME_COLUMNS)
        print(f"({len(frames)} stills)")
    else:
        print("(none)")
    return 0


def extract_command(args: argparse.Namespace, settings: Settings) -> int:
    """Take one still or many and print what was made."""
    from iamedic_desktop.core.progress import CancelToken
    from iamedic_desktop.services import extraction

    with local_store(settings) as store:
        context = (store.uow, store.actor, store.media, args.media)
        if args.at is not None or args.frame is not None:
            one = extraction.extract_frame(*context, at_seconds=args.at, frame_number=args.frame)
            if args.json:
                print_json(one)
            else:
                print(f"{'⚠️' if one.reactivated else '✅'} {one.message}")
                print_table([one.frame], FRAME_COLUMNS)
            return 0
        token = CancelToken()
        line = ProgressBar(sys.stderr)
        try:
            with cancel_on_ctrl_c(token, "frame"):
                if args.every_frames is not None:
                    batch = extraction.extract_every_frames(
                        *context, args.every_frames, progress=line, cancel=token
                    )
                else:
                    batch = extraction.extract_every_seconds(
                        *context, args.every_seconds, progress=line, cancel=token
                    )
        finally:
            line.end()
    if args.json:
        print_json(batch)
    else:
        print(f"{'⚠️' if batch.cancelled else '✅'} {batch.message}")
        if batch.stills:
            print_table([still.frame for still in batch.stills], FRAME_COLUMNS)
    return EXIT_CANCELLED if batch.cancelled else 0
