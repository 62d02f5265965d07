"""``iamedic import ...`` and ``iamedic media ...``: bringing files into a study, listing them,
looking at a file the way an import would, and fetching the files of pulled media."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from iamedic_desktop.cli.output import Column, print_fields, print_json, print_table
from iamedic_desktop.cli.progress import ProgressBar, cancel_on_ctrl_c
from iamedic_desktop.cli.stores import local_store

if TYPE_CHECKING:
    from iamedic_desktop.core.settings import Settings
    from iamedic_desktop.schemas.imports import ImportReport
    from iamedic_desktop.schemas.media_fetch import FetchReport

EXIT_CANCELLED = 130

MEDIA_COLUMNS: list[Column] = [
    ("ID", lambda m: m.id),
    ("NAME", lambda m: m.readable_name),  # a still's reads "Still at 0:00.167 (frame 5)"
    ("TYPE", lambda m: m.media_type),
    ("MIME", lambda m: m.mime_type),
    ("SIZE", lambda m: m.file_size),
    ("STATUS", lambda m: m.upload_status),
    ("CREATED", lambda m: m.created_at),
]

_IMPORT_HELP = """\
PATH may be files and folders; folders are walked recursively in name order. Hidden files
(names starting with '.') in folders are skipped; links to folders are not followed. The type
of each file is judged by its content, never by its name.

exit status: 0 when every file was imported or was already in the study; 1 when at least one
was refused (the summary says which and why; everything else was imported); 130 when
cancelled with Ctrl+C (what was imported before stays imported)."""

_FETCH_HELP = """\
TARGET is a media id, or a study's alias or id: then every active media of the study whose
file is not on this workstation yet. Files come from the central database's file storage,
streamed and checked (size and SHA-256) before they are kept; a damaged copy is not kept.

exit status: 0 when every file named is here; 1 when a file was refused (reasons on stderr,
the others were fetched) or the central database cannot be reached; 130 when cancelled with
Ctrl+C (files fetched before stay)."""

_PLANS = {
    "keep": "stored as it is",
    "remux": "repackaged as MP4 with the index first (every frame kept as it is)",
    "transcode": "converted to H.264 MP4 (every frame and its timing kept)",
}


def add_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """Register the top-level ``import`` command and the ``media`` group."""
    imp = commands.add_parser(
        "import",
        parents=[common],
        help="import files and folders into a study",
        description="Import images, videos and DICOM files into a study. STUDY is an alias "
        "or an id.",
        epilog=_IMPORT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    imp.add_argument("study", metavar="STUDY")
    imp.add_argument("paths", metavar="PATH", nargs="+", type=Path)
    imp.set_defaults(handler=import_command)

    media = commands.add_parser(
        "media",
        help="list a study's media, probe a file, fetch pulled files",
        description="The media of a study, what an import would make of a file, and fetching "
        "the files of media pulled from the central database.",
    )
    sub = media.add_subparsers(dest="media_command", metavar="COMMAND", required=True)
    listing = sub.add_parser("list", parents=[common], help="a study's media in import order")
    listing.add_argument("study", metavar="STUDY")
    listing.add_argument("--type", choices=["image", "video", "frame"], help="only this type")
    listing.add_argument(
        "--include-deleted", action="store_true", help="also the soft-deleted media"
    )
    listing.set_defaults(handler=list_command)

    probe = sub.add_parser(
        "probe",
        parents=[common],
        help="what an import would see in a file",
        description="Sniff and probe FILE in a child process, as an import does, without "
        "importing it. Exit status 1 when an import would refuse it.",
    )
    probe.add_argument("file", metavar="FILE", type=Path)
    probe.set_defaults(handler=probe_command)

    fetch = sub.add_parser(
        "fetch",
        parents=[common],
        help="fetch the files of media pulled from the central database",
        description="Fetch the files of media pulled from the central database (a media "
        "row arrives without its file).",
        epilog=_FETCH_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fetch.add_argument("target", metavar="TARGET", help="a media id, or a study's alias or id")
    fetch.set_defaults(handler=fetch_command)


def shown(path: str) -> str:
    """A path as it may be printed on a terminal: control and bidi characters escaped."""
    import unicodedata

    return "".join(
        ch if unicodedata.category(ch)[0] != "C" else ch.encode("unicode_escape").decode()
        for ch in path
    )


def _print_refusals(report: ImportReport) -> None:
    for refusal in report.refused:
        print(f"❌ {shown(refusal.path)}: {refusal.reason}", file=sys.stderr)


def _print_summary(report: ImportReport) -> None:
    alias = report.study_alias
    print(f"✅ {len(report.imported)} file(s) imported into study '{alias}'")
    if report.imported:
        print_table(report.imported, MEDIA_COLUMNS[:5])
    for dup in report.duplicates:
        print(f"ℹ️ Already in the study: {shown(dup.path)} (as '{dup.existing.filename}')")
    for warning in report.warnings:
        print(f"⚠️ {warning}")
    if report.cancelled:
        print(f"⚠️ Cancelled: {len(report.not_reached)} file(s) were not imported.")
    if report.refused:
        print(f"❌ {len(report.refused)} refused (reasons on stderr)")
    _print_refusals(report)


def import_command(args: argparse.Namespace, settings: Settings) -> int:
    """Import the paths into the study and print what happened to each."""
    from iamedic_desktop.core.progress import CancelToken
    from iamedic_desktop.services.imports import import_paths

    token = CancelToken()
    bar = ProgressBar(sys.stderr)
    with local_store(settings) as store:
        try:
            with cancel_on_ctrl_c(token, "file"):
                report = import_paths(
                    store.uow,
                    store.actor,
                    store.media,
                    args.study,
                    args.paths,
                    settings=settings,
                    progress=bar,
                    cancel=token,
                )
        finally:
            bar.end()
    if args.json:
        print_json(report)
        _print_refusals(report)
    else:
        _print_summary(report)
    if report.cancelled:
        return EXIT_CANCELLED
    return 1 if report.refused else 0


def list_command(args: argparse.Namespace, settings: Settings) -> int:
    """Print a study's media."""
    from iamedic_desktop.services.media_records import list_media

    with local_store(settings) as store:
        items = list_media(
            store.uow,
            store.actor,
            args.study,
            media_type=args.type,
            include_deleted=args.include_deleted,
        )
    if args.json:
        print_json({"total": len(items), "items": [m.model_dump(mode="json") for m in items]})
    elif items:
        print_table(items, MEDIA_COLUMNS)
        print(f"({len(items)} media)")
    else:
        print("(none)")
    return 0


