"""``iamedic studies ...``: the local user's studies."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from iamedic_desktop.cli.arguments import add_paging
from iamedic_desktop.cli.output import Column, print_json, print_page, print_table
from iamedic_desktop.cli.stores import local_store

if TYPE_CHECKING:
    from iamedic_desktop.core.settings import Settings

STUDY_COLUMNS: list[Column] = [
    ("ID", lambda s: s.id),
    ("ALIAS", lambda s: s.alias),
    ("MEDIA", lambda s: s.media_count),
    ("ACTIVE", lambda s: s.is_active),
    ("CREATED", lambda s: s.created_at),
    ("UPDATED", lambda s: s.updated_at),
]


def add_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """Register the ``studies`` command group."""
    studies = commands.add_parser(
        "studies",
        help="list, create, rename, delete and restore studies",
        description="The studies of the local user. STUDY is an alias or an id.",
    )
    sub = studies.add_subparsers(dest="studies_command", metavar="COMMAND", required=True)

    listing = sub.add_parser("list", parents=[common], help="the studies, newest first")
    add_paging(listing, limit=50, search_help="only studies whose alias contains S")
    listing.add_argument(
        "--include-deleted", action="store_true", help="also the soft-deleted studies"
    )
    listing.set_defaults(handler=list_command)

    create = sub.add_parser("create", parents=[common], help="a new study")
    create.add_argument("alias", metavar="ALIAS")
    create.set_defaults(handler=create_command)

    rename = sub.add_parser("rename", parents=[common], help="give a study a new alias")
    rename.add_argument("study", metavar="STUDY")
    rename.add_argument("new_alias", metavar="NEW_ALIAS")
    rename.set_defaults(handler=rename_command)

    delete = sub.add_parser("delete", parents=[common], help="soft-delete a study")
    delete.add_argument("study", metavar="STUDY")
    delete.set_defaults(handler=delete_command)

    restore = sub.add_parser("restore", parents=[common], help="bring back a deleted study")
    restore.add_argument("study", metavar="STUDY")
    restore.set_defaults(handler=restore_command)


def _show_one(args: argparse.Namespace, study: Any, done: str) -> int:
    if args.json:
        print_json(study)
    else:
        print(f"✅ {done}")
        print_table([study], STUDY_COLUMNS)
    return 0


def list_command(args: argparse.Namespace, settings: Settings) -> int:
    """Print one page of the local user's studies."""
    from iamedic_desktop.services.studies import list_studies

    with local_store(settings) as store:
        page = list_studies(
            store.uow,
            store.actor,
            search=args.search,
            offset=args.offset,
            limit=args.limit,
            include_deleted=args.include_deleted,
        )
    print_page(page, STUDY_COLUMNS, as_json=args.json)
    return 0


def create_command(args: argparse.Namespace, settings: Settings) -> int:
    """Create a study and print it."""
    from iamedic_desktop.services.studies import create_study

    with local_store(settings) as store:
        study = create_study(store.uow, store.actor, args.alias)
    return _show_one(args, study, f"Created study {study.alias!r}")


def rename_command(args: argparse.Namespace, settings: Settings) -> int:
    """Rename a study and print it."""
    from iamedic_desktop.services.studies import rename_study

    with local_store(settings) as store:
        study = rename_study(store.uow, store.actor, args.study, args.new_alias)
    return _show_one(args, study, f"Renamed study to {study.alias!r}")


def delete_command(args: argparse.Namespace, settings: Settings) -> int:
    """Soft-delete a study and print it as it now stands."""
    from iamedic_desktop.services.studies import delete_study

    with local_store(settings) as store:
        study = delete_study(store.uow, store.actor, args.study)
    return _show_one(args, study, f"Deleted study {study.alias!r}")


def restore_command(args: argparse.Namespace, settings: Settings) -> int:
    """Restore a deleted study and print it (a study that is not deleted is left as it is)."""
    from iamedic_desktop.services.studies import restore_study

    with local_store(settings) as store:
        result = restore_study(store.uow, store.actor, args.study)
    if args.json:
        print_json(result)
    else:
        print(f"{'✅' if result.restored else '⚠️'} {result.message}")
        print_table([result.study], STUDY_COLUMNS)
    return 0
