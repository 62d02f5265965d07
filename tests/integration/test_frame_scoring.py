"""Automatic frames end to end: a real video whose frames are known grey levels, a real ONNX
classifier, every frame scored and stored, the runs' best frames made stills (SQLite and
PostgreSQL). A video is scored from frames decoded straight to greyscale: the same pixels as
ffmpeg's ``-pix_fmt gray``, within 2 levels of Pillow's luma of the RGB frames, and scores
within 0.01 of the RGB path's.
"""

from __future__ import annotations

import subprocess
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from iamedic_desktop.core.errors import InvalidInputError, ModelError, NotFoundError
from iamedic_desktop.core.progress import CancelToken, Progress
from iamedic_desktop.core.settings import Settings
from iamedic_desktop.media.frame_source import PixelFormatSource
from iamedic_desktop.media.runs import RunsParams, find_runs
from iamedic_desktop.media.storage import MediaStore
from iamedic_desktop.media.video_source import VideoFrameSource
from iamedic_desktop.ml.onnx_model import OnnxClassifier
from iamedic_desktop.ml.preprocess import to_batch, to_grey
from iamedic_desktop.models.local import FrameScores
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.schemas.study_browser import AiState
from iamedic_desktop.services import frame_scoring, frames, media_records, study_browser
from iamedic_desktop.services.frame_batches import THREAD_NAME
from iamedic_desktop.services.predictions import list_predictions
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from tests.factories import actor_for, make_doctor, make_study, seeding
from tests.media_samples import make_image, reference_frames
from tests.support.onnx_models import classifier_model, plane_mean, sigmoid

V3 = "frame_classifier_224x224 - 3"
V4 = "frame_classifier_224x224 - 4"
V4_MODEL = {"scale": -3.0, "bias": 1.0}  # another function of the pixels: other scores

# One grey level per frame (46 frames, 25 fps). With the default parameters and the test
# classifier sigmoid(4 m): 200 -> 0.907, 240 -> 0.972, 245 -> 0.975, 250 -> 0.979, 120 -> 0.44,
# 30 -> 0.04. A run 5..14 (a one-frame dip at 8) whose best is frame 9; 20..22 too short;
# 30..36 never reaching 0.95; 40..45 open at the end, best 42.
GREYS = [30] * 46
GREYS[5:15] = [200, 200, 240, 120, 250, 200, 200, 200, 200, 200]
GREYS[20:23] = [250, 250, 250]
GREYS[30:37] = [200] * 7
GREYS[40:46] = [200, 240, 245, 200, 200, 200]
SIZE = (160, 120)


def expected_score(grey: float, *, scale: float = 4.0, bias: float = 0.0) -> float:
    """The test classifier's score of a uniform frame of (mean) grey ``grey``."""
    return sigmoid(scale * plane_mean(grey) + bias)  # type: ignore[arg-type]


@dataclass(frozen=True)
class GreyVideo:
    """The video file and the grey level of each frame as decoded (ffmpeg, from the start)."""

    path: Path
    decoded: list[float]  # RGB, then Pillow's luma
    greys: list[np.ndarray]  # ffmpeg's -pix_fmt gray (swscale's luma, full range)

    @property
    def grey_means(self) -> list[float]:
        """The mean grey level of each frame decoded to greyscale (what is scored)."""
        return [float(grey.mean()) for grey in self.greys]