def _probe_fields(found: dict[str, Any]) -> list[tuple[str, object]]:
    fields: list[tuple[str, object]] = [
        ("file", shown(found["path"])),
        ("kind", found["kind"]),
        ("mime type", found["mime_type"]),
        ("size (px)", f"{found['width']} x {found['height']}"),
    ]
    probe = found.get("probe")
    if probe:
        fields += [
            ("duration (s)", f"{probe['duration']:.3f}"),
            ("frame rate", f"{probe['fps']:.3f}" + (" (variable)" if probe["is_vfr"] else "")),
            ("frames (header)", probe["frame_count"]),
            ("codec", f"{probe['codec']} {probe['pix_fmt']}"),
            ("container", probe["format_name"]),
            ("rotation", f"{probe['rotation']}°"),
            ("sound", probe["audio_codec"] or "none"),
            ("would be", _PLANS.get(found.get("plan") or "", "-")),
        ]
    elif found["kind"] == "dicom":
        frames = found.get("frame_count") or 1
        form = "an H.264 MP4" if frames > 1 else "a PNG"
        fields += [
            ("frames", frames),
            ("frame rate", f"{found.get('fps') or 0:g}"),
            ("would be", f"de-identified and converted to {form}"),
        ]
    else:
        fields += [("frames", found.get("frame_count") or 1), ("would be", _PLANS["keep"])]
    return fields


def probe_command(args: argparse.Namespace, settings: Settings) -> int:
    """Print what an import would see in a file (nothing is stored)."""
    import dataclasses

    from iamedic_desktop.services.imports import inspect_path

    inspection = inspect_path(args.file, settings=settings)
    found = {"path": str(args.file), **dataclasses.asdict(inspection)}
    if args.json:
        print_json(found)
    else:
        print_fields(_probe_fields(found))
    return 0


def _fetch_summary(report: FetchReport) -> str:
    if not (report.fetched or report.refused or report.not_reached):
        return "✅ Nothing to fetch: the files are already on this workstation."
    mib = report.fetched_bytes / 1024**2
    line = f"{len(report.fetched)} media file(s) fetched ({mib:.1f} MiB)"
    if report.already_local:
        line += f", {len(report.already_local)} already here"
    if report.refused:
        return f"❌ {line}, {len(report.refused)} refused (reasons on stderr)"
    if report.cancelled:
        return f"⚠️ {line}; cancelled: {len(report.not_reached)} not fetched"
    return f"✅ {line}"


def fetch_command(args: argparse.Namespace, settings: Settings) -> int:
    """Fetch the files of a media, or of a study's media, that are not here yet."""
    from iamedic_desktop.core.progress import CancelToken
    from iamedic_desktop.schemas.media_fetch import FetchReport
    from iamedic_desktop.services.media_fetch import (
        central_files,
        fetch_media,
        fetch_target,
        remote_media_ids,
    )

    token = CancelToken()
    bar = ProgressBar(sys.stderr)
    with local_store(settings) as store:
        wanted = remote_media_ids(store.uow, fetch_target(store.uow, store.actor, args.target))
        report = FetchReport()
        if wanted:  # nothing to fetch needs no central database
            try:
                with central_files(settings) as files, cancel_on_ctrl_c(token, "file"):
                    report = fetch_media(
                        store.uow, store.media, files, wanted, bar, cancel=token, settings=settings
                    )
            finally:
                bar.end()
    if args.json:
        print_json(report)
    else:
        print(_fetch_summary(report))
    for refusal in report.refused:
        print(f"❌ Media {refusal.media.id}: {refusal.reason}", file=sys.stderr)
    for warning in report.warnings:
        print(f"⚠️ {warning}", file=sys.stderr)
    if report.cancelled:
        return EXIT_CANCELLED
    return 1 if report.refused else 0
