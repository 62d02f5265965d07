"""``iamedic annotations list|set-box|delete-box|set-usefulness`` as a script runs them."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from iamedic_desktop.core.settings import get_settings
from iamedic_desktop.schemas.predictions import BoxPredictionIn
from iamedic_desktop.services.local_store import open_local_store
from tests.e2e.cli_support import json_of, store_media
from tests.factories import make_doctor, make_media, make_study, seeding, store_snapshot
from tests.media_samples import VIDEO_SPECS, make_image, make_video

CliRunner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("cli_annotations_media")
    make_video(VIDEO_SPECS["h264_mp4"], directory)
    make_image(directory, "scan.png", size=(200, 100))
    return directory


def _snapshot() -> object:
    store = open_local_store(get_settings())
    try:
        return store_snapshot(store.uow)
    finally:
        store.close()


def _refused(result: subprocess.CompletedProcess[str], *words: str) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("❌ "), result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("command", ["", "list", "set-box", "delete-box", "set-usefulness"])
def test_help(run_cli: CliRunner, command: str) -> None:
    result = run_cli("annotations", *([command] if command else []), "--help")
    assert result.returncode == 0, result.stderr
    assert "usage: iamedic annotations" in result.stdout


def test_annotate_an_image(run_cli: CliRunner, media_dir: Path) -> None:
    image = store_media(media_dir / "scan.png", "image/png")

    empty = json_of(run_cli("annotations", "list", image, "--json"))
    assert (empty["usefulness"], empty["boxes"], empty["model_versions"]) == (None, [], [])

    added = json_of(
        run_cli("annotations", "set-box", image, "nasal bone", "10", "20", "30", "40", "--json")
    )
    assert added["action"] == "added"
    assert (added["box"]["bb_class"], added["box"]["x_min"], added["box"]["height"]) == (
        "nasal bone",
        10,
        40,
    )
    moved = json_of(
        run_cli("annotations", "set-box", image, "nasal bone", "50", "0", "20", "20", "--json")
    )
    assert moved["action"] == "moved" and moved["box"]["id"] == added["box"]["id"]
    assert (moved["box"]["x_min"], moved["box"]["y_min"], moved["box"]["width"]) == (50, 0, 20)
    table = run_cli("annotations", "set-box", image, "CM", "0", "0", "200", "100")
    assert table.returncode == 0, table.stderr
    assert "✅ 'CM' box added on 'scan.png'" in table.stdout

    store = open_local_store(get_settings())
    try:
        from iamedic_desktop.services.predictions import store_box_predictions

        box = BoxPredictionIn(bb_class="NT", confidence=0.9, x_min=1, y_min=1, width=20, height=20)
        store_box_predictions(
            store.uow, store.actor, image, model_version="fetal_boxes - 2", boxes=[box]
        )
    finally:
        store.close()

    listing = json_of(run_cli("annotations", "list", image, "--json"))
    assert [b["bb_class"] for b in listing["boxes"]] == ["CM", "nasal bone"]
    assert all(b["is_hidden"] is False for b in listing["boxes"])
    assert listing["model_versions"] == ["fetal_boxes - 2"]
    shown = run_cli("annotations", "list", image)
    assert shown.returncode == 0, shown.stderr
    assert (
        "nasal bone" in shown.stdout
        and "HIDDEN" in shown.stdout
        and "fetal_boxes - 2" in shown.stdout
    )

    gone = json_of(run_cli("annotations", "delete-box", image, "CM", "--json"))
    assert gone["bb_class"] == "CM"
    useful = run_cli("annotations", "set-usefulness", image, "1")
    assert useful.returncode == 0 and "0 box(es) removed" in useful.stdout, useful
    not_useful = run_cli("annotations", "set-usefulness", image, "0")
    assert not_useful.returncode == 0, not_useful.stderr
    assert "not useful; 1 box(es) removed" in not_useful.stdout
    after = json_of(run_cli("annotations", "list", image, "--json"))
    assert (after["usefulness"]["usefulness"], after["boxes"]) == (0, [])
    again = json_of(run_cli("annotations", "set-usefulness", image, "1", "--json"))
    assert (again["label"]["usefulness"], again["removed_boxes"]) == (1, [])


def test_a_still_takes_its_size_from_its_frames_row(run_cli: CliRunner, media_dir: Path) -> None:
    video = store_media(media_dir / "h264_mp4.mp4", "video/mp4")
    still = json_of(run_cli("frames", "extract", video, "--frame", "3", "--json"))["frame"]
    width = still["width"]
    media = still["frame_media_id"]
    edge = str(width - 10)
    assert (
        json_of(run_cli("annotations", "set-box", media, "IT", edge, "0", "10", "10", "--json"))[
            "action"
        ]
        == "added"
    )
    before = _snapshot()
    _refused(
        run_cli("annotations", "set-box", media, "IT", str(width - 9), "0", "10", "10"),
        "outside",
    )
    assert _snapshot() == before


def test_bad_input_is_one_line_and_changes_nothing(run_cli: CliRunner, media_dir: Path) -> None:
    image = store_media(media_dir / "scan.png", "image/png")
    video = store_media(media_dir / "h264_mp4.mp4", "video/mp4")
    assert run_cli("annotations", "set-box", image, "CM", "0", "0", "50", "50").returncode == 0
    store = open_local_store(get_settings())
    try:
        with seeding(store.uow) as session:
            other = make_media(session, make_study(session, make_doctor(session)))
        store.media.write_bytes((media_dir / "scan.png").read_bytes(), key=other.file_path)
        others = str(other.id)
    finally:
        store.close()
    before = _snapshot()

    _refused(run_cli("annotations", "set-box", image, "CM", "190", "0", "20", "20"), "outside")
    _refused(run_cli("annotations", "set-box", image, "NT", "0", "0", "9", "50"), "10 px")
    _refused(run_cli("annotations", "set-box", image, "nasal", "0", "0", "20", "20"), "box class")
    _refused(run_cli("annotations", "set-box", video, "CM", "0", "0", "20", "20"), "video", "still")
    _refused(run_cli("annotations", "list", video), "video")
    _refused(run_cli("annotations", "set-usefulness", video, "0"), "video")
    _refused(run_cli("annotations", "delete-box", image, "NT"), "no 'NT' box")
    for command in (
        ("list", others),
        ("set-box", others, "CM", "0", "0", "20", "20"),
        ("delete-box", others, "CM"),
        ("set-usefulness", others, "0"),
    ):
        _refused(run_cli("annotations", *command))
    _refused(run_cli("annotations", "list", str(uuid.uuid4())))
    assert _snapshot() == before

    usage = run_cli("annotations", "set-usefulness", image, "2")
    assert usage.returncode == 2 and "invalid choice" in usage.stderr
    nan = run_cli("annotations", "set-box", image, "CM", "nan", "0", "20", "20")
    assert nan.returncode == 2 and "not a number of pixels" in nan.stderr
    assert _snapshot() == before
