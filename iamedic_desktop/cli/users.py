"""``iamedic users ...``: the users this store knows (an admin's view)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from iamedic_desktop.cli.arguments import add_paging
from iamedic_desktop.cli.output import Column, print_page
from iamedic_desktop.cli.stores import local_store

if TYPE_CHECKING:
    from iamedic_desktop.core.settings import Settings

USER_COLUMNS: list[Column] = [
    ("ID", lambda u: u.id),
    ("EMAIL", lambda u: u.email),
    ("NAME", lambda u: u.name),
    ("ROLES", lambda u: u.roles),
    ("DOCTOR", lambda u: u.doctor_status),
    ("ACTIVE", lambda u: u.is_active),
]


def add_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """Register the ``users`` command group."""
    users = commands.add_parser(
        "users", help="the users of this store", description="Users, their roles and approval."
    )
    sub = users.add_subparsers(dest="users_command", metavar="COMMAND", required=True)
    listing = sub.add_parser("list", parents=[common], help="the users, by e-mail")
    add_paging(listing, limit=100, search_help="only users whose e-mail or name contains S")
    listing.set_defaults(handler=list_command)


def list_command(args: argparse.Namespace, settings: Settings) -> int:
    """Print one page of users (admins only: the service checks)."""
    from iamedic_desktop.services.users import list_users

    with local_store(settings) as store:
        page = list_users(
            store.uow, store.actor, search=args.search, offset=args.offset, limit=args.limit
        )
    print_page(page, USER_COLUMNS, as_json=args.json)
    return 0
