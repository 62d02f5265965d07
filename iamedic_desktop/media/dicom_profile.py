"""DICOM PS3.15 Annex E, table E.1-1: the Basic Application Level Confidentiality Profile.

The table is data, not code: the release ``TABLE_VERSION`` as shipped by dicom-anonymizer
(KitwareMedical), one list of tags per action code. Its engine is not used: it acts on the top
level only, writes "ANONYMIZED" and 0001-01-01 dummies and random UIDs, and prints. Ours
(``apply_profile``) decides per element from the tag alone, at every depth (sequence items and
the file meta group included), and applies the spec's rules on top (``dicom_deid.py``):
- ``U`` (a UID): replaced by a UID derived from it (``2.25.<hash>``), so one instance keeps
  one identity across imports and nothing of the original remains;
- ``Z`` and ``Z/D``: emptied (the header is never written back as a DICOM file, so no dummy);
- ``D``, ``X`` and every combination starting with ``X``: removed.
Threading: pure functions; safe from any thread.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydicom import Dataset
    from pydicom.dataelem import DataElement

TABLE_VERSION = "2026c"
TABLE_MODULE = f"dicomanonymizer.dicom_anonymization_databases.dicomfields_{TABLE_VERSION}"
#: dicom-anonymizer's list name for each action code of table E.1-1.
ACTION_LISTS: dict[str, str] = {
    "D": "D_TAGS",
    "Z": "Z_TAGS",
    "X": "X_TAGS",
    "U": "U_TAGS",
    "Z/D": "Z_D_TAGS",
    "X/Z": "X_Z_TAGS",
    "X/D": "X_D_TAGS",
    "X/Z/D": "X_Z_D_TAGS",
    "X/Z/U*": "X_Z_U_STAR_TAGS",
}
EMPTIED_ACTIONS = frozenset({"Z", "Z/D"})

Masked = tuple[int, int, int, int]  # group, element, group mask, element mask (60xx, 50xx)


@cache
def profile_table() -> tuple[dict[int, str], tuple[tuple[Masked, str], ...]]:
    """The table: exact tags -> action code, and the repeating groups (overlays, curves)."""
    import importlib

    module = importlib.import_module(TABLE_MODULE)
    exact: dict[int, str] = {}
    masked: list[tuple[Masked, str]] = []
    for action, name in ACTION_LISTS.items():
        for entry in getattr(module, name):
            if len(entry) == 2:
                exact[(entry[0] << 16) | entry[1]] = action
            else:
                masked.append(((entry[0], entry[1], entry[2], entry[3]), action))
    return exact, tuple(masked)


def action_for(tag: int) -> str | None:
    """The profile's action code for ``tag`` ("X", "Z", "U", ...), or None: kept."""
    exact, masked = profile_table()
    action = exact.get(int(tag))
    if action is not None:
        return action
    group, element = int(tag) >> 16, int(tag) & 0xFFFF
    for (g, e, group_mask, element_mask), code in masked:
        if group & group_mask == g & group_mask and element & element_mask == e & element_mask:
            return code
    return None


def derived_uid(uid: str) -> str:
    """A UID made from ``uid`` by a one-way hash: the same input gives the same UID.

    ``2.25.<128-bit number>`` (PS3.5 B.2), the number taken from SHA-256 of the original.
    """
    digest = hashlib.sha256(f"iamedic-deid:{uid.strip()}".encode()).digest()
    return f"2.25.{int.from_bytes(digest[:16], 'big')}"


Decide = Callable[["DataElement", str | None], str | None]


def apply_profile(ds: Dataset, decide: Decide, prefix: str = "") -> Iterator[str]:
    """Apply ``decide(element, profile action)`` -> "delete" | "empty" | "uid" | None to every
    element at every depth; yields the path of each element changed."""
    from pydicom.datadict import keyword_for_tag

    for tag in list(ds.keys()):
        name = f"{prefix}{keyword_for_tag(tag) or str(tag)}"
        elem = ds[tag]
        what = decide(elem, None if tag.is_private else action_for(tag))
        if what == "delete":
            del ds[tag]
            yield name
        elif what == "empty":
            if not _is_empty(elem.value):
                elem.value = [] if elem.VR == "SQ" else ("" if _is_text(elem.VR) else None)
                yield name
        elif what == "uid":
            if not _is_empty(elem.value):
                elem.value = _remapped(elem.value)
                yield name
        elif elem.VR == "SQ":
            for index, item in enumerate(elem.value):
                yield from apply_profile(item, decide, f"{name}[{index}].")


def _is_empty(value: object) -> bool:
    return value is None or value == "" or value == b"" or value == []


def _is_text(vr: str) -> bool:
    return vr not in {"SQ", "US", "SS", "UL", "SL", "UV", "SV", "FL", "FD", "AT"} and not (
        vr.startswith("O") or vr == "UN" or " or " in vr
    )


def _remapped(value: object) -> object:
    from pydicom.multival import MultiValue

    if isinstance(value, MultiValue | list | tuple):
        return [derived_uid(str(v)) for v in value]
    return derived_uid(str(value))
