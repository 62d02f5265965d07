"""The DICOM header kept with a stored file (``media_files.dicom_json``): an allow-list.

Only what the workstation uses survives, whatever the file held and whatever the profile
missed: the picture's geometry and coding, frame timing, ultrasound regions (calibration),
manufacturer and model, and the instance's (derived) identity. Gestational dating is kept only
as a relative value computed before the dates were removed: the days from the last menstrual
period to the study, in the workstation's own private element (``DATING_*``), never a date.

``allowed_json`` works on DICOM JSON alone (no pydicom): the local migration that re-filters
headers stored by earlier versions calls it too. Threading: pure functions.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydicom import Dataset

#: Top-level elements kept, by tag (DICOM JSON's key), with their keyword.
ALLOWED: dict[str, str] = {
    "00020010": "TransferSyntaxUID",
    "00080008": "ImageType",
    "00080016": "SOPClassUID",
    "00080018": "SOPInstanceUID",  # derived from the original (dicom_profile.derived_uid)
    "00080060": "Modality",
    "00080070": "Manufacturer",
    "00081090": "ManufacturerModelName",
    "00180040": "CineRate",
    "00181063": "FrameTime",
    "00181065": "FrameTimeVector",
    "00181066": "FrameDelay",
    "00181242": "ActualFrameDuration",
    "00181244": "PreferredPlaybackSequencing",
    "00186011": "SequenceOfUltrasoundRegions",
    "00280002": "SamplesPerPixel",
    "00280004": "PhotometricInterpretation",
    "00280006": "PlanarConfiguration",
    "00280008": "NumberOfFrames",
    "00280009": "FrameIncrementPointer",
    "00280010": "Rows",
    "00280011": "Columns",
    "00280030": "PixelSpacing",
    "00280034": "PixelAspectRatio",
    "00280100": "BitsAllocated",
    "00280101": "BitsStored",
    "00280102": "HighBit",
    "00280103": "PixelRepresentation",
    "00280301": "BurnedInAnnotation",
    "00281050": "WindowCenter",
    "00281051": "WindowWidth",
    "00281052": "RescaleIntercept",
    "00281053": "RescaleSlope",
    "00282110": "LossyImageCompression",
}
#: Inside an ultrasound region item: its location, type and calibration (numbers and codes).
ALLOWED_IN_REGION: dict[str, str] = {
    "00186012": "RegionSpatialFormat",
    "00186014": "RegionDataType",
    "00186016": "RegionFlags",
    "00186018": "RegionLocationMinX0",
    "0018601A": "RegionLocationMinY0",
    "0018601C": "RegionLocationMaxX1",
    "0018601E": "RegionLocationMaxY1",
    "00186020": "ReferencePixelX0",
    "00186022": "ReferencePixelY0",
    "00186024": "PhysicalUnitsXDirection",
    "00186026": "PhysicalUnitsYDirection",
    "00186028": "ReferencePixelPhysicalValueX",
    "0018602A": "ReferencePixelPhysicalValueY",
    "0018602C": "PhysicalDeltaX",
    "0018602E": "PhysicalDeltaY",
    "00186030": "TransducerFrequency",
    "00186032": "PulseRepetitionFrequency",
    "00186034": "DopplerCorrectionAngle",
    "00186036": "SteeringAngle",
    "00186039": "DopplerSampleVolumeXPosition",
    "0018603B": "DopplerSampleVolumeYPosition",
    "0018603D": "TMLinePositionX0",
    "0018603F": "TMLinePositionY0",
    "00186041": "TMLinePositionX1",
    "00186043": "TMLinePositionY1",
}
_NESTED = {"00186011": ALLOWED_IN_REGION}

# The workstation's private element: days from the LMP to the study (a number, not a date).
DATING_CREATOR = "IAMEDIC Workstation"
DATING_CREATOR_TAG = "00990010"
DATING_TAG = "00991001"
MAX_GESTATION_DAYS = 320  # beyond ~45 weeks the dates are not a pregnancy's
_STUDY_DATES = ("00080020", "00080021", "00080022", "00080023")  # study, series, acq., content
_LMP = "001021D0"


def days_from_lmp(lmp: object, study: object) -> int | None:
    """Days from the last menstrual period to the study, or None (a date missing or absurd)."""
    try:
        start = dt.datetime.strptime(str(lmp).strip()[:8], "%Y%m%d").date()
        end = dt.datetime.strptime(str(study).strip()[:8], "%Y%m%d").date()
    except ValueError:
        return None
    days = (end - start).days
    return days if 0 <= days <= MAX_GESTATION_DAYS else None


def dating_of(data: Mapping[str, Any]) -> int | None:
    """``days_from_lmp`` read from DICOM JSON (the original header, dates still in it)."""
    lmp = _first(data.get(_LMP))
    studies = [_first(data.get(tag)) for tag in _STUDY_DATES]
    study = next((value for value in studies if value), None)
    if lmp is None or study is None:
        return None
    return days_from_lmp(lmp, study)


def dating_of_dataset(ds: Dataset) -> int | None:
    """``days_from_lmp`` of a dataset before de-identification."""
    study = next(
        (
            ds.get(k)
            for k in ("StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate")
            if ds.get(k)
        ),
        None,
    )
    lmp = ds.get("LastMenstrualDate")
    return days_from_lmp(lmp, study) if lmp and study else None


def allowed_json(data: Mapping[str, Any], *, days_from_lmp: int | None = None) -> dict[str, Any]:
    """DICOM JSON keeping only the allow-listed elements (and the dating, when given)."""
    kept: dict[str, Any] = {}
    for tag in ALLOWED:
        element = data.get(tag)
        if not isinstance(element, Mapping):
            continue
        nested = _NESTED.get(tag)
        if nested is not None:
            values = element.get("Value")
            items = [_filter_item(item, nested) for item in _as_list(values)]
            kept[tag] = {"vr": "SQ", "Value": [item for item in items if item]}
        else:
            kept[tag] = {key: element[key] for key in ("vr", "Value") if key in element}
    if days_from_lmp is not None:
        kept[DATING_CREATOR_TAG] = {"vr": "LO", "Value": [DATING_CREATOR]}
        kept[DATING_TAG] = {"vr": "IS", "Value": [int(days_from_lmp)]}
    return dict(sorted(kept.items()))


def refilter(text: str) -> str:
    """A stored ``dicom_json`` re-filtered through the allow-list (its dating recomputed)."""
    data = json.loads(text)
    if not isinstance(data, dict):
        return json.dumps({})
    previous = _first(data.get(DATING_TAG)) if _first(data.get(DATING_CREATOR_TAG)) else None
    days = dating_of(data)
    if days is None and isinstance(previous, int):
        days = previous
    return json.dumps(allowed_json(data, days_from_lmp=days), ensure_ascii=False)


def header_json(ds: Dataset, *, days_from_lmp: int | None = None) -> str:
    """The allow-listed header of de-identified ``ds`` as DICOM JSON."""
    from pydicom import Dataset as PlainDataset
    from pydicom.tag import Tag

    small = PlainDataset()
    for tag in ALLOWED:
        element = ds.get(Tag(int(tag, 16)))
        if element is not None:
            small.add(element)
    data = small.to_json_dict(suppress_invalid_tags=True)
    meta = getattr(ds, "file_meta", None)
    if meta is not None and "TransferSyntaxUID" in meta:
        data["00020010"] = {"vr": "UI", "Value": [str(meta.TransferSyntaxUID)]}
    return json.dumps(allowed_json(data, days_from_lmp=days_from_lmp), ensure_ascii=False)


def _filter_item(item: object, allowed: Mapping[str, str]) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        return {}
    return {
        tag: {key: item[tag][key] for key in ("vr", "Value") if key in item[tag]}
        for tag in allowed
        if isinstance(item.get(tag), Mapping)
    }


def _as_list(values: object) -> list[Any]:
    return values if isinstance(values, list) else []


def _first(element: object) -> Any:
    if not isinstance(element, Mapping):
        return None
    values = element.get("Value")
    return values[0] if isinstance(values, list) and values else None
