"""``iamedic login | logout | whoami``: signing in with the identity provider, and who acts."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from iamedic_desktop.cli.output import cell, print_json

if TYPE_CHECKING:
    from iamedic_desktop.core.settings import Settings
    from iamedic_desktop.schemas.actor import Actor
    from iamedic_desktop.services.local_store import LocalStore


def _take_later(them: str) -> str:
    return f"run `iamedic login --take-local-studies` to make {them} yours"


def add_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """Register ``login``, ``logout`` and ``whoami``."""
    login = commands.add_parser(
        "login",
        help="sign in with the identity provider (Google by default)",
        description="Sign in in the system browser. The first sign-in on a store that was used "
        "in local mode asks whether the studies made there become yours.",
    )
    login.add_argument(
        "--no-browser",
        action="store_true",
        help="print the sign-in address as the first line instead of opening a browser, "
        "then wait for the sign-in to come back",
    )
    choice = login.add_mutually_exclusive_group()
    choice.add_argument(
        "--take-local-studies",
        action="store_true",
        help="make the studies made in local mode yours, without asking",
    )
    choice.add_argument(
        "--leave-local-studies",
        action="store_true",
        help="leave the studies made in local mode as they are, without asking",
    )
    login.set_defaults(handler=login_command)
    logout = commands.add_parser(
        "logout",
        help="sign out: the session and its secrets go, the store stays",
        description="Sign out of this store; the refresh token and the central database "
        "password are removed from the keyring. Studies stay in the store.",
    )
    logout.set_defaults(handler=logout_command)
    whoami = commands.add_parser(
        "whoami",
        parents=[common],
        help="who acts on this store, with which rights, until when",
        description="The acting user, roles, doctor status, mode (local or signed in), whether "
        "the sign-in was confirmed online now, and until when it works offline.",
    )
    whoami.set_defaults(handler=whoami_command)


@contextmanager
def _store(settings: Settings, **options: bool) -> Iterator[LocalStore]:
    from iamedic_desktop.services.local_store import open_local_store

    store = open_local_store(settings, **options)
    try:
        yield store
    finally:
        store.close()


def _print_url(url: str) -> None:
    # The first line of stdout, at once: a script or a person opens it elsewhere.
    print(url, flush=True)


def login_command(args: argparse.Namespace, settings: Settings) -> int:
    """Sign in, then settle the local-mode studies (asked once, or by flag)."""
    from iamedic_desktop.auth.oauth import sign_in
    from iamedic_desktop.services.sessions import complete_sign_in

    with _store(settings, check_sign_in=False) as store:
        if not args.no_browser:
            print("Signing in: finish in the browser window that opens.", file=sys.stderr)
        signed_in = sign_in(
            settings,
            open_browser=not args.no_browser,
            on_url=_print_url if args.no_browser else None,
        )
        state = complete_sign_in(store.uow, settings, signed_in)
        print(f"✅ Signed in as {signed_in.name} <{signed_in.email}>")
        _settle_local_studies(store, state.actor, args)
    return 0


def _settle_local_studies(store: LocalStore, actor: Actor, args: argparse.Namespace) -> None:
    from iamedic_desktop.services.sessions import answer_local_studies, pending_local_studies
    from iamedic_desktop.services.sign_in import local_studies_phrase

    count, answer = pending_local_studies(store.uow)
    if count == 0:
        return
    studies = local_studies_phrase(count)
    them = "it" if count == 1 else "them"
    left = f"left as {'it is' if count == 1 else 'they are'}: {_take_later(them)}"
    if args.take_local_studies or args.leave_local_studies:
        take = bool(args.take_local_studies)
    elif answer is None and sys.stdin.isatty():
        reply = input(f"{studies} on this workstation: make {them} yours? [y/N] ")
        take = reply.strip().lower() in {"y", "yes"}
    else:
        # Not asked (no terminal, or answered before): nothing recorded, nothing moved.
        print(f"{studies} on this workstation and {left}.")
        return
    moved = answer_local_studies(store.uow, actor, take=take)
    if take:
        print(f"✅ {moved} stud{'y is' if moved == 1 else 'ies are'} now yours.")
    else:
        print(f"{studies} on this workstation and {left}.")


def logout_command(args: argparse.Namespace, settings: Settings) -> int:
    """Sign out of the store; its studies stay."""
    from iamedic_desktop.services.sessions import sign_out

    with _store(settings, check_sign_in=False) as store:
        email = sign_out(store.uow, settings)
    if email is None:
        print("Nobody was signed in on this store.")
    else:
        print(f"✅ Signed out {email}. The studies stay in the store.")
    return 0


WHOAMI_FIELDS = (
    ("email", "e-mail"),
    ("name", "name"),
    ("roles", "roles"),
    ("doctor_status", "doctor"),
    ("is_active", "active"),
    ("mode", "mode"),
    ("online", "online"),
    ("valid_until", "valid until"),
)


def whoami_command(args: argparse.Namespace, settings: Settings) -> int:
    """Print the acting user and the state of the sign-in (confirmed online when possible)."""
    from iamedic_desktop.services.sessions import session_info

    with _store(settings, force_refresh=True) as store:
        assert store.session is not None  # opened with the sign-in checked
        info = session_info(store.uow, store.session)
    if args.json:
        print_json(info)
        return 0
    values = info.model_dump()
    width = max(len(label) for _, label in WHOAMI_FIELDS)
    for name, label in WHOAMI_FIELDS:
        print(f"{label.ljust(width)}  {cell(values[name])}")
    return 0