def reference_greys(path: Path, size: tuple[int, int]) -> list[np.ndarray]:
    """Every frame of ``path`` decoded by ffmpeg to 8-bit greyscale, ``size`` = (w, h)."""
    raw = subprocess.run(
        [
            *("ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(path)),
            *("-vsync", "passthrough", "-f", "rawvideo", "-pix_fmt", "gray", "-"),
        ],
        check=True,
        capture_output=True,
    ).stdout
    width, height = size
    return list(np.frombuffer(raw, np.uint8).reshape(-1, height, width))


def make_grey_video(path: Path, greys: list[int], size: tuple[int, int] = SIZE) -> Path:
    """An H.264 video (lossless, 25 fps) whose frame n is uniformly ``greys[n]``."""
    width, height = size
    raw = b"".join(bytes([g]) * (width * height) for g in greys)
    subprocess.run(
        [
            *("ffmpeg", "-nostdin", "-loglevel", "error", "-y"),
            *("-f", "rawvideo", "-pix_fmt", "gray", "-s", f"{width}x{height}", "-r", "25"),
            *("-i", "-", "-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv420p", "-g", "12"),
            str(path),
        ],
        input=raw,
        check=True,
    )
    return path


@pytest.fixture(scope="session")
def grey_video(tmp_path_factory: pytest.TempPathFactory) -> GreyVideo:
    path = make_grey_video(tmp_path_factory.mktemp("frame_scoring") / "greys.mp4", GREYS)
    decoded = [float(to_grey(frame).mean()) for frame in reference_frames(path)]
    return GreyVideo(path, decoded, reference_greys(path, SIZE))


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("frame_scoring_models")
    return {
        V3: classifier_model(folder / "v3.onnx"),
        "v3 fixed batch": classifier_model(folder / "v3_fixed.onnx", dynamic_batch=False),
        V4: classifier_model(folder / "v4.onnx", **V4_MODEL),
    }


@dataclass
class World:
    """A doctor, their study and media store, the video stored as a media row."""

    uow: UnitOfWorkFactory
    actor: Actor
    study_id: uuid.UUID
    store: MediaStore
    video: uuid.UUID

    def args(self) -> tuple[UnitOfWorkFactory, Actor, MediaStore]:
        return self.uow, self.actor, self.store

    def add(self, path: Path, mime: str) -> uuid.UUID:
        stored = self.store.copy_in(path)
        return media_records.create_media(
            self.uow, self.actor, self.study_id, filename=path.name, file_path=stored.key,
            file_size=stored.size, mime_type=mime,
        ).id  # fmt: skip


@pytest.fixture
def world(uow_factory: UnitOfWorkFactory, tmp_path: Path, grey_video: GreyVideo) -> World:
    with seeding(uow_factory) as session:
        user = make_doctor(session)
        study = make_study(session, user)
    made = World(
        uow_factory, actor_for(user), study.id, MediaStore(tmp_path / "media"), uuid.uuid4()
    )
    made.video = made.add(grey_video.path, "video/mp4")
    return made


@pytest.fixture(autouse=True)
def frame_scores_table(uow_factory: UnitOfWorkFactory) -> None:
    """``frame_scores`` is a local-store table: on the test's PostgreSQL it is made here too."""
    table = FrameScores.__table__
    table.create(uow_factory.engine, checkfirst=True)  # type: ignore[attr-defined]
    with uow_factory.engine.begin() as conn:
        conn.execute(table.delete())  # type: ignore[attr-defined]


def scoring_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD_NAME]


def test_every_frame_is_scored_and_stored(
    world: World, grey_video: GreyVideo, models: dict[str, Path]
) -> None:
    # The grey levels survive the codec (within a level), so the scores below mean something.
    assert np.abs(np.array(grey_video.decoded) - GREYS).max() <= 1.0
    assert np.abs(np.array(grey_video.grey_means) - GREYS).max() <= 1.0
    reports: list[Progress] = []
    classifier = OnnxClassifier(models[V3], V3)  # batches of 16

    result = frame_scoring.score_video(
        *world.args(), classifier, world.video, progress=reports.append
    )

    assert not result.cancelled and result.stored_at is not None
    assert (result.video_media_id, result.model_version, result.frame_count) == (
        world.video,
        V3,
        len(GREYS),
    )
    # Scored from the grey frames; within 0.01 of scoring the RGB frames through Pillow's luma.
    greys = grey_video.grey_means
    assert result.scores == pytest.approx([expected_score(g) for g in greys], abs=1e-4)
    rgb_path = classifier.classify_tensor(to_batch(reference_frames(grey_video.path)))
    assert result.scores == pytest.approx(rgb_path, abs=0.01)
    assert result.scores == pytest.approx([expected_score(g) for g in GREYS], abs=0.01)
    assert [(r.done, r.total) for r in reports] == [(0, 46), (16, 46), (32, 46), (46, 46)]
    assert frame_scoring.stored_scores(world.uow, world.actor, world.video, V3) == result
    with world.uow() as uow:  # the blob: float32 little-endian, one value per frame
        row = uow.session.get(FrameScores, (world.video, V3))
        assert row is not None and row.frame_count == 46 and len(row.scores) == 46 * 4
        assert np.frombuffer(row.scores, "<f4").tolist() == result.scores
    assert scoring_threads() == []


def textured_grey_video(path: Path) -> Path:
    """ffmpeg's moving test picture in grey (edges, gradients, text), H.264 yuv420p, 30 frames."""
    subprocess.run(
        [
            *("ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi"),
            *("-i", "testsrc2=size=160x120:rate=25,format=gray", "-frames:v", "30"),
            *("-c:v", "libx264", "-crf", "20", "-pix_fmt", "yuv420p", str(path)),
        ],
        check=True,
    )
    return path


