"""``iamedic frames ...``: the stills of a video, taking new ones, and automatic frames."""

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


RUN_COLUMNS: list[Column] = [
    ("START", lambda r: r.start),
    ("END", lambda r: r.end),
    ("BEST_FRAME", lambda r: r.best_index),
    ("BEST_SCORE", lambda r: f"{r.best_score:.4f}"),
    ("TIME_S", lambda r: f"{r.best_timestamp_seconds:.3f}"),
    ("STILL", lambda r: r.extracted),
]


def _number(
    minimum: float, *, strict: bool, whole: bool, maximum: float | None = None
) -> Callable[[str], Any]:
    def parse(text: str) -> int | float:
        try:
            value: int | float = int(text) if whole else float(text)
        except ValueError:
            kind = "a whole number" if whole else "a number"
            raise argparse.ArgumentTypeError(f"not {kind}: {text!r}") from None
        if not math.isfinite(value) or value < minimum or (strict and value == minimum):
            bound = f"more than {minimum:g}" if strict else f"{minimum:g} or more"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {text}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"must be {maximum:g} or less, got {text}")
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
    _add_auto_parser(sub, common)


def _add_auto_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    from iamedic_desktop.media.runs import RunsParams  # pure and small: the defaults

    defaults = RunsParams()
    probability = _number(0, strict=False, whole=False, maximum=1)
    auto = sub.add_parser(
        "auto",
        parents=[common],
        help="score every frame of a video and take the best frame of each run as a still",
        description="The classifier in use scores every frame of the video (the scores stored "
        "before for that model version are reused); each run of frames scoring at least the "
        "run threshold, with patience for short dips, gives its best frame as a still with its "
        "prediction when that frame scores at least the prediction threshold. The classifier "
        "comes from `iamedic models pull` (or the web's service with HTTP inference). Ctrl+C "
        "while scoring stores nothing; while taking stills, keeps the stills made.",
    )
    auto.add_argument("media", metavar="MEDIA")
    auto.add_argument(
        "--run-threshold",
        type=probability,
        default=defaults.run_threshold,
        metavar="P",
        help=f"a run is made of frames scoring at least this (default {defaults.run_threshold})",
    )
    auto.add_argument(
        "--min-run-length",
        type=_number(1, strict=False, whole=True),
        default=defaults.min_run_length,
        metavar="N",
        help=f"shorter runs are dropped (default {defaults.min_run_length} frames)",
    )
    auto.add_argument(
        "--prediction-threshold",
        type=probability,
        default=defaults.prediction_threshold,
        metavar="P",
        help="a run's best frame becomes a still when it scores at least this "
        f"(default {defaults.prediction_threshold})",
    )
    auto.add_argument(
        "--patience",
        type=_number(0, strict=False, whole=True),
        default=defaults.patience,
        metavar="N",
        help=f"frames below the threshold a run survives (default {defaults.patience})",
    )
    auto.set_defaults(handler=auto_command)


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


def auto_command(args: argparse.Namespace, settings: Settings) -> int:
    """Automatic frames: score every frame (or reuse the scores), print the runs and stills."""
    from iamedic_desktop.core.progress import CancelToken
    from iamedic_desktop.media.runs import RunsParams
    from iamedic_desktop.services.frame_scoring import auto_frames

    params = RunsParams(
        run_threshold=args.run_threshold,
        min_run_length=args.min_run_length,
        prediction_threshold=args.prediction_threshold,
        patience=args.patience,
    )
    with local_store(settings) as store:
        token = CancelToken()
        line = ProgressBar(sys.stderr)
        try:
            with cancel_on_ctrl_c(token, "step"):
                result = auto_frames(
                    store.uow, store.actor, store.media, settings, args.media, params,
                    progress=line, cancel=token,
                )  # fmt: skip
        finally:
            line.end()
    if args.json:
        print_json(result)
    else:
        print(f"{'⚠️' if result.cancelled else '✅'} {result.message} ({result.model_version})")
        if result.runs:
            print_table(result.runs, RUN_COLUMNS)
        if result.stills:
            print_table([still.frame for still in result.stills], FRAME_COLUMNS)
    return EXIT_CANCELLED if result.cancelled else 0
