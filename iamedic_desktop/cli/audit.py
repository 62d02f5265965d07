"""``iamedic audit list`` and ``iamedic central audit verify``: the central audit log.

Both read the central database (IAMEDIC_CENTRAL_URL) with the configured login, which needs
SELECT on ``workstation.audit_log`` and ``workstation.audit_chain_head``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import re
import uuid
from typing import TYPE_CHECKING, Any

from iamedic_desktop.cli.output import Column, as_jsonable, print_fields, print_json, print_table
from iamedic_desktop.cli.stores import central_engine
from iamedic_desktop.core.errors import InvalidInputError

if TYPE_CHECKING:
    from iamedic_desktop.core.settings import Settings
    from iamedic_desktop.sync.audit import AuditEntry

OPS = {"I": "insert", "U": "update", "D": "delete"}
# Spelled out here so the CLI's help does not import SQLAlchemy (sync.audit.TABLES is the same).
TABLES = (
    "users",
    "user_roles",
    "doctor_profiles",
    "studies",
    "media",
    "frames",
    "picture_classification_predictions",
    "picture_classification_annotations",
    "picture_bb_predictions",
    "picture_bb_annotations",
)
_ANCHOR = re.compile(r"^(\d+):([0-9a-f]{64})$")


def entry_columns(emails: dict[Any, str]) -> list[Column]:
    """The table of ``audit list``: a user shown by e-mail where the central database knows it."""
    return [
        ("ID", lambda e: e.id),
        ("WHEN", lambda e: e.changed_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")),
        ("LOGIN", lambda e: e.login),
        ("USER", lambda e: emails.get(e.user_id, e.user_id)),
        ("DEVICE", lambda e: e.device_id),
        ("TABLE", lambda e: e.table_name),
        ("OP", lambda e: OPS.get(e.op, e.op)),
        ("ROW", lambda e: e.row_id),
        ("CHANGED", lambda e: e.columns if e.op == "U" else "whole row"),
    ]


def add_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """Register the ``audit`` command group."""
    audit = commands.add_parser(
        "audit",
        help="who changed what in the central database, and when",
        description="The central audit log: every insert, update and delete on the central "
        "tables, by any writer (the web included), newest first.",
    )
    sub = audit.add_subparsers(dest="audit_command", metavar="COMMAND", required=True)
    listing = sub.add_parser("list", parents=[common], help="the entries, newest first")
    listing.add_argument("--user", metavar="EMAIL|ID", help="only changes made by this user")
    listing.add_argument("--study", metavar="ALIAS|ID", help="only changes of this study's rows")
    listing.add_argument("--table", choices=TABLES, metavar="T", help="only this table's rows")
    listing.add_argument("--since", metavar="ISO", type=_moment, help="changed at or after")
    listing.add_argument("--until", metavar="ISO", type=_moment, help="changed before")
    listing.add_argument("--limit", type=_count(1), default=100, metavar="N", help="N at most")
    listing.add_argument("--offset", type=_count(0), default=0, metavar="N", help="skip N")
    listing.set_defaults(handler=list_command)


def add_central_parsers(
    central_commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """Register ``central audit verify``."""
    audit = central_commands.add_parser("audit", help="check the central audit log")
    sub = audit.add_subparsers(dest="central_audit_command", metavar="COMMAND", required=True)
    check = sub.add_parser(
        "verify",
        parents=[common],
        help="recompute the audit log's hash chain; exit 1 at the first broken entry",
    )
    check.add_argument(
        "--anchor",
        metavar="ID:HASH",
        help="an entry id and the hash an earlier verify printed for it, kept elsewhere",
    )
    check.set_defaults(handler=verify_command)


def list_command(args: argparse.Namespace, settings: Settings) -> int:
    """Print the entries the filters select."""
    from iamedic_desktop.sync import audit

    with central_engine(settings) as engine, engine.connect() as conn:
        user = audit.find_user(conn, args.user) if args.user else None
        study = audit.find_study(conn, args.study) if args.study else None
        found = audit.list_entries(
            conn,
            user=user,
            study=study,
            table=args.table,
            since=args.since,
            until=args.until,
            limit=args.limit,
            offset=args.offset,
        )
        emails = {} if args.json else audit.user_emails(conn, {e.user_id for e in found})
    if args.json:
        print_json([_jsonable(e) for e in found])
    elif found:
        print_table(found, entry_columns(emails))
    else:
        print("(none)")
    return 0


def verify_command(args: argparse.Namespace, settings: Settings) -> int:
    """Check the chain; exit 1 and name the first broken entry when it does not hold."""
    from iamedic_desktop.sync import audit

    anchor = _anchor(args.anchor) if args.anchor else None
    with central_engine(settings) as engine, engine.connect() as conn:
        result = audit.verify(conn, anchor=anchor)
        broken = None
        if result.first_broken_id is not None:
            broken = audit.entry(conn, result.first_broken_id)
    if args.json:
        print_json({**as_jsonable(result), "first_broken": _jsonable(broken) if broken else None})
    elif result.ok:
        print(f"✅ The audit log is intact: {result.checked} entries checked.")
        print(f"Last entry {result.last_id}, hash {result.last_hash}")
    else:
        print(f"❌ The audit log is broken at entry {result.first_broken_id}: {result.reason}")
        print(_intact_before(result.checked))
        if broken is not None:
            shown = _jsonable(broken)
            print_fields([(k, _plain(v)) for k, v in shown.items() if k != "entry_hash"])
    return 0 if result.ok else 1


def _jsonable(entry: AuditEntry) -> dict[str, Any]:
    data = {field.name: getattr(entry, field.name) for field in dataclasses.fields(entry)}
    data["changed_at"] = entry.changed_at.isoformat()
    data["op"] = OPS.get(entry.op, entry.op)
    return {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in data.items()}


def _intact_before(checked: int) -> str:
    if checked == 0:
        return "No entry before it."
    if checked == 1:
        return "Entry 1 before it is intact."
    return f"Entries 1 to {checked} before it are intact."


def _plain(value: Any) -> Any:
    """JSON for the values of a row, as a person reads them."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else value


def _moment(value: str) -> dt.datetime:
    """An ISO date or date and time; without a zone, this computer's."""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO date or time (2026-12-01 or 2026-12-01T08:30): {value!r}"
        ) from None
    return moment if moment.tzinfo else moment.astimezone()


def _count(minimum: int) -> Any:
    def parse(value: str) -> int:
        if not value.isdigit() or int(value) < minimum:
            raise argparse.ArgumentTypeError(f"must be a whole number, {minimum} or more")
        return int(value)

    return parse


def _anchor(value: str) -> tuple[int, str]:
    match = _ANCHOR.match(value.strip().lower())
    if match is None:
        raise InvalidInputError(
            "The anchor must be an entry id and its 64-character hash, as ID:HASH."
        )
    return int(match[1]), match[2]