@pytest.mark.parametrize("kind", ["uniform greys", "textured grey"])
def test_grey_frames_are_the_luma_of_the_rgb_frames_within_two_levels(
    kind: str, grey_video: GreyVideo, tmp_path: Path
) -> None:
    path = grey_video.path if kind == "uniform greys" else textured_grey_video(tmp_path / "t.mp4")
    source = VideoFrameSource(path, cache_index=False)
    try:
        assert isinstance(source, PixelFormatSource) and "gray" in source.pixel_formats
        rgb = [pixels.copy() for _, pixels in source.iter_frames()]  # the default: RGB
        grey = [pixels.copy() for _, pixels in source.iter_frames(pixel_format="gray")]
        tail = [n for n, _ in source.iter_frames(3, 7, pixel_format="gray")]
        with pytest.raises(InvalidInputError, match="rgb24 or gray"):
            next(source.iter_frames(pixel_format="yuv420p"))  # type: ignore[arg-type]
    finally:
        source.close()
    expected_rgb = reference_frames(path)
    assert len(rgb) == len(grey) == len(expected_rgb) and tail == [3, 4, 5, 6]
    for ours, theirs in zip(rgb, expected_rgb, strict=True):
        assert ours.shape == (120, 160, 3) and np.array_equal(ours, theirs)
    for frame, luma, ffmpeg_grey in zip(grey, rgb, reference_greys(path, SIZE), strict=True):
        assert frame.shape == (120, 160) and frame.dtype == np.uint8
        assert np.array_equal(frame, ffmpeg_grey)
        assert np.abs(frame.astype(int) - to_grey(luma).astype(int)).max() <= 2


def test_a_fixed_batch_classifier_and_an_image_classifier_score_alike(
    world: World, models: dict[str, Path]
) -> None:
    batched = frame_scoring.score_video(*world.args(), OnnxClassifier(models[V3], V3), world.video)

    one_by_one = OnnxClassifier(models["v3 fixed batch"], V3)
    assert one_by_one.batch_size == 1
    single = frame_scoring.score_video(*world.args(), one_by_one, world.video)

    class ImageClassifier:  # the HTTP backend's shape: images in, no prepared tensors
        def __init__(self) -> None:
            self._onnx = OnnxClassifier(models[V3], V3)
            self.model_version = V3

        def classify(self, images: list[np.ndarray]) -> list[float]:
            assert all(image.ndim == 2 for image in images)  # greyscale, at the video's size
            assert all(image.shape == SIZE[::-1] for image in images)
            return self._onnx.classify(images)

        def close(self) -> None:
            self._onnx.close()

    by_images = frame_scoring.score_video(*world.args(), ImageClassifier(), world.video)
    assert single.scores == pytest.approx(batched.scores, abs=1e-6)
    assert by_images.scores == pytest.approx(batched.scores, abs=1e-6)


def test_auto_frames_make_the_stills_the_runs_say(
    world: World, grey_video: GreyVideo, models: dict[str, Path]
) -> None:
    classifier = OnnxClassifier(models[V3], V3)

    result = frame_scoring.auto_frames(
        *world.args(), Settings(), world.video, RunsParams(), classifier=classifier
    )

    assert not result.cancelled and result.model_version == V3
    stored = frame_scoring.stored_scores(world.uow, world.actor, world.video, V3)
    assert stored is not None and result.scores == stored.scores
    assert [(r.start, r.end, r.best_index, r.extracted) for r in result.runs] == [
        (5, 14, 9, True),
        (30, 36, 30, False),
        (40, 45, 42, True),
    ]
    # The runs algorithm over the stored scores finds the same runs.
    assert [(r.start, r.end, r.best_index) for r in find_runs(stored.scores)] == [
        (r.start, r.end, r.best_index) for r in result.runs
    ]
    assert [s.frame.frame_number for s in result.stills] == [9, 42]
    assert [s.frame.timestamp_seconds for s in result.stills] == [0.36, 1.68]
    for still, n in zip(result.stills, (9, 42), strict=True):
        kept = list_predictions(world.uow, world.actor, still.frame.frame_media_id)
        assert [(p.prediction, p.model_version) for p in kept.classifications] == [
            (pytest.approx(stored.scores[n]), V3)
        ]
        assert kept.classifications[0].prediction == pytest.approx(
            expected_score(GREYS[n]), abs=0.01
        )


def test_auto_frames_reuse_the_stored_scores_of_the_version_in_use(
    world: World, models: dict[str, Path]
) -> None:
    frame_scoring.score_video(*world.args(), OnnxClassifier(models[V3], V3), world.video)
    settings = Settings(classifier_model=V3)  # the version in use; no classifier given

    result = frame_scoring.auto_frames(*world.args(), settings, world.video)

    assert result.message.startswith(f"The scores of {V3} stored earlier were used.")
    assert [s.frame.frame_number for s in result.stills] == [9, 42]
    strict = frame_scoring.auto_frames(
        *world.args(), settings, world.video, RunsParams(prediction_threshold=0.978)
    )
    assert [s.frame.frame_number for s in strict.stills] == [9]  # 250 makes it, 245 does not
    assert [s.created for s in strict.stills] == [False]


