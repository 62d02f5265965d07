"""Checks of plain input (text, ids, paging, roles) that need no database.

Each check returns the cleaned value or raises InvalidInputError with a message a clinician
understands; services run them all before writing anything.
"""

from __future__ import annotations

import math
import re
import unicodedata
import uuid

from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.models.central import DoctorStatus, Role

ALIAS_MAX_LENGTH = 255
PROFILE_FIELD_MAX_LENGTH = 255
NOTES_MAX_LENGTH = 5000
MAX_PAGE_SIZE = 1000

# Format characters (zero-width space and joiners, BOM, soft hyphen, bidi marks, overrides and
# isolates, tags) and line/paragraph separators: they show nothing, or reorder what is shown.
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Zl", "Zp"})
# Letters and marks that draw nothing: Hangul fillers, the braille blank, the combining
# grapheme joiner.
_INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u034f")

# Something a person meant as an id: uuid-shaped groups, or a long run of hex digits and dashes.
# "2024-01-15" or "case-7" are plausible aliases and must not match.
_UUID_LIKE = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-.*"
    r"|[0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]+"
    r"|[0-9a-f-]{30,}",
    re.IGNORECASE,
)


def clean_text(value: object, *, what: str, max_length: int) -> str:
    """``value`` stripped; refused when empty, too long or holding control characters."""
    if not isinstance(value, str):
        raise InvalidInputError(f"The {what} must be text.")
    text = value.strip()
    if not text:
        raise InvalidInputError(f"The {what} cannot be empty.")
    if len(text) > max_length:
        raise InvalidInputError(
            f"The {what} is {len(text)} characters long; at most {max_length} are allowed."
        )
    if any(unicodedata.category(ch) in {"Cc", "Cs"} for ch in text):
        # NUL and friends break PostgreSQL and are never typed on purpose.
        raise InvalidInputError(f"The {what} contains control characters; remove them.")
    return text


def clean_alias(alias: object) -> str:
    """A study alias as stored: NFC, one kind of space, stripped, 1-255 visible characters.

    Two aliases that look the same must be the same text, so the canonical composition (NFC)
    is stored, every space separator becomes U+0020, and characters that show nothing
    (format characters, bidi overrides, fillers) are refused rather than silently removed:
    the clinician sees what was wrong. Leading and trailing white space is trimmed, as it
    always was: nobody can see it, and an alias is typed, pasted or given on a command line.
    An id's spelling is refused, since STUDY on the command line may be either.
    """
    if not isinstance(alias, str):
        raise InvalidInputError("The study alias must be text.")
    text = clean_text(normalise_alias(alias), what="study alias", max_length=ALIAS_MAX_LENGTH)
    hidden = next((ch for ch in text if _is_invisible(ch)), None)
    if hidden is not None:
        raise InvalidInputError(
            f"The study alias contains an invisible character ({_describe(hidden)}); remove "
            "it, so that aliases which look the same are the same."
        )
    if try_parse_uuid(text) is not None:
        raise InvalidInputError(
            f"The study alias '{text}' is spelled like a study id; ids and aliases must never "
            "be confused where a study is named, so choose another alias."
        )
    return text


def normalise_alias(text: str) -> str:
    """``text`` in the form aliases are stored and compared in (NFC, plain spaces)."""
    composed = unicodedata.normalize("NFC", text)
    return "".join(" " if unicodedata.category(ch) == "Zs" else ch for ch in composed)


def alias_spellings(ref: str) -> list[str]:
    """The stored texts an alias ``ref`` may match: NFC (ours) and NFD (a macOS paste)."""
    nfc = normalise_alias(ref.strip())
    return sorted({nfc, unicodedata.normalize("NFD", nfc)})


def _is_invisible(ch: str) -> bool:
    return unicodedata.category(ch) in _INVISIBLE_CATEGORIES or ch in _INVISIBLE_LETTERS


def _describe(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X} {name}".rstrip()


def clean_notes(notes: object) -> str | None:
    """An admin's optional note: stripped, empty means none."""
    if notes is None:
        return None
    if not isinstance(notes, str):
        raise InvalidInputError("The note must be text.")
    if not notes.strip():
        return None
    return clean_text(notes, what="note", max_length=NOTES_MAX_LENGTH)


def looks_like_uuid(ref: str) -> bool:
    """Whether ``ref`` was probably meant as an id (so a failed parse is worth reporting)."""
    return bool(_UUID_LIKE.fullmatch(ref.strip()))


def try_parse_uuid(ref: str) -> uuid.UUID | None:
    """``ref`` as a UUID, or None when it is not one."""
    try:
        return uuid.UUID(ref.strip())
    except ValueError:
        return None


def parse_id(value: object, *, what: str) -> uuid.UUID:
    """An id given as a UUID or its text; anything else is refused by name."""
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        parsed = try_parse_uuid(value)
        if parsed is not None:
            return parsed
    raise InvalidInputError(
        f"'{value}' is not a valid {what} id (an id has 32 hexadecimal digits, "
        "like 3f2b8c1e-9d4a-4b7e-8c2f-1a2b3c4d5e6f)."
    )


def check_paging(offset: int, limit: int) -> None:
    """A page starts at 0 or later and holds 1 to MAX_PAGE_SIZE items."""
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise InvalidInputError(f"The list offset must be 0 or more, not {offset!r}.")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInputError(
            f"The page size must be between 1 and {MAX_PAGE_SIZE}, not {limit!r}."
        )


def like_pattern(search: str) -> str:
    """A LIKE pattern matching ``search`` anywhere, with ``%``, ``_`` and ``\\`` taken literally."""
    escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def check_role(role: object) -> Role:
    """One of the two roles, spelled as stored."""
    try:
        return Role(str(role))
    except ValueError:
        names = ", ".join(f"'{r.value}'" for r in Role)
        raise InvalidInputError(f"'{role}' is not a role; the roles are {names}.") from None


def check_doctor_status(status: object) -> DoctorStatus:
    """One of the three profile states."""
    try:
        return DoctorStatus(str(status))
    except ValueError:
        names = ", ".join(f"'{s.value}'" for s in DoctorStatus)
        raise InvalidInputError(
            f"'{status}' is not a registration status; use one of {names}."
        ) from None


def check_number(value: object, *, what: str) -> float:
    """A finite real number (booleans and NaN are refused)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(f"The {what} must be a number, not {value!r}.")
    number = float(value)
    if not math.isfinite(number):
        raise InvalidInputError(f"The {what} must be a finite number, not {value!r}.")
    return number


def check_positive_int(value: object, *, what: str, allow_zero: bool = False) -> int:
    """A whole number above zero (or zero and above)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"The {what} must be a whole number, not {value!r}.")
    if value < 0 or (value == 0 and not allow_zero):
        bound = "0 or more" if allow_zero else "more than 0"
        raise InvalidInputError(f"The {what} must be {bound}, not {value}.")
    return value
