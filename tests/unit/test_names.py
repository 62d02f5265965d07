"""Display names of imported files: what a clinician recognises, nothing that misleads."""

from __future__ import annotations

import unicodedata

import pytest

from iamedic_desktop.media.names import (
    MAX_NAME_LENGTH,
    safe_display_name,
    split_extension,
    with_extension,
)


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ("clip.mp4", "clip.mp4"),
        ("  scan 1.png  ", "scan 1.png"),
        ("../../etc/passwd", "_._etc_passwd"),
        ("..", "unnamed"),
        ("....mp4", "mp4"),
        ("a..b...mp4", "a.b.mp4"),
        ("dir/sub/file.jpg", "dir_sub_file.jpg"),
        ("C:\\Users\\scan.png", "C:_Users_scan.png"),
        ("bell\x07and\x1b[31mred.png", "belland[31mred.png"),
        ("tab\tand\nnewline.png", "tab and newline.png"),
        ("del\x7fc1\x9b.png", "delc1.png"),
        ("photo\u202egnp.exe", "photognp.exe"),  # right-to-left override shows 'exe.png'
        ("a\u200f\u200e\u2066b\u2069.png", "ab.png"),  # RLM, LRM, isolates
        ("zero\u200bwidth.png", "zerowidth.png"),
        ("line\u2028sep.png", "line sep.png"),
        ("", "unnamed"),
        ("\x00\x01", "unnamed"),
        (".mp4", "mp4"),
        ("/", "_"),
    ],
)
def test_names_are_made_safe(original: str, expected: str) -> None:
    assert safe_display_name(original) == expected


def test_names_are_nfc() -> None:
    decomposed = "Mu\u0308ller.png"  # u + combining diaeresis, as macOS writes names
    name = safe_display_name(decomposed)
    assert name == "M\u00fcller.png"
    assert unicodedata.is_normalized("NFC", name)


@pytest.mark.parametrize("length", [300, 501, 5000])
def test_long_names_keep_their_extension(length: int) -> None:
    original = "é" * length + ".mp4"
    name = safe_display_name(original)
    assert len(name) <= MAX_NAME_LENGTH
    assert name.endswith(".mp4")
    assert name.startswith("ééé")


def test_a_name_at_the_limit_is_kept_whole() -> None:
    original = "a" * (MAX_NAME_LENGTH - 4) + ".png"
    assert safe_display_name(original) == original


def test_no_separator_or_double_dot_survives() -> None:
    nasty = "..\\../..//.\u202e./x\\..\x00.png"
    name = safe_display_name(nasty)
    assert "/" not in name and "\\" not in name and ".." not in name
    assert all(unicodedata.category(ch)[0] != "C" for ch in name)


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("clip.mp4", ("clip", ".mp4")),
        ("archive.tar.gz", ("archive.tar", ".gz")),
        ("noext", ("noext", "")),
        ("weird.ext with space", ("weird.ext with space", "")),
        ("x." + "e" * 40, ("x." + "e" * 40, "")),
    ],
)
def test_extension_split(name: str, parts: tuple[str, str]) -> None:
    assert split_extension(name) == parts


def test_with_extension_replaces_it() -> None:
    assert with_extension("IM_0001.dcm", ".png") == "IM_0001.png"
    assert with_extension("cine", ".mp4") == "cine.mp4"