def test_cancel_stores_nothing_and_leaves_no_thread(world: World, models: dict[str, Path]) -> None:
    token = CancelToken()

    def cancel_after_the_first_batch(progress: Progress) -> None:
        if progress.done >= 16:
            token.cancel()

    result = frame_scoring.score_video(
        *world.args(), OnnxClassifier(models[V3], V3), world.video,
        progress=cancel_after_the_first_batch, cancel=token,
    )  # fmt: skip

    assert result.cancelled and result.stored_at is None
    assert len(result.scores) == 16 and "no scores were stored" in result.message
    assert frame_scoring.stored_scores(world.uow, world.actor, world.video, V3) is None
    assert scoring_threads() == []

    token = CancelToken()
    auto = frame_scoring.auto_frames(
        *world.args(), Settings(), world.video, classifier=OnnxClassifier(models[V3], V3),
        progress=cancel_after_the_first_batch, cancel=token,
    )  # fmt: skip
    assert auto.cancelled and auto.stills == [] and auto.runs == []
    assert frames.list_frames(world.uow, world.actor, world.video) == []
    assert frame_scoring.stored_scores(world.uow, world.actor, world.video, V3) is None
    assert scoring_threads() == []


def test_a_classifier_failing_midway_stores_nothing_and_leaves_no_thread(
    world: World, models: dict[str, Path]
) -> None:
    class FailingClassifier(OnnxClassifier):
        calls = 0

        def classify_tensor(self, batch: np.ndarray) -> list[float]:
            self.calls += 1
            if self.calls == 2:
                raise ModelError("The classifier stopped answering.")
            return super().classify_tensor(batch)

    with pytest.raises(ModelError, match="stopped answering"):
        frame_scoring.score_video(*world.args(), FailingClassifier(models[V3], V3), world.video)
    assert frame_scoring.stored_scores(world.uow, world.actor, world.video, V3) is None
    assert scoring_threads() == []


def test_a_second_version_gets_its_own_scores(
    world: World, grey_video: GreyVideo, models: dict[str, Path]
) -> None:
    first = frame_scoring.score_video(*world.args(), OnnxClassifier(models[V3], V3), world.video)
    second = frame_scoring.score_video(*world.args(), OnnxClassifier(models[V4], V4), world.video)

    assert second.scores == pytest.approx(
        [expected_score(g, **V4_MODEL) for g in grey_video.grey_means], abs=1e-4
    )
    assert frame_scoring.stored_scores(world.uow, world.actor, world.video, V3) == first
    assert frame_scoring.stored_scores(world.uow, world.actor, world.video, V4) == second
    again = frame_scoring.score_video(*world.args(), OnnxClassifier(models[V3], V3), world.video)
    assert again.scores == first.scores  # replaced, not doubled
    with world.uow() as uow:
        assert len(uow.session.query(FrameScores).all()) == 2


@pytest.mark.parametrize("uow_factory", ["sqlite"], indirect=True)  # media_files: local only
def test_the_video_goes_from_ai_pending_to_scored(world: World, models: dict[str, Path]) -> None:
    def video_state(version: str) -> AiState:
        rows = study_browser.media_rows(
            world.uow, world.actor, world.study_id, model_version=version
        )
        return next(r.ai_state for r in rows if r.media.id == world.video)

    def study_unscored(version: str) -> int:
        rows = study_browser.study_rows(
            world.uow, world.actor, [world.study_id], model_version=version
        )
        return rows[0].unscored

    assert (video_state(V3), study_unscored(V3)) == (AiState.PENDING, 1)

    frame_scoring.score_video(*world.args(), OnnxClassifier(models[V3], V3), world.video)

    assert (video_state(V3), study_unscored(V3)) == (AiState.SCORED, 0)
    assert (video_state(V4), study_unscored(V4)) == (AiState.PENDING, 1)  # another version


def test_refusals_store_nothing(
    world: World, models: dict[str, Path], uow_factory: UnitOfWorkFactory, tmp_path: Path
) -> None:
    classifier = OnnxClassifier(models[V3], V3)
    image = world.add(make_image(tmp_path, "scan.png"), "image/png")
    with pytest.raises(InvalidInputError, match="not a video"):
        frame_scoring.score_video(*world.args(), classifier, image)
    with seeding(uow_factory) as session:
        stranger = actor_for(make_doctor(session))
    with pytest.raises(NotFoundError, match="not found among your studies"):
        frame_scoring.score_video(world.uow, stranger, world.store, classifier, world.video)
    with pytest.raises(NotFoundError, match="not found among your studies"):
        frame_scoring.stored_scores(world.uow, stranger, world.video, V3)
    with pytest.raises(InvalidInputError, match="model version"):
        frame_scoring.score_video(*world.args(), OnnxClassifier(models[V3], "v3"), world.video)
    with world.uow() as uow:
        assert uow.session.query(FrameScores).all() == []
    assert scoring_threads() == []
