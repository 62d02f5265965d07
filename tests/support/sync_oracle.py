"""What the sync should end with, worked out on plain dictionaries: the expected-results model
for convergence tests.

Each box is known by (media, class) and each usefulness label by its media, as the sync knows
them (never by id). A workstation holds its local values, the values it last agreed on with the
central database (its base) and the keys it edited since; the central database holds one value
per key. ``sync`` applies the conflict policy of ``docs/SYNC.md``: equal sides agree; only one
side changed: it wins; both changed: the central value stays and the local one is a conflict
copy. A test drives the real workstations and this model with the same operations, then
compares the real conflicts and rows with the ones predicted here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Box = tuple[float, float, float, float]
Key = tuple[str, str, str]  # ("box", media id, class) or ("label", media id, "")


def box_key(media_id: object, bb_class: str) -> Key:
    """The key of the box of ``bb_class`` on a media."""
    return ("box", str(media_id), bb_class)


def label_key(media_id: object) -> Key:
    """The key of a media's usefulness label."""
    return ("label", str(media_id), "")


@dataclass
class Side:
    """One workstation as the model sees it."""

    local: dict[Key, Any] = field(default_factory=dict)
    base: dict[Key, Any] = field(default_factory=dict)
    pending: set[Key] = field(default_factory=set)
    media: set[str] = field(default_factory=set)
    conflicts: list[tuple[Key, Any]] = field(default_factory=list)  # (key, local value kept)

    def boxes(self, media_id: object) -> dict[str, Box]:
        """The boxes this workstation shows on a media, by class."""
        return {k[2]: v for k, v in self.local.items() if k[:2] == ("box", str(media_id))}


@dataclass
class SyncOracle:
    """The central database and the workstations, as values by key."""

    central: dict[Key, Any] = field(default_factory=dict)
    central_media: set[str] = field(default_factory=set)
    sides: dict[str, Side] = field(default_factory=dict)

    def side(self, name: str) -> Side:
        """The workstation ``name`` (made on first use)."""
        return self.sides.setdefault(name, Side())

    def add_media(self, name: str, media_id: object) -> None:
        """A media made on workstation ``name`` (central when ``name`` is ``web``)."""
        if name == "web":
            self.central_media.add(str(media_id))
        else:
            self.side(name).media.add(str(media_id))

    def edit(self, name: str, key: Key, value: Any) -> bool:
        """A local edit (``value`` None: removed); False when it changes nothing (no outbox
        entry is written for an unchanged row)."""
        side = self.side(name)
        if side.local.get(key) == value:
            return False
        if value is None:
            side.local.pop(key, None)
        else:
            side.local[key] = value
        side.pending.add(key)
        return True

    def set_label(self, name: str, media_id: object, value: int) -> None:
        """Label a media on a workstation; "not useful" removes its boxes, as the service does."""
        self.edit(name, label_key(media_id), value)
        if value == 0:
            for bb_class in list(self.side(name).boxes(media_id)):
                self.edit(name, box_key(media_id, bb_class), None)

    def web_edit(self, key: Key, value: Any) -> None:
        """The web changes the central row of ``key`` (None: deletes it)."""
        if value is None:
            self.central.pop(key, None)
        else:
            self.central[key] = value

    def web_boxes(self, media_id: object) -> dict[str, Box]:
        """The central boxes of a media, by class."""
        return {k[2]: v for k, v in self.central.items() if k[:2] == ("box", str(media_id))}

    def sync(self, name: str) -> int:
        """One sync of workstation ``name``; returns the conflicts it records."""
        side = self.side(name)
        self.central_media |= side.media
        side.media |= self.central_media
        found = 0
        for key in set(self.central) | set(side.local) | side.pending:
            mine, theirs, base = side.local.get(key), self.central.get(key), side.base.get(key)
            if mine != theirs and mine != base:  # edited here (content, not history)
                if theirs == base:
                    self.web_edit(key, mine)  # only this side changed: pushed
                    theirs = mine
                else:
                    side.conflicts.append((key, mine))
                    found += 1
            if theirs is None:
                side.local.pop(key, None)
                side.base.pop(key, None)
            else:
                side.local[key] = side.base[key] = theirs
        side.pending.clear()
        return found
