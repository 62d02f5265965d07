"""Plain input checks: aliases, ids, paging, roles, numbers (no database)."""

from __future__ import annotations

import math
import uuid

import pytest

from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.models import DoctorStatus, Role
from iamedic_desktop.services.validation import (
    MAX_PAGE_SIZE,
    check_doctor_status,
    check_number,
    check_paging,
    check_positive_int,
    check_role,
    clean_alias,
    clean_notes,
    like_pattern,
    looks_like_uuid,
    parse_id,
    try_parse_uuid,
)


def test_alias_is_stripped_and_kept_when_valid() -> None:
    assert clean_alias("  Twins, week 12  ") == "Twins, week 12"
    assert clean_alias("x") == "x"
    assert clean_alias("a" * 255) == "a" * 255


@pytest.mark.parametrize(
    ("alias", "words"),
    [
        ("", "cannot be empty"),
        ("   \t ", "cannot be empty"),
        ("a" * 256, "256 characters long; at most 255"),
        ("bad\x00alias", "control characters"),
        (42, "must be text"),
    ],
)
def test_bad_alias_is_refused_with_a_clear_message(alias: object, words: str) -> None:
    with pytest.raises(InvalidInputError, match=words):
        clean_alias(alias)


def test_alias_length_counts_after_stripping() -> None:
    assert clean_alias(" " + "a" * 255 + " ") == "a" * 255


def test_alias_is_normalised_to_nfc() -> None:
    decomposed = "Cafe\u0301 twins"  # e + combining acute: looks like the composed é
    assert clean_alias(decomposed) == "Caf\u00e9 twins"
    assert clean_alias(decomposed) == clean_alias("Caf\u00e9 twins")
    assert len(clean_alias("e\u0301" * 255)) == 255  # the length counts what is seen


def test_alias_spaces_of_every_kind_are_one_space() -> None:
    # A no-break or thin space looks like a space: two such aliases would look identical.
    assert clean_alias("Twins\u00a0week\u2009" + "12") == "Twins week 12"
    assert clean_alias("\u3000Twins\u00a0") == "Twins"


@pytest.mark.parametrize(
    ("alias", "named"),
    [
        ("Twi\u200bns", "U+200B"),  # zero-width space
        ("Twi\u200dns", "U+200D"),  # zero-width joiner
        ("Twi\u200cns", "U+200C"),  # zero-width non-joiner
        ("\ufeffTwins", "U+FEFF"),  # byte-order mark
        ("Twi\u00adns", "U+00AD"),  # soft hyphen
        ("Twins \u202eSUOI", "U+202E"),  # right-to-left override
        ("Twins \u2066x\u2069", "U+2066"),  # left-to-right isolate
        ("Twins\u200e", "U+200E"),  # left-to-right mark, at the end: not stripped
        ("Twins\u2060", "U+2060"),  # word joiner
        ("Twins\U000e0041", "U+E0041"),  # tag character
        ("Twins\u3164", "U+3164"),  # Hangul filler: a letter that shows nothing
        ("Twins\u2028week", "U+2028"),  # line separator
        ("Twins\u034f", "U+034F"),  # combining grapheme joiner
    ],
)
def test_alias_with_invisible_characters_is_refused_naming_them(alias: str, named: str) -> None:
    with pytest.raises(InvalidInputError, match="invisible") as info:
        clean_alias(alias)
    assert named in str(info.value)


def test_alias_with_a_tab_or_newline_is_refused() -> None:
    for alias in ("Twins\tweek", "Twins\nweek", "Twins\x7f"):
        with pytest.raises(InvalidInputError, match="control characters"):
            clean_alias(alias)


@pytest.mark.parametrize(
    "alias",
    [
        "3f2b8c1e-9d4a-4b7e-8c2f-1a2b3c4d5e6f",
        "3F2B8C1E-9D4A-4B7E-8C2F-1A2B3C4D5E6F",
        "3f2b8c1e9d4a4b7e8c2f1a2b3c4d5e6f",
        "{3f2b8c1e-9d4a-4b7e-8c2f-1a2b3c4d5e6f}",
        "urn:uuid:3f2b8c1e-9d4a-4b7e-8c2f-1a2b3c4d5e6f",
        " 3f2b8c1e-9d4a-4b7e-8c2f-1a2b3c4d5e6f ",
    ],
)
def test_alias_spelled_like_an_id_is_refused_with_the_reason(alias: str) -> None:
    with pytest.raises(InvalidInputError, match="spelled like a study id") as info:
        clean_alias(alias)
    assert "ids and aliases" in str(info.value)


