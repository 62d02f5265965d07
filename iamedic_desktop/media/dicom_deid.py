"""De-identification of a DICOM header, the patient-name check of filenames, the header as JSON.

The rule (``spec/domain_rules.md``): private tags removed; the patient, institution and staff
tags in ``DELETED`` deleted; the study and series identifiers in ``BLANKED`` kept but emptied.
Workstation decisions, stricter than the web and harmless to it (the header stays local):
- the rule applies at every depth, inside sequence items too (a request sequence often repeats
  the patient's name and the accession number);
- ``EXTRA_DELETED`` direct identifiers beyond the web's list (other patient ids and names,
  birth name, address, telephone, birth time, ...) are deleted as well;
- any remaining text element that still contains the patient's name or id (a name typed into
  ImageComments) is blanked.
Names and ids are kept only in memory, as ``patient_tokens``, to check the original filename.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import PurePath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydicom import Dataset

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
_BULK_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN"})
_BULK_LIMIT = 1024  # binary values above this size are left out of the header JSON


def _compact(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


def _spaced(text: str) -> str:
    return re.sub(r"[\W_]+", " ", text.casefold()).strip()


def patient_tokens(ds: Dataset) -> tuple[str, ...]:
    """The patient's name parts and ids in ``ds`` (memory only: for the filename check)."""
    tokens: list[str] = []
    for keyword in ("PatientName", "OtherPatientNames", "PatientBirthName"):
        for value in _values(ds.get(keyword)):
            tokens.extend(part.strip() for part in re.split(r"[\^=]", str(value)))
    for keyword in ("PatientID", "OtherPatientIDs"):
        tokens.extend(str(value).strip() for value in _values(ds.get(keyword)))
    unique = dict.fromkeys(t for t in tokens if len(_compact(t)) >= MIN_TOKEN_LENGTH)
    return tuple(unique)


def _values(value: object) -> list[object]:
    """The values of an element's value: one, several (VM > 1) or none."""
    from pydicom.multival import MultiValue

    if value is None or value == "":
        return []
    if isinstance(value, MultiValue | list | tuple):  # a PersonName or str is one value
        return list(value)
    return [value]


def contains_token(text: str, tokens: Iterable[str]) -> bool:
    """Whether ``text`` holds a token, case-insensitive, with separators normalised."""
    spaced, compact = _spaced(text), _compact(text)
    for token in tokens:
        token_compact = _compact(token)
        if len(token_compact) < MIN_TOKEN_LENGTH:
            continue
        if _spaced(token) in spaced or token_compact in compact:
            return True
    return False


def deidentify(ds: Dataset) -> list[str]:
    """Remove the patient from ``ds`` in place; returns the changed elements (paths)."""
    tokens = patient_tokens(ds)
    changed: list[str] = []
    _deidentify_level(ds, "", changed)
    _blank_mentions(ds, "", tokens, changed)
    return changed


def _deidentify_level(ds: Dataset, prefix: str, changed: list[str]) -> None:
    from pydicom.datadict import keyword_for_tag

    for tag in list(ds.keys()):
        # Decided from the tag alone: a damaged value of a removed element never matters.
        keyword = keyword_for_tag(tag)
        name = f"{prefix}{keyword or str(tag)}"
        if tag.is_private or keyword in DELETED or keyword in EXTRA_DELETED:
            del ds[tag]
            changed.append(name)
            continue
        elem = ds[tag]
        if keyword in BLANKED:
            if elem.value not in (None, ""):
                elem.value = ""
                changed.append(name)
        elif elem.VR == "SQ":
            for index, item in enumerate(elem.value):
                _deidentify_level(item, f"{name}[{index}].", changed)


def _blank_mentions(ds: Dataset, prefix: str, tokens: tuple[str, ...], changed: list[str]) -> None:
    if not tokens:
        return
    for elem in ds:
        name = f"{prefix}{elem.keyword or str(elem.tag)}"
        if elem.VR == "SQ":
            for index, item in enumerate(elem.value):
                _blank_mentions(item, f"{name}[{index}].", tokens, changed)
        elif elem.VR in _TEXT_VRS and any(
            contains_token(str(value), tokens) for value in _values(elem.value)
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
    """``original_name``, or ``fallback_stem`` + its extension when it names the patient.

    ``extension`` (".png", ".mp4"), when given, replaces the extension of the result: the
    stored form of a DICOM is a PNG or an MP4.
    """
    tokens = tuple(patient_tokens)
    suffix = PurePath(original_name).suffix
    if contains_token(original_name, tokens):
        stem = fallback_stem
        suffix = "" if contains_token(suffix, tokens) else suffix
    else:
        stem = original_name[: len(original_name) - len(suffix)] if suffix else original_name
    return f"{stem}{extension if extension is not None else suffix}"


def header_json(ds: Dataset) -> str:
    """The (de-identified) header as DICOM JSON, without pixel data or other bulk values."""
    import copy as copying

    from pydicom.tag import Tag

    copy = copying.deepcopy(ds)
    for keyword in ("PixelData", "FloatPixelData", "DoubleFloatPixelData"):
        if keyword in copy:
            del copy[keyword]
    _drop_bulk(copy)
    data = copy.to_json_dict(suppress_invalid_tags=True)
    meta = getattr(ds, "file_meta", None)
    if meta is not None and "TransferSyntaxUID" in meta:
        data[f"{Tag('TransferSyntaxUID'):08X}"] = {
            "vr": "UI",
            "Value": [str(meta.TransferSyntaxUID)],
        }
    return json.dumps(dict(sorted(data.items())), ensure_ascii=False)


def _drop_bulk(ds: Dataset) -> None:
    for tag in list(ds.keys()):
        elem = ds[tag]
        if elem.VR == "SQ":
            for item in elem.value:
                _drop_bulk(item)
        elif set(str(elem.VR).split(" or ")) & _BULK_VRS and len(elem.value or b"") > _BULK_LIMIT:
            del ds[tag]
