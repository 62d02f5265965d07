"""``iamedic db ...`` (the embedded store) and ``iamedic central ...`` (the central database)."""

from __future__ import annotations

import argparse
import logging
from typing import TYPE_CHECKING, Any

from iamedic_desktop.cli import audit
from iamedic_desktop.cli.central_access import add_parsers as add_access_parsers
from iamedic_desktop.cli.output import as_jsonable, print_fields, print_json
from iamedic_desktop.cli.stores import central_engine, local_store

if TYPE_CHECKING:
    from iamedic_desktop.core.settings import Settings

log = logging.getLogger(__name__)

# Spelled out here so the CLI's help does not import SQLAlchemy; core.migrate checks the value.
FILE_STORAGE_KINDS = ("directory", "database")

_LABELS = {
    "path": "Store",
    "exists": "Exists",
    "current": "Revision",
    "head": "Latest revision",
    "workstation_current": "Workstation revision",
    "workstation_head": "Workstation latest revision",
    "web_revision": "Web revision",
    "central_tables_present": "Central tables present",
    "url": "Database",
    "is_current": "Up to date",
    "file_storage": "File storage",
}


def add_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """Register the ``db`` and ``central`` command groups."""
    db = commands.add_parser(
        "db", help="the embedded store", description="Create, upgrade and inspect the store."
    )
    db_commands = db.add_subparsers(dest="db_command", metavar="COMMAND", required=True)
    db_commands.add_parser(
        "upgrade", parents=[common], help="create or upgrade the store to the latest revision"
    ).set_defaults(handler=db_upgrade)
    db_commands.add_parser(
        "status", parents=[common], help="the store's revision, without changing anything"
    ).set_defaults(handler=db_status)

    central = commands.add_parser(
        "central",
        help="the central PostgreSQL database",
        description="The workstation's objects in the central database (IAMEDIC_CENTRAL_URL; "
        "the password comes from the keyring).",
    )
    central_commands = central.add_subparsers(
        dest="central_command", metavar="COMMAND", required=True
    )
    upgrade = central_commands.add_parser(
        "upgrade",
        parents=[common],
        help="install or upgrade the workstation schema (and the central tables on an empty "
        "database)",
    )
    upgrade.add_argument(
        "--file-storage",
        choices=FILE_STORAGE_KINDS,
        help="where central files live, chosen once per deployment: directory (the web's "
        "media folder, IAMEDIC_CENTRAL_MEDIA_DIR) or database; default: directory when "
        "IAMEDIC_CENTRAL_MEDIA_DIR is set or the web's tables are there, else database",
    )
    upgrade.set_defaults(handler=central_upgrade)
    central_commands.add_parser(
        "status", parents=[common], help="revisions of the workstation schema and the web's"
    ).set_defaults(handler=central_status)
    add_access_parsers(central_commands, common)
    audit.add_central_parsers(central_commands, common)


def _report(args: argparse.Namespace, fields: dict[str, Any]) -> int:
    if args.json:
        print_json(fields)
    else:
        print_fields([(_LABELS.get(key, key), value) for key, value in fields.items()])
    return 0


def db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    """Open the store, which runs its migrations, and report where it stands."""
    from iamedic_desktop.core.migrate import local_status

    with local_store(settings, check_sign_in=False) as store:
        status = local_status(store.engine)
    return _report(args, {"path": str(settings.local_db_path), **as_jsonable(status)})


def db_status(args: argparse.Namespace, settings: Settings) -> int:
    """Report the store's revision; a store that does not exist yet is not created."""
    from iamedic_desktop.core.database import create_local_engine
    from iamedic_desktop.core.migrate import local_status

    path = settings.local_db_path
    # An in-memory engine stands in for a missing store: no revision, the same head.
    engine = create_local_engine(path if path.exists() else ":memory:")
    try:
        status = local_status(engine)
    finally:
        engine.dispose()
    fields = {"path": str(path), "exists": path.exists(), **as_jsonable(status)}
    return _report(args, fields)


def central_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    """Bring the central database's workstation schema to the latest revision."""
    from iamedic_desktop.auth.secrets import redacted
    from iamedic_desktop.core.migrate import central_status as read_status
    from iamedic_desktop.core.migrate import upgrade_central

    with central_engine(settings) as engine:
        log.info("🔧 Upgrading the central database at %s", redacted(str(settings.central_url)))
        # A mounted web media folder says which storage this deployment means.
        kind = args.file_storage or ("directory" if settings.central_media_dir else None)
        upgrade_central(engine, file_storage=kind)
        status = read_status(engine)
    log.info("✅ Central database upgraded")
    return _report(args, {"url": redacted(str(settings.central_url)), **as_jsonable(status)})


def central_status(args: argparse.Namespace, settings: Settings) -> int:
    """Report the central database's revisions without changing it."""
    from iamedic_desktop.auth.secrets import redacted
    from iamedic_desktop.core.migrate import central_status as read_status

    with central_engine(settings) as engine:
        status = read_status(engine)
    return _report(args, {"url": redacted(str(settings.central_url)), **as_jsonable(status)})
