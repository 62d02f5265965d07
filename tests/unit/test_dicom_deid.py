"""De-identification of DICOM headers and the patient-name check of filenames (no files)."""

from __future__ import annotations

import json

import pydicom
import pytest
from pydicom.tag import Tag

from iamedic_desktop.media.dicom import deidentify, display_name_for
from iamedic_desktop.media.dicom_deid import (
    BLANKED,
    DELETED,
    contains_token,
    header_json,
    patient_tokens,
)
from tests import dicom_samples as samples


def phi_dataset() -> pydicom.Dataset:
    """A header with every tag of the rule filled, private data and nested identifiers."""
    return samples.fill_phi(samples.make_dataset(samples.gradient(4, 4)))


def test_the_samples_fill_exactly_the_rules_tags() -> None:
    assert set(samples.DELETED_VALUES) == set(DELETED)
    assert set(samples.BLANKED_VALUES) == set(BLANKED)


def test_listed_tags_are_deleted_or_blanked_private_tags_removed() -> None:
    ds = phi_dataset()
    changed = deidentify(ds)
    for keyword in DELETED:
        assert keyword not in ds, keyword
        assert keyword in changed, keyword
    for keyword in BLANKED:
        assert keyword in ds and ds[keyword].value == "", keyword
        assert keyword in changed, keyword
    assert not [elem for elem in ds.iterall() if elem.tag.is_private]
    assert {"(0009,0010)", "(0009,1001)", "(0009,1002)"} <= set(changed)
    assert "OtherPatientIDs" not in ds  # beyond the web's list: a direct identifier
    assert ds.Modality == "US" and ds.StudyDescription == "Fetal biometry"
    assert ds.StudyDate == "20240501"  # dates of the exam are kept


def test_identifiers_nested_in_sequences_go_too() -> None:
    ds = phi_dataset()
    changed = deidentify(ds)
    request = ds.RequestAttributesSequence[0]
    assert "PatientName" not in request and request.AccessionNumber == ""
    assert request.RequestedProcedureID == "RP-1"
    assert "RequestAttributesSequence[0].PatientName" in changed


def test_free_text_naming_the_patient_is_blanked() -> None:
    ds = phi_dataset()
    changed = deidentify(ds)
    assert ds.ImageComments == "" and "ImageComments" in changed


def test_deidentifying_twice_changes_nothing_more() -> None:
    ds = phi_dataset()
    deidentify(ds)
    assert deidentify(ds) == []


def test_header_json_holds_no_patient_and_no_bulk() -> None:
    ds = phi_dataset()
    deidentify(ds)
    text = header_json(ds)
    for secret in samples.PHI_VALUES:
        assert secret not in text, secret
    data = json.loads(text)
    assert f"{Tag('PixelData'):08X}" not in data
    assert data["00020010"]["Value"] == [str(ds.file_meta.TransferSyntaxUID)]
    assert data["00080060"]["Value"] == ["US"]


def test_patient_tokens_are_name_parts_and_ids() -> None:
    ds = pydicom.Dataset()
    ds.PatientName = "Doe^John^^Dr^"
    ds.PatientID = "12345"
    ds.OtherPatientIDs = ["AB", "XY-998"]
    assert patient_tokens(ds) == ("Doe", "John", "12345", "XY-998")  # "Dr", "AB" too short


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ("DOE_JOHN_12345.dcm", "dicom_1a2b3c4d.dcm"),
        ("john-doe.DCM", "dicom_1a2b3c4d.DCM"),
        ("scan 123 45.dcm", "dicom_1a2b3c4d.dcm"),  # the id with separators inside
        ("IM_0001.dcm", "IM_0001.dcm"),
        ("IM_0001", "IM_0001"),
        ("jo.dcm", "jo.dcm"),
    ],
)
def test_display_name_replaced_when_it_names_the_patient(original: str, expected: str) -> None:
    tokens = ("Doe", "John", "12345")
    assert display_name_for(original, tokens, fallback_stem="dicom_1a2b3c4d") == expected


def test_display_name_takes_the_stored_forms_extension() -> None:
    tokens = ("Doe", "John", "12345")
    assert (
        display_name_for("DOE_JOHN_12345.dcm", tokens, fallback_stem="dicom_9f", extension=".mp4")
        == "dicom_9f.mp4"
    )
    assert display_name_for("loop7.dcm", tokens, fallback_stem="x", extension=".png") == "loop7.png"
    assert display_name_for("loop7.doe", tokens, fallback_stem="dicom_1") == "dicom_1"


def test_short_tokens_never_match() -> None:
    assert not contains_token("ab_cd.dcm", ("ab", "c d"))
    assert contains_token("Van_Der_Berg.dcm", ("van der Berg",))
