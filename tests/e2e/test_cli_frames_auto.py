"""``iamedic frames auto`` as a user runs it: a classifier registered in a real MLflow registry
and pulled, every frame scored, the runs' best frames made stills; scores reused; refusals;
Ctrl+C while scoring stores nothing."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from iamedic_desktop.core.settings import get_settings
from iamedic_desktop.services.local_store import open_local_store
from tests.e2e.cli_support import assert_clean_failure, json_of, spawn_on_terminal, store_media
from tests.integration.test_frame_scoring import GREYS, make_grey_video
from tests.media_samples import make_image
from tests.support import onnx_models as om

CliRunner = Callable[..., subprocess.CompletedProcess[str]]
CLASSIFIER = "frame_classifier_224x224"
LONG = 3000  # frames: scoring them takes seconds, time enough for a Ctrl+C
# mlflow's SQL store asks SQLAlchemy 2.1 for a deprecated loader when it is first imported.
pytestmark = pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy:DeprecationWarning")


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("cli_frames_auto_media")
    make_grey_video(directory / "greys.mp4", GREYS)
    make_grey_video(directory / "long.mp4", [200, 30] * (LONG // 2))
    make_image(directory, "scan.png")
    return directory


@pytest.fixture
def pulled_classifier(isolated_home: Path, tmp_path: Path) -> str:
    """A classifier registered as champion in the data folder's MLflow registry and pulled."""
    from iamedic_desktop.ml.registry import local_registry_db
    from iamedic_desktop.services.models import pull_models

    settings = get_settings()
    db = local_registry_db(settings.data_dir)
    db.parent.mkdir(parents=True, exist_ok=True)
    version = om.register(f"sqlite:///{db}", CLASSIFIER, om.classifier_model(tmp_path / "c.onnx"))
    pull_models(settings)
    return f"{CLASSIFIER} - {version}"


def _stored_scores(video: str, version: str) -> object:
    from iamedic_desktop.services.frame_scoring import stored_scores

    store = open_local_store(get_settings())
    try:
        return stored_scores(store.uow, store.actor, video, version)
    finally:
        store.close()


def test_help(run_cli: CliRunner) -> None:
    result = run_cli("frames", "auto", "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: iamedic frames auto")
    for option in ("--run-threshold", "--min-run-length", "--prediction-threshold", "--patience"):
        assert option in result.stdout


def test_auto_frames_with_the_pulled_classifier(
    run_cli: CliRunner, media_dir: Path, pulled_classifier: str
) -> None:
    video = store_media(media_dir / "greys.mp4", "video/mp4")

    result = json_of(run_cli("frames", "auto", video, "--json"))

    assert (result["model_version"], result["cancelled"]) == (pulled_classifier, False)
    assert (result["frame_count"], len(result["scores"])) == (46, 46)
    assert result["scores"][9] == pytest.approx(om.classifier_expected(250), abs=0.01)
    assert [[r["start"], r["end"], r["best_index"], r["extracted"]] for r in result["runs"]] == [
        [5, 14, 9, True],
        [30, 36, 30, False],
        [40, 45, 42, True],
    ]
    assert [s["frame"]["frame_number"] for s in result["stills"]] == [9, 42]
    assert [p["prediction"] for p in result["predictions"]] == [
        result["scores"][9],
        result["scores"][42],
    ]
    assert {p["model_version"] for p in result["predictions"]} == {pulled_classifier}

    # Again with a stricter threshold: the stored scores are used, a table is printed.
    again = run_cli("frames", "auto", video, "--prediction-threshold", "0.978")
    assert again.returncode == 0, again.stderr
    assert "stored earlier were used" in again.stdout
    assert re.search(r"BEST_FRAME.*\n.*\b9\b", again.stdout), again.stdout
    assert "Done" in again.stdout and "1 of 1 stills" in again.stdout


def test_without_a_model_the_command_says_what_to_do(run_cli: CliRunner, media_dir: Path) -> None:
    video = store_media(media_dir / "greys.mp4", "video/mp4")
    assert_clean_failure(run_cli("frames", "auto", video), "iamedic models pull")


def test_an_image_is_refused(run_cli: CliRunner, media_dir: Path, pulled_classifier: str) -> None:
    image = store_media(media_dir / "scan.png", "image/png")
    assert_clean_failure(run_cli("frames", "auto", image), "not a video")


@pytest.mark.parametrize(
    "args",
    [
        ["--run-threshold", "1.5"],
        ["--prediction-threshold", "-0.1"],
        ["--min-run-length", "0"],
        ["--patience", "1.5"],
    ],
)
def test_usage_errors_exit_2(run_cli: CliRunner, args: list[str]) -> None:
    result = run_cli("frames", "auto", "00000000-0000-0000-0000-000000000000", *args)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr


def test_ctrl_c_while_scoring_stores_nothing(media_dir: Path, pulled_classifier: str) -> None:
    video = store_media(media_dir / "long.mp4", "video/mp4")
    process, master = spawn_on_terminal(["frames", "auto", video, "--json"])
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
            if re.search(rb"Scored \d+ of 3000 frames", seen):
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
    assert "Stopping after the current step" in terminal and "Traceback" not in terminal
    result = json.loads(stdout)
    assert result["cancelled"] is True and result["stills"] == []
    assert 0 < len(result["scores"]) < LONG
    assert "no scores were stored" in result["message"]
    assert _stored_scores(video, pulled_classifier) is None
