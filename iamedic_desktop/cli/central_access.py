"""``iamedic central grant-access|revoke-access|enroll``: each user's own central login.

An administrator (or the web's login) grants a user access and gets a one-time code, printed
here once and kept nowhere; on the user's workstation, ``enroll CODE`` makes the login this
workstation's, its password in the keyring (docs/DEPLOYMENT.md, "Workstation logins").
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from iamedic_desktop.cli.output import as_jsonable, print_json
from iamedic_desktop.cli.stores import central_engine

if TYPE_CHECKING:
    from iamedic_desktop.core.settings import Settings


def add_parsers(
    central_commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """Register the three subcommands in the ``central`` group."""
    grant = central_commands.add_parser(
        "grant-access",
        parents=[common],
        help="give a user a central login of their own; prints a one-time enrollment code",
        description="Create a central database login for the user with this e-mail and print "
        "the one-time code that enrolls one workstation on it (valid 7 days). Run it as an "
        "administrator, or with the web's login.",
    )
    grant.add_argument("email", metavar="EMAIL")
    grant.set_defaults(handler=grant_access_command)
    revoke = central_commands.add_parser(
        "revoke-access",
        parents=[common],
        help="disable every central login of a user at once",
    )
    revoke.add_argument("email", metavar="EMAIL")
    revoke.set_defaults(handler=revoke_access_command)
    enroll = central_commands.add_parser(
        "enroll",
        parents=[common],
        help="make this workstation connect with the login an enrollment code is for",
        description="Redeem a one-time enrollment code over the configured central URL: a new "
        "password goes to the keyring and the login becomes the URL's user in the settings "
        "file.",
    )
    enroll.add_argument("code", metavar="CODE")
    enroll.set_defaults(handler=enroll_command)


def grant_access_command(args: argparse.Namespace, settings: Settings) -> int:
    """Create the user's login and print its enrollment code once."""
    from iamedic_desktop.services.central_access import grant_access

    with central_engine(settings) as engine:
        grant = grant_access(engine, args.email)
    until = grant.expires_at.strftime("%Y-%m-%d %H:%M %Z")
    if args.json:
        print_json(as_jsonable(grant))
        return 0
    print(f"✅ Access granted: login {grant.login}.")
    print(f"Enrollment code (works once, until {until}): {grant.code}")
    print(f"On the user's workstation: iamedic central enroll {grant.code}")
    return 0


def revoke_access_command(args: argparse.Namespace, settings: Settings) -> int:
    """Disable the user's logins and end their sessions."""
    from iamedic_desktop.services.central_access import revoke_access

    with central_engine(settings) as engine:
        count = revoke_access(engine, args.email)
    if args.json:
        print_json({"disabled": count})
    elif count:
        print(f"✅ Access revoked: {count} login(s) disabled, their connections closed.")
    else:
        print("✅ This user had no enabled login: nothing to revoke.")
    return 0


def enroll_command(args: argparse.Namespace, settings: Settings) -> int:
    """Redeem the code; the login and its password become this workstation's."""
    from iamedic_desktop.services.central_access import enroll

    done = enroll(settings, args.code)
    if args.json:
        print_json(as_jsonable(done))
        return 0
    print(f"✅ This workstation is enrolled: it connects as {done.login}.")
    print(f"The password is in the keyring; the login is saved in {done.settings_file}.")
    if done.overridden_by_environment:
        print(
            f"⚠️ IAMEDIC_CENTRAL_URL is set and wins over the settings file: set its user "
            f"to {done.login}."
        )
    return 0
