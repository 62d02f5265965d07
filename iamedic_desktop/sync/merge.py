"""What to do with one row that both sides may have changed: the conflict policy, in one place.

The three contents compared are the local row, the central row and the *base*: the content both
sides last agreed on (``sync_base``). Content, not clocks or ids: a web save that re-created an
unchanged box (new id, same content) changed nothing; two sides that made the same edit agree.

- local = central: nothing to do but record the agreement;
- central = base: only this side changed: the local edit goes out (push) or stays pending (pull);
- local = base (no pending edit): only the central side changed: it is taken;
- otherwise both changed: a conflict. The central version stays, the local one is kept as a
  conflict copy until a person picks one (``docs/SYNC.md``).
"""

from __future__ import annotations

import enum
from typing import Any

from iamedic_desktop.sync.rows import content_hash


class Verdict(enum.Enum):
    """The outcome for one row."""

    AGREE = "agree"  # same content on both sides
    LOCAL = "local"  # only the local side changed: it wins
    CENTRAL = "central"  # only the central side changed: it is taken
    CONFLICT = "conflict"  # both changed


def decide(
    name: str,
    local: dict[str, Any] | None,
    central: dict[str, Any] | None,
    base_hash: str | None,
    *,
    pending: bool,
) -> Verdict:
    """The verdict for a row; ``pending``: the local row has edits not pushed yet."""
    local_hash = content_hash(name, local)
    central_hash = content_hash(name, central)
    if local_hash == central_hash:
        return Verdict.AGREE
    if not pending or local_hash == base_hash:
        return Verdict.CENTRAL  # no edit here, or one undone (moved back, drawn and removed)
    if central_hash == base_hash:
        return Verdict.LOCAL
    return Verdict.CONFLICT


def reason(local: dict[str, Any] | None, central: dict[str, Any] | None) -> str:
    """What a person reads about a conflict."""
    if central is None:
        return "Deleted in the central database, changed on this workstation"
    if local is None:
        return "Changed in the central database, deleted on this workstation"
    return "Changed both in the central database and on this workstation"
