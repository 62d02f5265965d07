"""``iamedic sync``: push and pull now, the sync's status, its conflicts and their resolution.

The same engine as the window's background sync (``services/sync_service.py``), run once.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from iamedic_desktop.cli.output import Column, print_fields, print_json, print_table
from iamedic_desktop.cli.stores import local_store

if TYPE_CHECKING:
    from iamedic_desktop.core.settings import Settings

CONFLICT_COLUMNS: list[Column] = [
    ("ID", lambda c: c.id),
    ("WHAT", lambda c: c.what),
    ("MEDIA", lambda c: c.media_id or ""),
    ("REASON", lambda c: c.reason),
    ("DETECTED", lambda c: c.detected_at),
]


def add_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """Register the ``sync`` command and its subcommands."""
    group = commands.add_parser(
        "sync",
        parents=[common],
        help="push local changes and pull central ones now; status and conflicts",
        description="Without a subcommand: pull the central changes, then push the local "
        "ones, for the signed-in user.",
    )
    only = group.add_mutually_exclusive_group()
    only.add_argument("--pull-only", action="store_true", help="only pull central changes")
    only.add_argument("--push-only", action="store_true", help="only push local changes")
    group.set_defaults(handler=sync_command)
    sub = group.add_subparsers(dest="sync_command", metavar="COMMAND")

    status = sub.add_parser(
        "status", parents=[common], help="pending changes, conflicts, last sync"
    )
    status.set_defaults(handler=status_command)

    conflicts = sub.add_parser("conflicts", parents=[common], help="the open conflicts")
    conflicts.set_defaults(handler=conflicts_command)

    resolve = sub.add_parser(
        "resolve",
        parents=[common],
        help="keep the central or the local side of a conflict",
        description="Keep one side of conflict ID: 'central' closes it (that version is "
        "already here), 'local' writes this workstation's version back to be pushed.",
    )
    resolve.add_argument("conflict", metavar="ID", type=int)
    resolve.add_argument("--keep", choices=("central", "local"), required=True)
    resolve.set_defaults(handler=resolve_command)


def sync_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run one sync now."""
    from iamedic_desktop.services.sync_service import close_sync, open_sync

    with local_store(settings) as store:
        engine = open_sync(store)
        try:
            report = engine.run(do_pull=not args.push_only, do_push=not args.pull_only)
        finally:
            close_sync(engine)
    result: dict[str, Any] = {
        "pulled": report.pulled.applied,
        "pushed": report.pushed.written + report.pushed.deleted,
        "files_sent": report.pushed.files_sent,
        "conflicts": report.conflicts,
        "waiting_for_files": report.pushed.held,
        "refused": report.pushed.refused,
        "seconds": round(report.seconds, 3),
    }
    if args.json:
        print_json(result)
    else:
        print(
            f"✅ Synced in {result['seconds']:.2f} s: {result['pulled']} change(s) pulled, "
            f"{result['pushed']} pushed, {result['files_sent']} file(s) sent, "
            f"{result['conflicts']} conflict(s)."
        )
        if report.pushed.held:
            print(
                f"⚠️ {report.pushed.held} change(s) wait for a media file not on this workstation."
            )
        if report.pushed.refused:
            print(f"⚠️ {report.pushed.refused} change(s) belong to another user and are not pushed.")
    return 0


def status_command(args: argparse.Namespace, settings: Settings) -> int:
    """Show the sync's state without contacting the central database."""
    from iamedic_desktop.sync.engine import sync_status

    with local_store(settings) as store:
        status = sync_status(store.uow)
    fields = {
        "pending": status.pending,
        "conflicts": status.conflicts,
        "last_sync_at": status.last_sync_at.isoformat() if status.last_sync_at else None,
        "last_error": status.last_error,
        "central_configured": bool(settings.central_url),
    }
    if args.json:
        print_json(fields)
    else:
        print_fields([(k.replace("_", " ").capitalize(), v) for k, v in fields.items()])
    return 0


def conflicts_command(args: argparse.Namespace, settings: Settings) -> int:
    """List the open conflicts."""
    from iamedic_desktop.sync.conflicts import list_conflicts

    with local_store(settings) as store:
        found = list_conflicts(store.uow)
    if args.json:
        print_json([c.as_json() for c in found])
    else:
        print_table(found, CONFLICT_COLUMNS)
    return 0


def resolve_command(args: argparse.Namespace, settings: Settings) -> int:
    """Keep one side of a conflict."""
    from iamedic_desktop.sync.conflicts import resolve

    with local_store(settings) as store:
        view = resolve(store.uow, args.conflict, args.keep)
    if args.json:
        print_json(view.as_json())
    else:
        print(f"✅ Conflict {view.id} resolved: the {args.keep} version is kept.")
    return 0
