"""``iamedic import``, ``iamedic media list`` and ``iamedic media probe`` as a user runs them."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file

from iamedic_desktop.core.settings import get_settings
from tests.e2e.cli_support import json_of
from tests.media_samples import VIDEO_SPECS, make_image, make_video

CliRunner = Callable[..., subprocess.CompletedProcess[str]]
MEDIA_FIELDS = {"id", "filename", "media_type", "mime_type", "file_size", "upload_status"}


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli_media_sources")


@pytest.fixture
def exam(tmp_path: Path, media_dir: Path) -> Path:
    """A folder with a video to convert, an image and a DICOM cine."""
    folder = tmp_path / "exam"
    folder.mkdir()
    shutil.copyfile(make_video(VIDEO_SPECS["mpeg4_avi"], media_dir), folder / "clip.avi")
    make_image(folder, "still.png")
    shutil.copyfile(str(get_testdata_file("examples_ybr_color.dcm")), folder / "loop.dcm")
    return folder


@pytest.mark.parametrize(
    "path", [["import"], ["media"], ["media", "list"], ["media", "probe"]], ids=" ".join
)
def test_help(run_cli: CliRunner, path: list[str]) -> None:
    result = run_cli(*path, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: iamedic {' '.join(path)}")
    if path != ["media"]:
        assert "--json" in result.stdout
    if path == ["import"]:
        assert "exit status" in result.stdout


def test_import_then_list(run_cli: CliRunner, exam: Path) -> None:
    assert run_cli("studies", "create", "Exam").returncode == 0
    report = json_of(run_cli("import", "Exam", str(exam), "--json"))
    assert report["refused"] == [] and report["duplicates"] == []
    imported = {m["filename"]: m for m in report["imported"]}
    assert {n: (m["media_type"], m["mime_type"]) for n, m in imported.items()} == {
        "clip.avi": ("video", "video/mp4"),
        "loop.mp4": ("video", "video/mp4"),  # a DICOM cine, stored as MP4
        "still.png": ("image", "image/png"),
    }
    media_dir = get_settings().media_dir
    for media in imported.values():
        assert (media_dir / media["file_path"]).stat().st_size == media["file_size"]

    listing = json_of(run_cli("media", "list", "Exam", "--json"))
    assert listing["total"] == 3
    assert all(set(item) >= MEDIA_FIELDS for item in listing["items"])
    assert {m["id"] for m in listing["items"]} == {m["id"] for m in imported.values()}

    table = run_cli("media", "list", "Exam")
    assert table.returncode == 0, table.stderr
    header = table.stdout.splitlines()[0].split()
    assert header == ["ID", "NAME", "TYPE", "MIME", "SIZE", "STATUS", "CREATED"]
    assert table.stdout.splitlines()[-1] == "(3 media)"

    again = json_of(run_cli("import", "Exam", str(exam / "still.png"), "--json"))
    assert again["imported"] == []
    assert [d["existing"]["id"] for d in again["duplicates"]] == [imported["still.png"]["id"]]


def test_a_refusal_exits_1_and_the_rest_is_imported(
    run_cli: CliRunner, exam: Path, tmp_path: Path
) -> None:
    assert run_cli("studies", "create", "Mixed").returncode == 0
    (exam / "notes.mp4").write_text("not a video\n" * 20)
    result = run_cli("import", "Mixed", str(exam), str(tmp_path / "missing.png"), "--json")
    report = json_of(result, code=1)
    assert len(report["imported"]) == 3
    assert {Path(r["path"]).name for r in report["refused"]} == {"notes.mp4", "missing.png"}
    assert f"❌ {exam / 'notes.mp4'}: This is a text file" in result.stderr
    assert "Traceback" not in result.stderr

    human = run_cli("import", "Mixed", str(exam))
    assert human.returncode == 1
    assert "0 file(s) imported into study 'Mixed'" in human.stdout
    assert human.stdout.count("Already in the study") == 3
    assert "❌ 1 refused" in human.stdout and "notes.mp4" in human.stderr


def test_import_into_an_unknown_study_is_a_clean_failure(run_cli: CliRunner, exam: Path) -> None:
    result = run_cli("import", "Nowhere", str(exam))
    assert result.returncode == 1
    assert result.stderr.startswith("❌ No study of yours") and result.stdout == ""


def test_import_needs_a_path(run_cli: CliRunner) -> None:
    result = run_cli("import", "Exam")
    assert result.returncode == 2 and "PATH" in result.stderr


def test_probe_shows_what_an_import_would_see(run_cli: CliRunner, exam: Path) -> None:
    video = json_of(run_cli("media", "probe", str(exam / "clip.avi"), "--json"))
    assert (video["kind"], video["mime_type"], video["plan"]) == (
        "video",
        "video/x-msvideo",
        "transcode",
    )
    assert (video["width"], video["height"], video["probe"]["codec"]) == (320, 240, "mpeg4")
    assert video["probe"]["frame_count"] == 50 and video["probe"]["fps"] == 25.0
    dicom = json_of(run_cli("media", "probe", str(exam / "loop.dcm"), "--json"))
    assert (dicom["kind"], dicom["frame_count"], dicom["fps"]) == ("dicom", 30, 30.0)
    image = json_of(run_cli("media", "probe", str(exam / "still.png"), "--json"))
    assert (image["kind"], image["mime_type"]) == ("image", "image/png")

    human = run_cli("media", "probe", str(exam / "clip.avi"))
    assert human.returncode == 0, human.stderr
    assert "converted to H.264 MP4" in human.stdout
    assert not get_settings().local_db_path.exists()  # probing touches no store


def test_probe_of_a_refused_file_exits_1(run_cli: CliRunner, tmp_path: Path) -> None:
    text = tmp_path / "clip.mp4"
    text.write_text("hello\n" * 50)
    result = run_cli("media", "probe", str(text))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith(f"❌ '{text}' would be refused: This is a text file")
