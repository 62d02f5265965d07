"""``iamedic export {classification,boxes,coco,yolo}``: the clinicians' annotations as files.

An admin on a reachable central database exports every doctor's work from it; otherwise the
local store (an admin: every study here; a doctor: their own). The output names the file,
its counts, and where the rows were read.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from iamedic_desktop.cli.output import print_fields, print_json
from iamedic_desktop.cli.progress import ProgressBar, cancel_on_ctrl_c
from iamedic_desktop.cli.stores import local_store

if TYPE_CHECKING:
    from iamedic_desktop.core.settings import Settings

EXIT_CANCELLED = 130
_KINDS = {
    "classification": "the usefulness labels (the web's classification CSV)",
    "boxes": "the clinicians' boxes (the web's bounding-box CSV)",
    "coco": "the boxes as a COCO JSON training set",
    "yolo": "the boxes as a YOLO dataset (a ZIP of images, labels and data.yaml)",
}
_EPILOG = """\
Dates are days in UTC, both ends included (--to 2026-03-05 takes all of that day); an open end
reads 'all' in the file name. --zip adds the media files: annotations.csv and media/<file>
for the CSV kinds, annotations.json and images/<file> for coco; yolo is always a ZIP.

exit status: 0 when the file is written; 1 when refused (no admin role or doctor access, a
media file missing: nothing is written); 130 when cancelled with Ctrl+C (nothing is written)."""


def add_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """Register the ``export`` command group."""
    export = commands.add_parser(
        "export",
        help="export annotations: the web's CSV/ZIP, COCO, YOLO",
        description="Export the clinicians' annotations. Reads the central database when "
        "an admin is connected to it, otherwise this workstation's store.",
    )
    sub = export.add_subparsers(dest="export_kind", metavar="KIND", required=True)
    for kind, help_text in _KINDS.items():
        parser = sub.add_parser(
            kind,
            parents=[common],
            help=help_text,
            description=f"Export {help_text}.",
            epilog=_EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        parser.add_argument("--from", dest="start", type=_day, metavar="YYYY-MM-DD",
                            help="annotations created on or after this day")  # fmt: skip
        parser.add_argument("--to", dest="end", type=_day, metavar="YYYY-MM-DD",
                            help="annotations created on or before this day")  # fmt: skip
        parser.add_argument("--include-deleted", action="store_true",
                            help="also deleted media, studies and stills")  # fmt: skip
        # Every kind takes every option, so scripts can share one line: --include-hidden
        # means nothing to labels, and a YOLO dataset is always a ZIP.
        parser.add_argument("--include-hidden", action="store_true",
                            help="also boxes hidden from training")  # fmt: skip
        parser.add_argument("--zip", action="store_true", help="a ZIP with the media files")
        parser.add_argument("--out", type=Path, default=Path("."), metavar="DIR",
                            help="the folder to write into (default: the current one)")  # fmt: skip
        parser.set_defaults(handler=export_command, kind=kind)


def export_command(args: argparse.Namespace, settings: Settings) -> int:
    """Write the export and print where it went."""
    from iamedic_desktop.core.progress import CancelledError, CancelToken
    from iamedic_desktop.schemas.exports import FORMATS_OF
    from iamedic_desktop.services.exports import export_annotations, make_filters

    kind = args.kind
    filters = make_filters(
        args.start,
        args.end,
        include_deleted=args.include_deleted,
        include_hidden=args.include_hidden,
    )
    fmt = "zip" if args.zip else FORMATS_OF[kind][0]
    cancel = CancelToken()
    bar = ProgressBar(sys.stderr)
    try:
        with local_store(settings) as store, cancel_on_ctrl_c(cancel, "file"):
            result = export_annotations(
                settings, store.uow, store.actor, store.media, kind=kind, folder=args.out,
                fmt=fmt, filters=filters, progress=bar, cancel=cancel,
            )  # fmt: skip
    except CancelledError:
        bar.end()
        print("❌ Export cancelled: nothing was written.", file=sys.stderr)
        return EXIT_CANCELLED
    bar.end()
    if args.json:
        print_json(result)
        return 0
    print(f"✅ Exported to {result.path}")
    print_fields([("Rows", result.rows), ("Media", result.media_count), ("Where", result.source)])
    for note in result.notes:
        print(f"⚠️ {note}")
    return 0


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a day as YYYY-MM-DD: {text!r}") from None
