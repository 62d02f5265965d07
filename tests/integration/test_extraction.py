"""Frame extraction end to end: generated videos stored as media rows, real decoding, real JPEGs,
the same-timestamp rule, batches, the runs algorithm, cancel, refusals (SQLite and PostgreSQL).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import event, select

from iamedic_desktop.core.errors import InvalidInputError, NotFoundError
from iamedic_desktop.core.progress import CancelToken, Progress
from iamedic_desktop.media.runs import RunsParams
from iamedic_desktop.media.still_encoder import decode_jpeg
from iamedic_desktop.media.storage import MediaStore
from iamedic_desktop.models import Media, MediaType, PictureClassificationAnnotation
from iamedic_desktop.models.local import MediaFile
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.schemas.extraction import ExtractionResult
from iamedic_desktop.services import extraction, frames, media_records, still_writer
from iamedic_desktop.services.predictions import list_predictions
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from tests.factories import actor_for, make_doctor, make_study, make_usefulness, seeding
from tests.media_samples import VIDEO_SPECS, make_image, make_video, reference_frames

MODEL_VERSION = "frame_classifier_224x224 - 3"
STILL_NAME = re.compile(r"frame_(?P<video>[0-9a-f-]{36})_(?P<ts>\d+\.\d{3})s_[0-9a-f]{8}\.jpg")


@dataclass(frozen=True)
class Sample:
    """A generated video, its ground-truth frames and its frames' presentation times."""

    path: Path
    frames: list[np.ndarray]
    times: list[float]


