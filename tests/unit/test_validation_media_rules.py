"""Media, prediction and box input checks: the web's rules, without a database."""

from __future__ import annotations

import uuid

import pytest

from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.models import BB_CLASSES, MediaType, UploadStatus
from iamedic_desktop.services.media_rules import (
    ACCEPTED_IMAGE_MIME_TYPES,
    ACCEPTED_VIDEO_MIME_TYPES,
    check_bb_class,
    check_box,
    check_file_path,
    check_file_size,
    check_image_size,
    check_model_version,
    check_predicted_box,
    check_probability,
    check_upload_status,
    check_usefulness,
    clean_filename,
    media_type_for,
    round_timestamp,
)


def test_accepted_mime_lists_match_the_domain_rules() -> None:
    assert len(ACCEPTED_IMAGE_MIME_TYPES) == 6
    assert len(ACCEPTED_VIDEO_MIME_TYPES) == 10
    assert "video/x-matroska" in ACCEPTED_VIDEO_MIME_TYPES
    assert "image/webp" in ACCEPTED_IMAGE_MIME_TYPES


def test_media_type_follows_the_mime_type() -> None:
    assert media_type_for("image/png") == ("image/png", MediaType.IMAGE)
    assert media_type_for("video/webm", "video") == ("video/webm", MediaType.VIDEO)


@pytest.mark.parametrize(
    ("mime", "kind", "words"),
    [
        ("application/pdf", None, "not accepted"),
        ("image/svg+xml", None, "not accepted"),
        ("image/png", "video", "is an image, not a video"),
        ("video/mp4", MediaType.IMAGE, "is a video, not an image"),
        ("image/jpeg", "frame", "recorded as a frame"),
        ("image/jpeg", "picture", "not a media type"),
    ],
)
def test_mime_and_media_type_must_agree(mime: str, kind: object, words: str) -> None:
    with pytest.raises(InvalidInputError, match=words):
        media_type_for(mime, kind)


def test_file_path_is_a_bare_uuid4() -> None:
    key = str(uuid.uuid4())
    assert check_file_path(key) == key


@pytest.mark.parametrize(
    "bad",
    [
        "media/0b6f3f4e-9a55-4c52-8f6e-0d1c2b3a4f5e",
        "0b6f3f4e-9a55-4c52-8f6e-0d1c2b3a4f5e.mp4",
        "0B6F3F4E-9A55-4C52-8F6E-0D1C2B3A4F5E",
        "0b6f3f4e9a554c528f6e0d1c2b3a4f5e",
        "b209a3d0-e97a-11f1-a6c0-02fc00000001",  # a uuid1
        "",
        None,
    ],
)
def test_file_path_other_forms_are_refused(bad: object) -> None:
    with pytest.raises(InvalidInputError, match="not a bare uuid4"):
        check_file_path(bad)


def test_file_size_and_name() -> None:
    assert check_file_size(1) == 1
    with pytest.raises(InvalidInputError, match="empty"):
        check_file_size(0)
    with pytest.raises(InvalidInputError, match="whole number"):
        check_file_size(1.5)
    assert clean_filename(" scan.png ") == "scan.png"
    with pytest.raises(InvalidInputError, match="at most 500"):
        clean_filename("a" * 501)


def test_upload_status_values() -> None:
    assert check_upload_status("processing") is UploadStatus.PROCESSING
    with pytest.raises(InvalidInputError, match="not an upload status"):
        check_upload_status("done")


@pytest.mark.parametrize(
    "good", ["frame_classifier_224x224 - 3", "fetal_structures_bb_regressor_224x224 - 12"]
)
def test_model_version_good_spelling(good: str) -> None:
    assert check_model_version(good) == good


@pytest.mark.parametrize(
    "bad",
    [
        "frame_classifier_224x224-3",
        "frame_classifier_224x224 - v3",
        "frame_classifier_224x224 -3",
        "frame_classifier_224x224 - ",
        " - 3",
        "3",
        "",
        None,
        "m" * 250 + " - 12345",
    ],
)
def test_model_version_bad_spelling(bad: object) -> None:
    with pytest.raises(InvalidInputError, match="<model name> - <version>"):
        check_model_version(bad)


def test_all_nine_classes_are_accepted_exactly() -> None:
    for cls in BB_CLASSES:
        assert check_bb_class(cls) == cls


def test_wrong_case_class_gets_a_hint() -> None:
    with pytest.raises(InvalidInputError, match="Did you mean 'CM'"):
        check_bb_class("cm")
    with pytest.raises(InvalidInputError, match="Did you mean 'nasal bone'"):
        check_bb_class("Nasal Bone")


def test_unknown_class_lists_the_classes() -> None:
    with pytest.raises(InvalidInputError, match=r"'femur' is not a box class.*'thalami'"):
        check_bb_class("femur")


@pytest.mark.parametrize("value", [0, 0.0, 0.5, 1, 1.0])
def test_probability_in_range(value: float) -> None:
    assert check_probability(value, what="prediction") == float(value)


@pytest.mark.parametrize("value", [-0.01, 1.01, 2, float("nan")])
def test_probability_out_of_range(value: float) -> None:
    with pytest.raises(InvalidInputError):
        check_probability(value, what="prediction")


def test_usefulness_is_zero_or_one() -> None:
    assert check_usefulness(0) == 0
    assert check_usefulness(1) == 1
    for bad in (2, -1, True, "1", None):
        with pytest.raises(InvalidInputError):
            check_usefulness(bad)


def test_box_inside_the_image_and_big_enough() -> None:
    assert check_box(0, 0, 10, 10, 100, 80) == (0.0, 0.0, 10.0, 10.0)
    assert check_box(90, 70, 10, 10, 100, 80) == (90.0, 70.0, 10.0, 10.0)


@pytest.mark.parametrize(
    ("box", "words"),
    [
        ((0, 0, 9.9, 20), "at least 10 px"),
        ((0, 0, 20, 9), "at least 10 px"),
        ((-1, 0, 20, 20), "outside"),
        ((0, -0.5, 20, 20), "outside"),
        ((85, 0, 20, 20), "outside"),
        ((0, 70, 20, 20.5), "outside"),
    ],
)
def test_bad_boxes(box: tuple[float, float, float, float], words: str) -> None:
    with pytest.raises(InvalidInputError, match=words):
        check_box(*box, 100, 80)


def test_predicted_box_and_image_size() -> None:
    assert check_predicted_box(-3, 2, 5, 5) == (-3.0, 2.0, 5.0, 5.0)
    with pytest.raises(InvalidInputError, match="positive size"):
        check_predicted_box(0, 0, 0, 5)
    assert check_image_size(640, 480) == (640, 480)
    with pytest.raises(InvalidInputError):
        check_image_size(0, 480)


def test_timestamp_rounds_to_the_millisecond() -> None:
    assert round_timestamp(1.23449) == 1.234
    assert round_timestamp(1.2345001) == 1.235
    assert round_timestamp(0) == 0.0
    with pytest.raises(InvalidInputError, match="0 s or later"):
        round_timestamp(-0.1)
