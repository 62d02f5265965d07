"""De-identification of DICOM headers and the patient-name check of file names (no files)."""

from __future__ import annotations

import json

import pydicom
import pytest
from pydicom.datadict import keyword_for_tag, tag_for_keyword
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.tag import Tag

from iamedic_desktop.media.dicom import deidentify, display_name_for
from iamedic_desktop.media.dicom_deid import (
    BLANKED,
    DELETED,
    EXTRA_DELETED,
    header_json,
    mentions_patient,
    names_patient,
    patient_tokens,
)
from iamedic_desktop.media.dicom_header import (
    ALLOWED,
    ALLOWED_IN_REGION,
    DATING_TAG,
    allowed_json,
    dating_of_dataset,
    days_from_lmp,
    refilter,
)
from iamedic_desktop.media.dicom_profile import action_for, derived_uid, profile_table
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
    assert ds.Modality == "US"
    assert "StudyDescription" not in ds  # the profile removes descriptors (no Clean option)
    assert ds.StudyDate == ""  # the profile's Z: dates of the exam go too


def test_the_profile_table_is_the_2026c_release() -> None:
    exact, masked = profile_table()
    assert len(exact) == 652 and len(masked) == 3
    assert action_for(Tag("StudyDescription")) == "X"
    assert action_for(Tag("PatientName")) == "Z"
    assert action_for(Tag("SOPInstanceUID")) == "U"
    assert action_for(Tag(0x6002, 0x4000)) == "X"  # overlay comments, any overlay group
    assert action_for(Tag("Rows")) is None


@pytest.mark.parametrize(
    "keyword",
    [
        "StudyDate",
        "AcquisitionDateTime",
        "LastMenstrualDate",
        "ReferringPhysicianAddress",
        "ReferringPhysicianTelephoneNumbers",
        "ScheduledPerformingPhysicianName",
        "IssuerOfPatientID",
        "AdmissionID",
        "Occupation",
        "PatientReligiousPreference",
        "MilitaryRank",
        "CurrentPatientLocation",
        "Allergies",
        "MedicalAlerts",
        "AdditionalPatientHistory",
        "InsurancePlanIdentification",
        "InstitutionalDepartmentName",
        "OperatorIdentificationSequence",
        "StudyDescription",
        "RequestedProcedureID",
        "ScheduledProcedureStepID",
    ],
)
def test_what_the_deny_list_missed_is_in_the_profile(keyword: str) -> None:
    assert action_for(Tag(keyword)) is not None, keyword


def test_identifiers_nested_in_sequences_go_too() -> None:
    ds = phi_dataset()
    changed = deidentify(ds)
    assert "RequestAttributesSequence" not in ds  # X in the profile
    assert "RequestAttributesSequence" in changed
    ds = Dataset()
    item = Dataset()
    item.PatientName = "Doe^John"
    item.AccessionNumber = "ACC-1"
    item.CodeMeaning = "fetal head"
    ds.ReferencedImageNavigationSequence = Sequence([item])  # kept by the profile
    changed = deidentify(ds)
    kept = ds.ReferencedImageNavigationSequence[0]
    assert "PatientName" not in kept and kept.AccessionNumber == ""
    assert kept.CodeMeaning == "fetal head"
    assert "ReferencedImageNavigationSequence[0].PatientName" in changed


def test_uids_are_derived_blanked_or_kept() -> None:
    ds = phi_dataset()
    original = str(ds.SOPInstanceUID)
    deidentify(ds)
    assert ds.SOPInstanceUID == derived_uid(original) != original
    assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert str(ds.SOPInstanceUID).startswith("2.25.")
    assert ds.StudyInstanceUID == "" and ds.SeriesInstanceUID == ""
    assert ds.SOPClassUID == samples.UltrasoundMultiFrameImageStorage


def test_free_text_naming_the_patient_is_blanked() -> None:
    ds = phi_dataset()
    ds.Manufacturer = "Loaned to John Doe"  # a field the profile keeps
    changed = deidentify(ds)
    assert ds.Manufacturer == "" and "Manufacturer" in changed
    assert "ImageComments" not in ds and "ImageComments" in changed


def test_deidentifying_twice_changes_nothing_more() -> None:
    ds = phi_dataset()
    deidentify(ds)
    # A derived UID is derived again (an exported copy is a new instance); nothing else moves.
    assert deidentify(ds) == ["SOPInstanceUID", "file_meta.MediaStorageSOPInstanceUID"]


def test_header_json_is_the_allow_list() -> None:
    ds = phi_dataset()
    ds.Manufacturer, ds.ManufacturerModelName, ds.FrameTime = "Acme", "Sono 9", 40
    region = Dataset()
    region.RegionSpatialFormat, region.PhysicalDeltaX = 1, 0.01
    region.add_new(0x00081030, "LO", "sneaked in")  # not a region attribute: dropped
    ds.SequenceOfUltrasoundRegions = Sequence([region])
    deidentify(ds)
    text = header_json(ds)
    for secret in (*samples.PHI_VALUES, "sneaked in", "Fetal biometry", "20240501"):
        assert secret not in text, secret
    data = json.loads(text)
    assert set(data) <= set(ALLOWED)
    assert f"{Tag('PixelData'):08X}" not in data
    assert data["00020010"]["Value"] == [str(ds.file_meta.TransferSyntaxUID)]
    assert data["00080060"]["Value"] == ["US"]
    assert data["00081090"]["Value"] == ["Sono 9"] and data["00181063"]["Value"] == [40]
    assert data["00186011"]["Value"] == [
        {"00186012": {"vr": "US", "Value": [1]}, "0018602C": {"vr": "FD", "Value": [0.01]}}
    ]


