"""De-identification of a DICOM header, and the patient-name check of file names.

PS3.15 Annex E's Basic Application Level Confidentiality Profile (``dicom_profile.py``, the
table as data) at every depth, with no option that retains anything, plus the rules of
``spec/domain_rules.md`` where they are stricter: the web's list (``DELETED``) deleted, the
study and series identifiers (``BLANKED``) kept but emptied, private tags removed, and
``EXTRA_DELETED`` direct identifiers deleted. Any remaining text element that still mentions the
patient's name or id (a name typed into a field the profile keeps) is blanked. What is then
stored of the header is an allow-list (``dicom_header.py``).
Names and ids are kept only in memory, as ``patient_tokens``, to check the original file name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from iamedic_desktop.media.dicom_header import header_json
from iamedic_desktop.media.dicom_profile import EMPTIED_ACTIONS, apply_profile
from iamedic_desktop.media.names import split_extension

if TYPE_CHECKING:
    from pydicom import Dataset
    from pydicom.dataelem import DataElement

__all__ = ["deidentify", "display_name_for", "header_json", "names_patient", "patient_tokens"]

DELETED: tuple[str, ...] = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "PatientAge",
    "PatientSize",
    "PatientWeight",
    "EthnicGroup",
    "PatientComments",
    "InstitutionName",
    "InstitutionAddress",
    "ReferringPhysicianName",
    "PhysiciansOfRecord",
    "PerformingPhysicianName",
    "OperatorsName",
    "StationName",
    "DeviceSerialNumber",
)
BLANKED: tuple[str, ...] = (
    "AccessionNumber",
    "StudyID",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "FrameOfReferenceUID",
)
# Direct identifiers the profile would only empty (Z) or does not list: deleted outright.
EXTRA_DELETED: tuple[str, ...] = (
    "OtherPatientIDs",
    "OtherPatientNames",
    "OtherPatientIDsSequence",
    "PatientBirthName",
    "PatientMotherBirthName",
    "PatientBirthTime",
    "PatientAddress",
    "PatientTelephoneNumbers",
    "MedicalRecordLocator",
    "ResponsiblePerson",
    "NameOfPhysiciansReadingStudy",
    "RequestingPhysician",
)
MIN_TOKEN_LENGTH = 3
_TEXT_VRS = frozenset({"AE", "LO", "LT", "PN", "SH", "ST", "UC", "UT"})
_REMOVED = frozenset(DELETED) | frozenset(EXTRA_DELETED)
_EMPTIED = frozenset(BLANKED)


def _words(text: str) -> list[str]:
    """``text`` as its case-folded alphanumeric runs (every separator, '_' and '^' included)."""
    return [word for word in re.split(r"[\W_]+", text.casefold()) if word]


def patient_tokens(ds: Dataset) -> tuple[str, ...]:
    """The patient's name parts, whole names and ids in ``ds`` (memory only: for the checks)."""
    tokens: list[str] = []
    for keyword in ("PatientName", "OtherPatientNames", "PatientBirthName"):
        for value in _values(ds.get(keyword)):
            parts = [part.strip() for part in re.split(r"[\^=]", str(value)) if part.strip()]
            tokens.extend(parts)
            if len(parts) > 1:  # "smithjohn.dcm": the whole name compacted, either order
                tokens.append(" ".join(parts[:2]))
                tokens.append(" ".join(reversed(parts[:2])))
    for keyword in ("PatientID", "OtherPatientIDs"):
        tokens.extend(str(value).strip() for value in _values(ds.get(keyword)))
    unique = dict.fromkeys(t for t in tokens if len("".join(_words(t))) >= MIN_TOKEN_LENGTH)
    return tuple(unique)


def _values(value: object) -> list[object]:
    """The values of an element's value: one, several (VM > 1) or none."""
    from pydicom.multival import MultiValue

    if value is None or value == "":
        return []
    if isinstance(value, MultiValue | list | tuple):  # a PersonName or str is one value
        return list(value)
    return [value]


def names_patient(text: str, tokens: Iterable[str]) -> bool:
    """Whether ``text`` (a file name) holds a token as whole words: a run of its words that
    spells the token ("Smith_John", "SMITH^JOHN", "smithjohn" for the whole name, "123_45" for
    id 12345), never a part of a word ("CT1" is not in "ct16")."""
    words = _words(text)
    for token in tokens:
        target = "".join(_words(token))
        if len(target) < MIN_TOKEN_LENGTH:
            continue
        for start in range(len(words)):
            spelled = ""
            for word in words[start:]:
                spelled += word
                if not target.startswith(spelled):
                    break
                if spelled == target:
                    return True
    return False


def mentions_patient(text: str, tokens: Iterable[str]) -> bool:
    """Whether free text holds a token anywhere, separators ignored (over-blanking is safe)."""
    compact = "".join(_words(text))
    return any(
        len(target := "".join(_words(token))) >= MIN_TOKEN_LENGTH and target in compact
        for token in tokens
    )


def deidentify(ds: Dataset) -> list[str]:
    """Remove the patient from ``ds`` in place; returns the changed elements (paths)."""
    tokens = patient_tokens(ds)
    changed = list(apply_profile(ds, _decide))
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        changed.extend(apply_profile(meta, _decide, "file_meta."))
    _blank_mentions(ds, "", tokens, changed)
    return changed


def _decide(elem: DataElement, action: str | None) -> str | None:
    """The spec's rules first, then the profile's action for ``elem``."""
    keyword = elem.keyword
    if elem.tag.is_private or keyword in _REMOVED:
        return "delete"
    if keyword in _EMPTIED:
        return "empty"
    if action is None:
        return None
    if action == "U":
        return "uid"
    return "empty" if action in EMPTIED_ACTIONS else "delete"


def _blank_mentions(ds: Dataset, prefix: str, tokens: tuple[str, ...], changed: list[str]) -> None:
    if not tokens:
        return
    for elem in ds:
        name = f"{prefix}{elem.keyword or str(elem.tag)}"
        if elem.VR == "SQ":
            for index, item in enumerate(elem.value):
                _blank_mentions(item, f"{name}[{index}].", tokens, changed)
        elif elem.VR in _TEXT_VRS and any(
            mentions_patient(str(value), tokens) for value in _values(elem.value)
        ):
            elem.value = ""
            changed.append(name)


def display_name_for(
    original_name: str,
    patient_tokens: Iterable[str],
    *,
    fallback_stem: str,
    extension: str | None = None,
) -> str:
    """``original_name``, or ``fallback_stem`` when it names the patient, with ``extension``.

    ``extension`` (".png", ".mp4"), when given, replaces the extension in every case: the
    stored form of a DICOM is a PNG or an MP4, never a ".dcm".
    """
    tokens = tuple(patient_tokens)
    stem, suffix = split_extension(original_name)
    if names_patient(original_name, tokens):
        stem = fallback_stem
        suffix = "" if names_patient(suffix, tokens) else suffix
    return f"{stem}{extension if extension is not None else suffix}"
