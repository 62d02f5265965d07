"""``iamedic frames list|extract`` as a user runs them: JSON, tables, refusals, Ctrl+C."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from iamedic_desktop.core.settings import get_settings
from iamedic_desktop.models import Media
from iamedic_desktop.models.local import MediaFile
from iamedic_desktop.services.local_store import open_local_store
from tests.e2e.cli_support import json_of, spawn_on_terminal, store_media
from tests.media_samples import VIDEO_SPECS, VideoSpec, make_image, make_video

CliRunner = Callable[..., subprocess.CompletedProcess[str]]
LONG_SPEC = VideoSpec("long_h264_mp4", frames=600, gop=25)  # 24 s at 25 fps


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("cli_frames_media")
    make_video(VIDEO_SPECS["h264_mp4"], directory)
    make_video(LONG_SPEC, directory)
    make_image(directory, "scan.png")
    return directory


def _assert_store_consistent() -> None:
    store = open_local_store(get_settings())
    try:
        with store.uow() as uow:
            keys = set(uow.session.scalars(select(Media.file_path)))
        assert set(store.media.keys()) == keys
        assert store.media.partial_files() == []
    finally:
        store.close()


@pytest.mark.parametrize("path", [["frames"], ["frames", "list"], ["frames", "extract"]])
def test_help(run_cli: CliRunner, path: list[str]) -> None:
    result = run_cli(*path, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: iamedic {' '.join(path)}")
    if path[-1] != "frames":
        assert "--json" in result.stdout


def test_at_minus_zero_is_zero(run_cli: CliRunner, media_dir: Path) -> None:
    """``--at -0`` takes the still at 0.000 s: in its row and in its name."""
    video = store_media(media_dir / "h264_mp4.mp4", "video/mp4")
    frame = json_of(run_cli("frames", "extract", video, "--at", "-0", "--json"))["frame"]
    assert "-0" not in json.dumps(frame["timestamp_seconds"])
    assert f"_{video}_0.000s_" in frame["still"]["filename"], frame["still"]["filename"]


def test_extract_then_list(run_cli: CliRunner, media_dir: Path) -> None:
    video = store_media(media_dir / "h264_mp4.mp4", "video/mp4")

    one = json_of(run_cli("frames", "extract", video, "--at", "0.5", "--json"))
    assert one["created"] is True
    assert (one["frame"]["frame_number"], one["frame"]["timestamp_seconds"]) == (12, 0.5)
    assert one["frame"]["still"]["mime_type"] == "image/jpeg"

    by_number = json_of(run_cli("frames", "extract", video, "--frame", "12", "--json"))
    assert by_number["created"] is True and by_number["frame"]["timestamp_seconds"] == 0.48

    batch = json_of(run_cli("frames", "extract", video, "--every-frames", "10", "--json"))
    assert (batch["planned"], batch["created"], batch["cancelled"]) == (5, 5, False)
    assert [s["frame"]["frame_number"] for s in batch["stills"]] == [0, 10, 20, 30, 40]

    seconds = json_of(run_cli("frames", "extract", video, "--every-seconds", "0.4", "--json"))
    assert (seconds["created"], seconds["existing"]) == (0, 5)  # same timestamps: reused

    listing = json_of(run_cli("frames", "list", video, "--json"))
    assert listing["total"] == 7
    assert [f["frame_number"] for f in listing["items"]] == [0, 10, 12, 12, 20, 30, 40]
    assert [f["timestamp_seconds"] for f in listing["items"]] == [
        0.0, 0.4, 0.48, 0.5, 0.8, 1.2, 1.6,
    ]  # fmt: skip
    first = listing["items"][0]
    assert {"id", "frame_number", "timestamp_seconds", "frame_media_id", "width", "height"} <= set(
        first
    )
    assert first["still"]["filename"].startswith(f"frame_{video}_0.000s_")

    table = run_cli("frames", "list", video)
    assert table.returncode == 0, table.stderr
    header, *rows = table.stdout.splitlines()
    assert header.split() == [
        "ID", "FRAME", "TIME_S", "STILL", "FILENAME", "WIDTH", "HEIGHT", "ACTIVE",
    ]  # fmt: skip
    assert rows[-1] == "(7 stills)"
    assert rows[2].split()[1:3] == ["12", "0.480"]
    _assert_store_consistent()


def test_extract_prints_a_table_and_says_when_the_still_exists(
    run_cli: CliRunner, media_dir: Path
) -> None:
    video = store_media(media_dir / "h264_mp4.mp4", "video/mp4")
    made = run_cli("frames", "extract", video, "--frame", "3")
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith("✅ Still at 0.120 s recorded.")
    again = run_cli("frames", "extract", video, "--frame", "3")
    assert "already exists" in again.stdout.splitlines()[0]
    batch = run_cli("frames", "extract", video, "--every-frames", "25")
    assert batch.stdout.splitlines()[0] == "✅ Done: 2 of 2 stills (2 new)."
    assert batch.stderr == ""  # no progress line when stderr is not a terminal


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--frame", "50"], "Frame 50 does not exist"),
        (["--at", "9.5"], "past the end"),
    ],
)
def test_bad_requests_fail_cleanly(
    run_cli: CliRunner, media_dir: Path, args: list[str], complaint: str
) -> None:
    video = store_media(media_dir / "h264_mp4.mp4", "video/mp4")
    result = run_cli("frames", "extract", video, *args, "--json")
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("❌ ") and complaint in result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr


def test_an_image_is_refused(run_cli: CliRunner, media_dir: Path) -> None:
    image = store_media(media_dir / "scan.png", "image/png")
    for args in (["list", image], ["extract", image, "--every-frames", "5"]):
        result = run_cli("frames", *args)
        assert result.returncode == 1
        assert "not a video" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["extract", "x"],
        ["extract", "x", "--at", "1", "--frame", "2"],
        ["extract", "x", "--every-frames", "0"],
        ["extract", "x", "--every-seconds", "0"],
        ["extract", "x", "--at", "nan"],
        ["extract", "x", "--frame", "1.5"],
    ],
)
def test_usage_errors_exit_2(run_cli: CliRunner, args: list[str]) -> None:
    result = run_cli("frames", *args)
    assert result.returncode == 2
    assert "usage: iamedic frames extract" in result.stderr


def test_ctrl_c_stops_cleanly_and_keeps_what_was_extracted(media_dir: Path) -> None:
    video = store_media(media_dir / f"{LONG_SPEC.name}.mp4", "video/mp4")
    process, master = spawn_on_terminal(
        ["frames", "extract", video, "--every-frames", "1", "--json"]
    )
    seen = bytearray()
    started = threading.Event()

    def read_terminal() -> None:
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the command closed the terminal
                return
            if not chunk:
                return
            seen.extend(chunk)
            made = re.findall(rb"(\d+) of 600 stills", seen)
            if made and int(made[-1]) >= 1:  # the progress line shows a still made
                started.set()

    reader = threading.Thread(target=read_terminal, daemon=True)
    reader.start()
    try:
        assert started.wait(60), seen.decode(errors="replace")
        process.send_signal(signal.SIGINT)
        stdout, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        reader.join(10)
        os.close(master)
    terminal = seen.decode(errors="replace")
    assert process.returncode == 130, terminal
    assert "Stopping after the current frame" in terminal and "Traceback" not in terminal
    result = json.loads(stdout)
    assert result["cancelled"] is True
    assert 0 < result["created"] < result["planned"] == 600
    numbers = [s["frame"]["frame_number"] for s in result["stills"]]
    assert numbers == list(range(result["created"]))
    _assert_store_consistent()
    store = open_local_store(get_settings())
    try:
        from iamedic_desktop.services.frames import list_frames

        listed = list_frames(store.uow, store.actor, video)
    finally:
        store.close()
    assert [f.frame_number for f in listed] == numbers


def test_a_kill_mid_extraction_keeps_every_recorded_still_whole(media_dir: Path) -> None:
    video = store_media(media_dir / f"{LONG_SPEC.name}.mp4", "video/mp4")
    args = ["frames", "extract", video, "--every-frames", "1"]
    process, master = spawn_on_terminal(args, stdout=subprocess.DEVNULL)
    seen = bytearray()
    try:
        while not re.findall(rb"([4-9]\d|\d{3}) of 600 stills", seen):  # some batches recorded
            chunk = os.read(master, 4096)
            assert chunk, seen.decode(errors="replace")
            seen.extend(chunk)
        process.kill()  # SIGKILL: no handler runs, a batch of stills may be stored, unrecorded
        process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
    store = open_local_store(get_settings())  # start-up maintenance sets orphans aside
    try:
        with store.uow() as uow:
            stills = list(uow.session.scalars(select(Media).where(Media.mime_type == "image/jpeg")))
            digests = {f.file_path: f.sha256 for f in uow.session.scalars(select(MediaFile))}
        assert stills
        for still in stills:  # every still recorded is whole: its file and its digest
            data = store.media.path(still.file_path).read_bytes()
            assert len(data) == still.file_size
            assert digests[still.file_path] == hashlib.sha256(data).hexdigest()
    finally:
        store.close()
    _assert_store_consistent()