def test_the_allow_list_names_real_tags_the_profile_never_removes() -> None:
    for tag, keyword in {**ALLOWED, **ALLOWED_IN_REGION}.items():
        assert keyword_for_tag(int(tag, 16)) == keyword, tag
        assert f"{tag_for_keyword(keyword):08X}" == tag
        assert action_for(int(tag, 16)) in (None, "U"), keyword  # U: derived, never original


def test_gestational_dating_is_kept_as_days_never_as_a_date() -> None:
    ds = phi_dataset()
    ds.LastMenstrualDate = "20240101"  # study on 20240501: 121 days
    days = dating_of_dataset(ds)
    assert days == 121
    deidentify(ds)
    text = header_json(ds, days_from_lmp=days)
    assert json.loads(text)[DATING_TAG]["Value"] == [121]
    assert "2024" not in text
    assert days_from_lmp("20240101", "20230101") is None  # before the LMP: nonsense
    assert days_from_lmp("19000101", "20240101") is None  # no pregnancy lasts that long
    assert days_from_lmp("", "20240101") is None


def test_an_old_stored_header_is_refiltered() -> None:
    ds = phi_dataset()
    ds.LastMenstrualDate = "20240201"
    old = json.dumps(ds.to_json_dict(suppress_invalid_tags=True, bulk_data_threshold=10**9))
    new = refilter(old)
    for secret in (*samples.PHI_VALUES, "20240201", "Fetal biometry"):
        assert secret not in new, secret
    data = json.loads(new)
    assert data[DATING_TAG]["Value"] == [90]
    assert refilter(new) == new
    assert allowed_json({"00100010": {"vr": "PN", "Value": [{"Alphabetic": "Doe"}]}}) == {}


def test_patient_tokens_are_name_parts_whole_names_and_ids() -> None:
    ds = pydicom.Dataset()
    ds.PatientName = "Doe^John^^Dr^"
    ds.PatientID = "12345"
    ds.OtherPatientIDs = ["AB", "XY-998"]
    assert patient_tokens(ds) == ("Doe", "John", "Doe John", "John Doe", "12345", "XY-998")


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ("DOE_JOHN_12345.dcm", "dicom_1a2b3c4d.png"),
        ("john-doe.DCM", "dicom_1a2b3c4d.png"),
        ("scan 123 45.dcm", "dicom_1a2b3c4d.png"),  # the id with separators inside
        ("DOE^JOHN.dcm", "dicom_1a2b3c4d.png"),
        ("doejohn.dcm", "dicom_1a2b3c4d.png"),  # the whole name compacted
        ("IM_0001.dcm", "IM_0001.png"),
        ("IM_0001", "IM_0001.png"),
        ("jo.dcm", "jo.png"),
        ("Doerte 123456.dcm", "Doerte 123456.png"),  # a name or id inside a word is not it
        ("johnny_doex.dcm", "johnny_doex.png"),
    ],
)
def test_display_name_replaced_when_it_names_the_patient(original: str, expected: str) -> None:
    tokens = ("Doe", "John", "Doe John", "John Doe", "12345")
    name = display_name_for(original, tokens, fallback_stem="dicom_1a2b3c4d", extension=".png")
    assert name == expected


def test_display_name_takes_the_stored_forms_extension() -> None:
    tokens = ("Doe", "John", "12345")
    assert (
        display_name_for("DOE_JOHN_12345.dcm", tokens, fallback_stem="dicom_9f", extension=".mp4")
        == "dicom_9f.mp4"
    )
    assert display_name_for("loop7.dcm", tokens, fallback_stem="x", extension=".png") == "loop7.png"
    assert display_name_for("loop7.doe", tokens, fallback_stem="dicom_1") == "dicom_1"


@pytest.mark.parametrize(
    ("name", "tokens", "named"),
    [
        ("ct16_axial.dcm", ("CT1",), False),  # "CT1" inside "ct16"
        ("Smith_John_1CT1.dcm", ("Smith", "John", "CT1"), True),
        ("SMITH^JOHN.dcm", ("Smith", "John"), True),
        ("smithjohn.dcm", ("Smith", "John", "Smith John", "John Smith"), True),
        ("smithjohnson.dcm", ("Smith", "John", "Smith John", "John Smith"), False),
        ("johnsmith.dcm", ("Smith", "John", "Smith John", "John Smith"), True),
        ("exam_CT1.dcm", ("CT1",), True),
        ("Van_Der_Berg.dcm", ("van der Berg",), True),
        ("ab_cd.dcm", ("ab", "c d"), False),  # too short to mean anything
    ],
)
def test_names_match_whole_words_only(name: str, tokens: tuple[str, ...], named: bool) -> None:
    assert names_patient(name, tokens) is named


def test_free_text_matches_anywhere() -> None:
    assert mentions_patient("seen by JohnDoe today", ("John Doe",))
    assert not mentions_patient("routine scan", ("John",))
    assert set(EXTRA_DELETED).isdisjoint(DELETED)
