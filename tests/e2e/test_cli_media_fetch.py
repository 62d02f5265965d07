"""``iamedic media fetch`` as a user runs it: the files of pulled media come from the real
central PostgreSQL, verified; no central database, or an unreachable one, is one clear line."""

from __future__ import annotations

import re
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from iamedic_desktop.core.migrate import upgrade_central
from iamedic_desktop.core.settings import Settings, get_settings
from iamedic_desktop.models import MediaFile, MediaType
from iamedic_desktop.services.local_store import open_local_store
from iamedic_desktop.services.studies import create_study
from iamedic_desktop.sync.central_files import open_central_files
from tests.e2e.cli_support import assert_clean_failure, json_of
from tests.media_samples import VIDEO_SPECS, make_image, make_video
from tests.support.pulled_media import pull_media, put_central, sha256_file

pytestmark = pytest.mark.postgres

CliRunner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def central(pg_database: str) -> Iterator[str]:
    """A central database storing files itself, as a deployment without the web does."""
    engine = create_engine(pg_database)
    upgrade_central(engine, file_storage="database")
    engine.dispose()
    yield pg_database


def _pulled_study(central_url: str, tmp_path: Path, *, corrupt: bool = False) -> dict[str, str]:
    """The CLI's store with a study of a pulled video and image; their files put centrally."""
    engine = create_engine(central_url)
    store = open_local_store(get_settings())
    try:
        files = open_central_files(Settings(central_media_dir=None), engine.connect)
        study = create_study(store.uow, store.actor, "Pulled")
        video = make_video(VIDEO_SPECS["h264_mp4"], tmp_path / "central")
        image = make_image(tmp_path / "central", "scan.png")
        ids = {
            "video": pull_media(store, study.id, video, MediaType.VIDEO, "video/mp4"),
            "image": pull_media(store, study.id, image, MediaType.IMAGE, "image/png"),
        }
        keys = {name: put_central(store, files, ids[name], p) for name, p in
                (("video", video), ("image", image))}  # fmt: skip
        if corrupt:
            with engine.begin() as conn:
                conn.execute(
                    text("UPDATE workstation.file_chunks SET data = '\\x00' WHERE file_path = :k"),
                    {"k": keys["image"]},
                )
    finally:
        store.close()
        engine.dispose()
    return {
        "study": str(study.id),
        "video": str(ids["video"]),
        "image": str(ids["image"]),
        "video_sha": sha256_file(video),
        "video_key": keys["video"],
    }


def test_help(run_cli: CliRunner) -> None:
    result = run_cli("media", "fetch", "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: iamedic media fetch [-h] [--json] TARGET")
    assert "exit status" in result.stdout and "SHA-256" in result.stdout


def test_fetch_a_study_then_nothing_is_left_to_fetch(
    run_cli: CliRunner, central: str, tmp_path: Path
) -> None:
    pulled = _pulled_study(central, tmp_path)
    env = {"IAMEDIC_CENTRAL_URL": central}

    report = json_of(run_cli("media", "fetch", "Pulled", "--json", env=env))

    assert {m["id"] for m in report["fetched"]} == {pulled["video"], pulled["image"]}
    assert report["refused"] == [] and report["cancelled"] is False
    stored = get_settings().media_dir / pulled["video_key"]
    assert sha256_file(stored) == pulled["video_sha"]
    store = open_local_store(get_settings())
    try:
        with store.uow() as uow:
            record = uow.session.get_one(MediaFile, pulled["video_key"])
    finally:
        store.close()
    assert record.sha256 == pulled["video_sha"] and record.probe_json
    again = run_cli("media", "fetch", pulled["video"], env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout == "✅ Nothing to fetch: the files are already on this workstation.\n"
    # Playable as any imported video: the frames command takes a still from it.
    still = run_cli("frames", "extract", pulled["video"], "--frame", "5", "--json")
    assert still.returncode == 0, still.stderr


def test_a_damaged_central_copy_is_refused_with_its_reason_and_the_rest_fetched(
    run_cli: CliRunner, central: str, tmp_path: Path
) -> None:
    pulled = _pulled_study(central, tmp_path, corrupt=True)

    result = run_cli("media", "fetch", "Pulled", env={"IAMEDIC_CENTRAL_URL": central})

    assert result.returncode == 1
    [summary] = result.stdout.splitlines()
    assert re.fullmatch(
        r"❌ 1 media file\(s\) fetched \(0\.\d MiB\), 1 refused \(reasons on stderr\)", summary
    )
    assert result.stderr.startswith(f"❌ Media {pulled['image']}: The central copy of file ")
    assert "is damaged" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        (None, "No central database is configured"),
        ("postgresql://nobody@127.0.0.1:1/none", "The central database cannot be reached"),
    ],
    ids=["not configured", "unreachable"],
)
def test_without_a_reachable_central_database_one_line_says_so(
    run_cli: CliRunner, central: str, tmp_path: Path, url: str | None, fragment: str
) -> None:
    pulled = _pulled_study(central, tmp_path)
    env = {"IAMEDIC_CENTRAL_URL": url} if url else {}

    result = run_cli("media", "fetch", pulled["study"], env=env)

    assert_clean_failure(result, fragment)
    assert len(result.stderr.strip().splitlines()) == 1
    assert list(get_settings().media_dir.glob("*")) == []


def test_a_media_of_nobody_here_is_not_found(run_cli: CliRunner) -> None:
    result = run_cli("media", "fetch", str(uuid.uuid4()))
    assert_clean_failure(result, "No study of yours has the alias or id")