@pytest.mark.parametrize("alias", ["2024-01-15", "deadbeef", "Ünal twins", "NT 3 \u2764\ufe0f"])
def test_ordinary_aliases_pass(alias: str) -> None:
    assert clean_alias(alias) == alias


@pytest.mark.parametrize(
    "ref",
    [
        "3f2b8c1e-9d4a-4b7e-8c2f-1a2b3c4d5e6",  # one digit short
        "3f2b8c1e-9d4a-4b7e-8c2f-1a2b3c4d5e6fa",  # one too many
        "3f2b8c1e-9d4a-4b7e-8c2f-1a2b3c4d5e6g",  # a typo outside hex
        "3f2b8c1e9d4a4b7e8c2f1a2b3c4d5e6",  # 31 hex digits, no dashes
    ],
)
def test_malformed_ids_look_like_ids(ref: str) -> None:
    assert looks_like_uuid(ref)
    assert try_parse_uuid(ref) is None


@pytest.mark.parametrize("alias", ["2024-01-15", "case-7", "Twins", "deadbeef", "NT scan 3"])
def test_ordinary_aliases_do_not_look_like_ids(alias: str) -> None:
    assert not looks_like_uuid(alias)


def test_parse_id_accepts_uuid_and_text() -> None:
    value = uuid.uuid4()
    assert parse_id(value, what="study") == value
    assert parse_id(f" {value} ", what="study") == value
    assert parse_id(str(value).upper(), what="study") == value


@pytest.mark.parametrize("bad", ["not-an-id", "", None, 12, "3f2b8c1e-9d4a-4b7e-8c2f"])
def test_parse_id_names_what_was_wrong(bad: object) -> None:
    with pytest.raises(InvalidInputError, match="is not a valid media id"):
        parse_id(bad, what="media")


@pytest.mark.parametrize(
    ("offset", "limit"), [(-1, 10), (0, 0), (0, MAX_PAGE_SIZE + 1), (True, 10), (0, 2.5)]
)
def test_bad_paging_is_refused(offset: object, limit: object) -> None:
    with pytest.raises(InvalidInputError):
        check_paging(offset, limit)  # type: ignore[arg-type]


def test_good_paging_passes() -> None:
    check_paging(0, 1)
    check_paging(500, MAX_PAGE_SIZE)


def test_like_pattern_takes_wildcards_literally() -> None:
    assert like_pattern("50%_a\\b") == "%50\\%\\_a\\\\b%"


def test_roles_and_statuses_are_spelled_as_stored() -> None:
    assert check_role("admin") is Role.ADMIN
    assert check_doctor_status("pending") is DoctorStatus.PENDING
    with pytest.raises(InvalidInputError, match="'Admin' is not a role"):
        check_role("Admin")
    with pytest.raises(InvalidInputError, match="not a registration status"):
        check_doctor_status("accepted")


def test_notes_empty_means_none() -> None:
    assert clean_notes(None) is None
    assert clean_notes("   ") is None
    assert clean_notes(" ok ") == "ok"
    with pytest.raises(InvalidInputError):
        clean_notes("x" * 5001)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, True, "1.0", None])
def test_numbers_must_be_finite_reals(bad: object) -> None:
    with pytest.raises(InvalidInputError):
        check_number(bad, what="width")


def test_positive_ints() -> None:
    assert check_positive_int(0, what="frame number", allow_zero=True) == 0
    assert check_positive_int(3, what="size") == 3
    with pytest.raises(InvalidInputError, match="more than 0"):
        check_positive_int(0, what="size")
    with pytest.raises(InvalidInputError, match="whole number"):
        check_positive_int(2.0, what="size")