def _presentation_times(path: Path) -> list[float]:
    out = subprocess.run(
        [
            *("ffprobe", "-v", "error", "-select_streams", "v:0"),
            *("-show_entries", "frame=best_effort_timestamp_time", "-of", "json", str(path)),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    times = sorted(float(f["best_effort_timestamp_time"]) for f in json.loads(out)["frames"])
    return [t - times[0] for t in times]


@pytest.fixture(scope="session")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Sample]:
    directory = tmp_path_factory.mktemp("extraction_media")
    made = {}
    for name in ("h264_mp4", "vfr_mp4"):
        path = make_video(VIDEO_SPECS[name], directory)
        made[name] = Sample(path, reference_frames(path), _presentation_times(path))
    return made


@dataclass
class World:
    """A doctor, their study, a media store, and helpers to store files as media rows."""

    uow: UnitOfWorkFactory
    actor: Actor
    study_id: uuid.UUID
    store: MediaStore

    def add_media(self, path: Path) -> uuid.UUID:
        import magic

        stored = self.store.copy_in(path)
        media = media_records.create_media(
            self.uow,
            self.actor,
            self.study_id,
            filename=path.name,
            file_path=stored.key,
            file_size=stored.size,
            mime_type=magic.from_file(str(path), mime=True),
        )
        return media.id

    def args(self, media_id: uuid.UUID) -> tuple[UnitOfWorkFactory, Actor, MediaStore, uuid.UUID]:
        return self.uow, self.actor, self.store, media_id


@pytest.fixture
def world(uow_factory: UnitOfWorkFactory, tmp_path: Path) -> World:
    with seeding(uow_factory) as session:
        user = make_doctor(session)
        study = make_study(session, user)
    return World(uow_factory, actor_for(user), study.id, MediaStore(tmp_path / "media"))


@pytest.fixture
def video(world: World, samples: dict[str, Sample]) -> uuid.UUID:
    return world.add_media(samples["h264_mp4"].path)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def assert_still_is_frame(world: World, result: ExtractionResult, sample: Sample, n: int) -> None:
    """The stored JPEG is frame n: PSNR > 35 dB, and closer to n than to its neighbours."""
    still = result.frame.still
    data = world.store.path(still.file_path).read_bytes()
    assert len(data) == still.file_size
    pixels = decode_jpeg(data)
    assert pixels.shape == sample.frames[n].shape
    quality = psnr(pixels, sample.frames[n])
    assert quality > 35, f"frame {n}: {quality:.1f} dB"
    for other in (n - 1, n + 1):
        if 0 <= other < len(sample.frames):
            assert psnr(pixels, sample.frames[other]) < quality, f"frame {n} vs {other}"


def assert_store_consistent(world: World, video_id: uuid.UUID) -> None:
    """Every media row has its file; every file belongs to a row; nothing half-written."""
    with world.uow() as uow:
        keys = set(uow.session.scalars(select(Media.file_path)))
    assert set(world.store.keys()) == keys
    assert world.store.partial_files() == []


def _media_file(world: World, key: str) -> MediaFile | None:
    with world.uow() as uow:
        return uow.session.get(MediaFile, key)


# --- manual extraction ------------------------------------------------------------------------


def test_still_at_a_time_is_the_frame_shown_then(
    world: World, video: uuid.UUID, samples: dict[str, Sample]
) -> None:
    sample = samples["h264_mp4"]  # 25 fps: frame 12 is shown from 0.48 s to 0.52 s
    result = extraction.extract_frame(*world.args(video), at_seconds=0.5104)
    assert result.created and not result.reactivated
    frame = result.frame
    assert (frame.frame_number, frame.timestamp_seconds) == (12, 0.51)
    assert (frame.width, frame.height) == (320, 240)
    assert frame.video_media_id == video and frame.is_active
    still = frame.still
    assert (still.media_type, still.mime_type) == (MediaType.FRAME, "image/jpeg")
    assert still.study_id == world.study_id
    match = STILL_NAME.fullmatch(still.filename)
    assert match and match["video"] == str(video) and match["ts"] == "0.510"
    assert_still_is_frame(world, result, sample, 12)
    if world.uow.engine.dialect.name == "sqlite":  # media_files is local bookkeeping
        recorded = _media_file(world, still.file_path)
        assert recorded is not None and recorded.size == still.file_size
        assert recorded.sha256 == _sha256(world.store.path(still.file_path))
    assert_store_consistent(world, video)


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("n", [0, 1, 13, 37, 49])
def test_still_by_frame_number_is_that_exact_frame(
    world: World, video: uuid.UUID, samples: dict[str, Sample], n: int
) -> None:
    sample = samples["h264_mp4"]
    result = extraction.extract_frame(*world.args(video), frame_number=n)
    assert result.frame.frame_number == n
    assert result.frame.timestamp_seconds == round(sample.times[n], 3)
    assert_still_is_frame(world, result, sample, n)


def test_the_same_timestamp_again_returns_the_existing_still(
    world: World, video: uuid.UUID
) -> None:
    first = extraction.extract_frame(*world.args(video), frame_number=20)  # 0.8 s
    keys = world.store.keys()
    again = extraction.extract_frame(*world.args(video), at_seconds=0.8)
    by_number = extraction.extract_frame(*world.args(video), frame_number=20)
    for result in (again, by_number):
        assert not result.created and not result.reactivated
        assert result.frame.id == first.frame.id
        assert "already exists" in result.message
    assert world.store.keys() == keys  # no new file
    assert len(frames.list_frames(world.uow, world.actor, video)) == 1


def test_a_deleted_still_is_restored_with_its_annotations_cleared(
    world: World, video: uuid.UUID
) -> None:
    first = extraction.extract_frame(*world.args(video), frame_number=5)
    with seeding(world.uow) as session:
        still = session.get(Media, first.frame.frame_media_id)
        assert still is not None
        make_usefulness(session, still, 1)
    frames.delete_frame(world.uow, world.actor, first.frame.id)
    keys = world.store.keys()

    restored = extraction.extract_frame(*world.args(video), frame_number=5)
    assert restored.reactivated and not restored.created
    assert restored.cleared_annotations == 1
    assert restored.frame.id == first.frame.id and restored.frame.is_active
    assert restored.frame.still.file_path == first.frame.still.file_path
    assert world.store.keys() == keys
    with world.uow() as uow:
        assert uow.session.scalars(select(PictureClassificationAnnotation)).all() == []


# --- batches ----------------------------------------------------------------------------------


def test_every_ten_frames(world: World, video: uuid.UUID, samples: dict[str, Sample]) -> None:
    sample = samples["h264_mp4"]
    reports: list[Progress] = []
    result = extraction.extract_every_frames(*world.args(video), 10, progress=reports.append)
    assert not result.cancelled
    assert (result.planned, result.created, result.existing, result.reactivated) == (5, 5, 0, 0)
    assert [s.frame.frame_number for s in result.stills] == [0, 10, 20, 30, 40]
    assert [s.frame.timestamp_seconds for s in result.stills] == [0.0, 0.4, 0.8, 1.2, 1.6]
    for still in result.stills:
        assert_still_is_frame(world, still, sample, still.frame.frame_number)
    listed = frames.list_frames(world.uow, world.actor, video)
    assert [f.id for f in listed] == [s.frame.id for s in result.stills]
    # Progress: starts at 0, never goes back, ends complete.
    assert reports[0].done == 0 and reports[-1].done == reports[-1].total
    assert all(a.done <= b.done for a, b in itertools.pairwise(reports))
    assert_store_consistent(world, video)

    keys = world.store.keys()
    again = extraction.extract_every_frames(*world.args(video), 10)
    assert (again.created, again.existing) == (0, 5)
    assert world.store.keys() == keys


def test_every_half_second_on_a_variable_frame_rate_video(
    world: World, samples: dict[str, Sample]
) -> None:
    sample = samples["vfr_mp4"]
    video = world.add_media(sample.path)
    times = sample.times
    gaps = {round(b - a, 3) for a, b in itertools.pairwise(times)}
    assert len(gaps) > 1  # the sample really is VFR
    expected: list[int] = []
    target = 0.0
    while target <= times[-1] + 1e-9:
        shown = max(i for i, t in enumerate(times) if t <= target + 1e-9)
        if shown not in expected:
            expected.append(shown)
        target = round(target + 0.5, 6)

    result = extraction.extract_every_seconds(*world.args(video), 0.5)
    assert [s.frame.frame_number for s in result.stills] == expected
    assert [s.frame.timestamp_seconds for s in result.stills] == [
        round(times[n], 3) for n in expected
    ]
    for still in result.stills:
        assert_still_is_frame(world, still, sample, still.frame.frame_number)
    assert_store_consistent(world, video)


def test_extraction_of_a_still_on_a_vfr_video_by_time(
    world: World, samples: dict[str, Sample]
) -> None:
    sample = samples["vfr_mp4"]
    video = world.add_media(sample.path)
    at = round((sample.times[17] + sample.times[18]) / 2, 3)
    result = extraction.extract_frame(*world.args(video), at_seconds=at)
    assert (result.frame.frame_number, result.frame.timestamp_seconds) == (17, at)
    assert_still_is_frame(world, result, sample, 17)


class CancelAfter(CancelToken):
    """A token the 'user' sets at a known moment: at the ``polls``-th look."""

    def __init__(self, polls: int) -> None:
        super().__init__()
        self.polls = polls

    @property
    def cancelled(self) -> bool:
        self.polls -= 1
        if self.polls <= 0:
            self.cancel()
        return super().cancelled


def test_cancel_keeps_what_was_made_and_leaves_the_store_consistent(
    world: World, video: uuid.UUID
) -> None:
    result = extraction.extract_every_frames(*world.args(video), 3, cancel=CancelAfter(20))
    assert result.cancelled
    assert 0 < result.created < result.planned == 17
    assert "Cancelled" in result.message and f"{result.created} of 17" in result.message
    listed = frames.list_frames(world.uow, world.actor, video)
    assert sorted(f.frame_number for f in listed) == [s.frame.frame_number for s in result.stills]
    assert [s.frame.frame_number for s in result.stills] == list(range(0, 3 * result.created, 3))
    assert_store_consistent(world, video)

    finished = extraction.extract_every_frames(*world.args(video), 3)  # carry on later
    assert (finished.existing, finished.created) == (result.created, 17 - result.created)
    assert_store_consistent(world, video)


# --- runs -------------------------------------------------------------------------------------

# Per-frame scores of h264_mp4 (50 frames): a run 5..14 whose best (0.97) is frame 9; a run
# 20..22 too short; a run 30..40 never reaching 0.95; a run 44..49 open at the end, best 47.
SCORES = [0.1] * 50
SCORES[5:15] = [0.85, 0.9, 0.9, 0.5, 0.97, 0.9, 0.9, 0.9, 0.9, 0.9]
SCORES[20:23] = [0.99, 0.99, 0.99]
SCORES[30:41] = [0.9] * 11
SCORES[44:50] = [0.9, 0.9, 0.96, 0.99, 0.9, 0.9]


def test_runs_extract_the_best_frame_of_each_good_run(
    world: World, video: uuid.UUID, samples: dict[str, Sample]
) -> None:
    sample = samples["h264_mp4"]
    result = extraction.extract_runs(*world.args(video), SCORES, MODEL_VERSION, RunsParams())
    assert not result.cancelled
    assert result.scores == SCORES
    assert [(r.start, r.end, r.best_index, r.extracted) for r in result.runs] == [
        (5, 14, 9, True),
        (30, 40, 30, False),
        (44, 49, 47, True),
    ]
    assert [r.best_timestamp_seconds for r in result.runs] == [0.36, 1.2, 1.88]  # 25 fps
    assert [s.frame.frame_number for s in result.stills] == [9, 47]
    for still in result.stills:
        assert_still_is_frame(world, still, sample, still.frame.frame_number)
    assert [(p.prediction, p.model_version) for p in result.predictions] == [
        (0.97, MODEL_VERSION),
        (0.99, MODEL_VERSION),
    ]
    assert [p.media_id for p in result.predictions] == [
        s.frame.frame_media_id for s in result.stills
    ]
    stored = list_predictions(world.uow, world.actor, result.stills[1].frame.frame_media_id)
    assert [p.prediction for p in stored.classifications] == [0.99]
    assert_store_consistent(world, video)

    # Again: the stills exist (no new files), the predictions are replaced, not doubled.
    keys = world.store.keys()
    again = extraction.extract_runs(*world.args(video), SCORES, MODEL_VERSION)
    assert [s.created for s in again.stills] == [False, False]
    assert world.store.keys() == keys
    stored = list_predictions(world.uow, world.actor, again.stills[0].frame.frame_media_id)
    assert len(stored.classifications) == 1


def test_runs_cancelled_while_taking_stills_keep_the_stills_made(
    world: World, video: uuid.UUID
) -> None:
    keys = world.store.keys()

    class CancelOnceAStillIsMade(CancelToken):
        @property
        def cancelled(self) -> bool:  # polled before each frame is decoded
            if world.store.keys() != keys:  # a still's file is stored, its rows may wait
                self.cancel()
            return super().cancelled

    result = extraction.extract_runs(
        *world.args(video), SCORES, MODEL_VERSION, cancel=CancelOnceAStillIsMade()
    )
    assert result.cancelled and "Cancelled" in result.message
    assert [r.best_index for r in result.runs] == [9, 30, 47]  # the runs are all known
    assert [s.frame.frame_number for s in result.stills] == [9]
    assert [p.prediction for p in result.predictions] == [0.97]  # the still has its prediction
    assert [f.frame_number for f in frames.list_frames(world.uow, world.actor, video)] == [9]
    assert_store_consistent(world, video)


def test_a_video_deleted_during_extraction_leaves_no_stray_file(
    world: World, video: uuid.UUID
) -> None:
    deleted: list[bool] = []

    def delete_video_once_decoding(_: Progress) -> None:
        if not deleted:  # the first report comes before the first frame is decoded
            media_records.delete_media(world.uow, world.actor, video)
            deleted.append(True)

    with pytest.raises(NotFoundError):
        extraction.extract_runs(
            *world.args(video), SCORES, MODEL_VERSION, progress=delete_video_once_decoding
        )
    assert_store_consistent(world, video)


@pytest.mark.parametrize(
    ("value", "complaint"), [(1.5, "1.5"), (float("nan"), "nan"), ("high", "'high'")]
)
def test_a_classifier_giving_no_probability_is_refused(
    world: World, video: uuid.UUID, value: object, complaint: str
) -> None:
    scores = [0.9] * 50
    scores[7] = value  # type: ignore[call-overload]
    keys = world.store.keys()
    with pytest.raises(InvalidInputError, match="probability") as info:
        extraction.extract_runs(*world.args(video), scores, MODEL_VERSION)
    assert complaint in info.value.message and "frame 7" in info.value.message
    assert world.store.keys() == keys


@pytest.mark.parametrize("count", [0, 49, 51])
def test_scores_of_another_length_than_the_video_are_refused(
    world: World, video: uuid.UUID, count: int
) -> None:
    keys = world.store.keys()
    with pytest.raises(InvalidInputError, match=f"{count} scores were given for the 50 frames"):
        extraction.extract_runs(*world.args(video), [0.99] * count, MODEL_VERSION)
    assert world.store.keys() == keys
    assert frames.list_frames(world.uow, world.actor, video) == []


def test_runs_accept_numpy_scores(world: World, video: uuid.UUID) -> None:
    result = extraction.extract_runs(*world.args(video), [np.float32(0.2)] * 50, MODEL_VERSION)
    assert result.scores == [pytest.approx(0.2)] * 50 and result.runs == []
    assert result.stills == [] and not result.cancelled


# --- refusals ---------------------------------------------------------------------------------


def _all_calls(world: World, media_id: uuid.UUID) -> list[Callable[[], object]]:
    args = world.args(media_id)
    return [
        lambda: extraction.extract_frame(*args, frame_number=0),
        lambda: extraction.extract_every_frames(*args, 10),
        lambda: extraction.extract_every_seconds(*args, 0.5),
        lambda: extraction.extract_runs(*args, [0.9] * 50, MODEL_VERSION),
    ]


def test_stills_are_taken_from_videos_only(world: World, tmp_path: Path) -> None:
    image = world.add_media(make_image(tmp_path, "scan.png"))
    keys = world.store.keys()
    for call in _all_calls(world, image):
        with pytest.raises(InvalidInputError, match="not a video"):
            call()
    assert world.store.keys() == keys


def test_another_doctors_video_is_refused(
    world: World, video: uuid.UUID, uow_factory: UnitOfWorkFactory
) -> None:
    with seeding(uow_factory) as session:
        stranger = actor_for(make_doctor(session))
    keys = world.store.keys()
    for call in _all_calls(World(world.uow, stranger, world.study_id, world.store), video):
        with pytest.raises(NotFoundError, match="not found among your studies"):
            call()
    assert world.store.keys() == keys


@pytest.mark.parametrize(
    ("kwargs", "complaint"),
    [
        ({}, "either a time or a frame number"),
        ({"at_seconds": 1.0, "frame_number": 3}, "either a time or a frame number"),
        ({"frame_number": 50}, "has 50 frames"),
        ({"frame_number": -1}, "0 or more"),
        ({"at_seconds": 2.0}, "past the end"),
        ({"at_seconds": -0.5}, "0 s or later"),
        ({"at_seconds": float("nan")}, "finite"),
    ],
)
def test_bad_requests_are_refused_and_store_nothing(
    world: World, video: uuid.UUID, kwargs: dict[str, float], complaint: str
) -> None:
    keys = world.store.keys()
    with pytest.raises(InvalidInputError, match=complaint):
        extraction.extract_frame(*world.args(video), **kwargs)  # type: ignore[arg-type]
    assert world.store.keys() == keys


def test_the_last_moment_of_the_video_is_its_last_frame(world: World, video: uuid.UUID) -> None:
    result = extraction.extract_frame(*world.args(video), at_seconds=1.999)
    assert result.frame.frame_number == 49


@pytest.mark.parametrize(
    ("name", "value", "complaint"),
    [
        ("extract_every_frames", 0, "more than 0"),
        ("extract_every_frames", 2.5, "whole number"),
        ("extract_every_seconds", 0.0, "at least"),
        ("extract_every_seconds", float("inf"), "finite"),
    ],
)
def test_bad_batch_requests_are_refused(
    world: World, video: uuid.UUID, name: str, value: float, complaint: str
) -> None:
    with pytest.raises(InvalidInputError, match=complaint):
        getattr(extraction, name)(*world.args(video), value)
    with pytest.raises(InvalidInputError, match="model version"):
        extraction.extract_runs(*world.args(video), [0.9] * 50, "classifier v3")
    assert_store_consistent(world, video)


def test_a_failure_mid_batch_keeps_the_recorded_stills_and_no_stray_file(
    world: World, video: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(still_writer, "BATCH_STILLS", 2)  # stills recorded two by two

    class DeleteTheVideoOnceAStillIsMade(CancelToken):
        @property
        def cancelled(self) -> bool:  # polled between frames
            if frames.list_frames(world.uow, world.actor, video):
                media_records.delete_media(world.uow, world.actor, video)
            return super().cancelled

    with pytest.raises(NotFoundError):
        extraction.extract_every_frames(
            *world.args(video), 1, cancel=DeleteTheVideoOnceAStillIsMade()
        )
    with world.uow() as uow:  # the stills recorded before the failure stay, whole
        stills = list(uow.session.scalars(select(Media).where(Media.media_type == MediaType.FRAME)))
    assert stills and all(world.store.path(s.file_path).is_file() for s in stills)
    assert_store_consistent(world, video)  # the stills being recorded left no file behind


def test_one_still_slower_than_a_batch_is_still_answered(
    world: World, video: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(still_writer, "BATCH_SECONDS", 0.0)  # a batch is due as soon as stored
    result = extraction.extract_frame(*world.args(video), frame_number=3)
    assert result.created and result.frame.frame_number == 3
    assert_store_consistent(world, video)


def test_stills_are_recorded_in_batches_with_their_file_digests(
    world: World, video: uuid.UUID, samples: dict[str, Sample]
) -> None:
    commits: list[object] = []
    event.listen(world.uow.engine, "commit", lambda conn: commits.append(conn))
    result = extraction.extract_every_frames(*world.args(video), 1)
    planned = len(samples["h264_mp4"].frames)
    assert result.created == planned > still_writer.BATCH_STILLS
    # A transaction per still before; now at most one per batch of stills.
    assert len(commits) <= -(-planned // still_writer.BATCH_STILLS) + 1
    if world.uow.engine.dialect.name == "sqlite":  # the embedded store keeps every digest
        for still in result.stills:
            data = world.store.path(still.frame.still.file_path).read_bytes()
            row = _media_file(world, still.frame.still.file_path)
            assert row is not None and row.sha256 == hashlib.sha256(data).hexdigest()
    assert_store_consistent(world, video)
