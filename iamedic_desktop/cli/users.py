"""``iamedic users ...``: the administration of users and roles (admins only)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from iamedic_desktop.cli.admin import admin_context, report_change, report_page
from iamedic_desktop.cli.arguments import add_paging

if TYPE_CHECKING:
    from iamedic_desktop.cli.output import Column
    from iamedic_desktop.core.settings import Settings

USER_COLUMNS: list[Column] = [
    ("ID", lambda u: u.id),
    ("EMAIL", lambda u: u.email),
    ("NAME", lambda u: u.name),
    ("ROLES", lambda u: u.roles),
    ("DOCTOR", lambda u: u.doctor_status),
    ("ACTIVE", lambda u: u.is_active),
]
ROLES = ("admin", "doctor")
STATUSES = ("pending", "approved", "denied", "none")
SORTS = ("email", "name", "status", "created")
USER_HELP = "the user's e-mail or id"


def add_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """Register the ``users`` command group."""
    users = commands.add_parser(
        "users",
        help="users and their roles (admins)",
        description="Users, their roles and accounts. Acts on the central database when it is "
        "configured and reachable, otherwise on this workstation; every command says which.",
    )
    sub = users.add_subparsers(dest="users_command", metavar="COMMAND", required=True)
    listing = sub.add_parser(
        "list", parents=[common], help="the users, pending doctor registrations first"
    )
    add_paging(listing, limit=100, search_help="only users whose e-mail, name, legal name or "
               "matriculation id contains S")  # fmt: skip
    listing.add_argument("--role", choices=ROLES, help="only users holding this role")
    listing.add_argument(
        "--status", choices=STATUSES, help="only users whose doctor registration is this"
    )
    listing.add_argument("--active", choices=("yes", "no"), help="only active or inactive users")
    listing.add_argument("--sort", choices=SORTS, default="email", help="order (default email)")
    listing.add_argument("--reverse", action="store_true", help="the sort order reversed")
    listing.add_argument(
        "--pending-first",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="pending doctor registrations before the others (default yes)",
    )
    listing.set_defaults(handler=list_command)
    for name, help_text in [("grant", "give a user a role"), ("revoke", "take a role away")]:
        parser = sub.add_parser(name, parents=[common], help=help_text)
        parser.add_argument("user", metavar="EMAIL_OR_ID", help=USER_HELP)
        parser.add_argument("role", metavar="ROLE", help="admin or doctor")
        parser.set_defaults(handler=role_command, grant=name == "grant")
    for name, help_text in [
        ("deactivate", "refuse the account everything"),
        ("activate", "let a deactivated account back in"),
    ]:
        parser = sub.add_parser(name, parents=[common], help=help_text)
        parser.add_argument("user", metavar="EMAIL_OR_ID", help=USER_HELP)
        parser.set_defaults(handler=active_command, active=name == "activate")


def list_command(args: argparse.Namespace, settings: Settings) -> int:
    """Print one page of users (admins only: the service checks)."""
    from iamedic_desktop.services.users import list_users

    with admin_context(settings) as target:
        page = list_users(
            target.uow,
            target.actor,
            search=args.search,
            role=args.role,
            status=args.status,
            active=None if args.active is None else args.active == "yes",
            sort=args.sort,
            descending=args.reverse,
            pending_first=args.pending_first,
            offset=args.offset,
            limit=args.limit,
        )
        return report_page(args, target, page, USER_COLUMNS)


def role_command(args: argparse.Namespace, settings: Settings) -> int:
    """Grant or revoke a role."""
    from iamedic_desktop.services.users import grant_role, revoke_role

    change_role = grant_role if args.grant else revoke_role
    with admin_context(settings) as target:
        change = change_role(target.uow, target.actor, args.user, args.role)
        return report_change(args, target, change)


def active_command(args: argparse.Namespace, settings: Settings) -> int:
    """Deactivate or reactivate an account."""
    from iamedic_desktop.services.users import set_user_active

    with admin_context(settings) as target:
        change = set_user_active(target.uow, target.actor, args.user, args.active)
        return report_change(args, target, change)
