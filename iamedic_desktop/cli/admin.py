"""What the ``users`` and ``doctors`` commands share: where they act, and how they report it.

Every such command opens the local store, then the administration's target (the central
database when configured and reachable, else this workstation), and names that target in its
output: the last line of a table, the ``where`` key of ``--json``.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from iamedic_desktop.cli.output import Column, as_jsonable, print_fields, print_json, print_page
from iamedic_desktop.cli.stores import local_store

if TYPE_CHECKING:
    from iamedic_desktop.core.settings import Settings
    from iamedic_desktop.services.admin_target import AdminTarget


@contextmanager
def admin_context(settings: Settings) -> Iterator[AdminTarget]:
    """The target of one command, with the store's actor resolved there."""
    from iamedic_desktop.services.admin_target import admin_target

    with local_store(settings) as store, admin_target(settings, store.uow, store.actor) as target:
        yield target


def _where(target: AdminTarget) -> None:
    print(f"Where: {target.where}")


def report_page(
    args: argparse.Namespace, target: AdminTarget, page: Any, columns: Sequence[Column]
) -> int:
    """One page of a listing, and where it was read."""
    if args.json:
        print_json({"where": target.where, **as_jsonable(page)})
        return 0
    print_page(page, columns, as_json=False)
    _where(target)
    return 0


def report_change(args: argparse.Namespace, target: AdminTarget, change: Any) -> int:
    """A change (or a decision): what happened in words, and where."""
    if args.json:
        print_json({"where": target.where, **as_jsonable(change)})
        return 0
    print(("✅ " if change.changed else "") + change.message)
    _where(target)
    return 0


def report_fields(
    args: argparse.Namespace,
    target: AdminTarget,
    key: str,
    value: Any,
    fields: Sequence[tuple[str, object]],
) -> int:
    """One object as labelled values (JSON: under ``key``), and where it was read."""
    if args.json:
        print_json({"where": target.where, key: as_jsonable(value)})
        return 0
    print_fields([*fields, ("Where", target.where)])
    return 0
