"""Predictions in the workflow on SQLite and PostgreSQL: real ONNX models over real image files.

The models (tests/support/onnx_models.py) look only at the mean grey level, so the stored
probability and boxes of a uniform image are known by hand: ``classifier_expected(grey)`` and
``box_expected(grey, W, H)`` in pixels of the image as the canvas shows it.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from iamedic_desktop.core.errors import ModelError, NotFoundError
from iamedic_desktop.core.progress import CancelToken, Progress
from iamedic_desktop.core.settings import Settings, get_settings
from iamedic_desktop.media.storage import MediaStore
from iamedic_desktop.ml.onnx_model import OnnxBoxModel, OnnxClassifier
from iamedic_desktop.models import Media, MediaType, OutboxEntry, Study
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.schemas.inference import PredictionRunDTO
from iamedic_desktop.services import annotations as annotation_service
from iamedic_desktop.services.box_sources import box_sources
from iamedic_desktop.services.classifier_model import current_classifier_version
from iamedic_desktop.services.inference import (
    import_predicted_boxes,
    predict_media,
    predict_study,
)
from iamedic_desktop.services.media_records import create_media
from iamedic_desktop.services.prediction_store import ALREADY_LABELLED, NOT_USEFUL_WITH_BOXES
from iamedic_desktop.services.predictions import list_predictions
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from tests.factories import (
    actor_for,
    make_box,
    make_doctor,
    make_frame,
    make_media,
    make_study,
    make_usefulness,
    seeding,
    store_snapshot,
)
from tests.support.inference_service import InferenceService
from tests.support.onnx_models import (
    DEFAULT_BOXES,
    box_expected,
    box_model,
    classifier_expected,
    classifier_model,
)

CLASSIFIER_V1 = "frame_classifier_224x224 - 1"
CLASSIFIER_V2 = "frame_classifier_224x224 - 2"
BOXES_V1 = "fetal_structures_bb_regressor_224x224 - 1"
BOXES_V2 = "fetal_structures_bb_regressor_224x224 - 2"

# Every other class is unlikely: at grey 200 (m = 0.569) CM, NT, nasal bone, nasal tip and
# thalami are found above 0.5, the others below.
BIASES = (0.0, -4.0, 0.0, -4.0, 0.0, -4.0, 0.0, -4.0, 0.0)
BASE = DEFAULT_BOXES.copy()
BASE[0] = [0.02, 0.5, 0.1, 0.2]  # CM runs off the left edge: clipped on import
BASE[4] = [0.5, 0.5, 0.03, 0.2]  # nasal bone is too narrow to be drawn: not imported
SHIFT = np.zeros_like(BASE)
SHIFT[:, 0], SHIFT[:, 1] = 0.05, -0.05  # boxes move with the grey level
V1_BOXES = {"biases": BIASES, "base": BASE, "shift": SHIFT}
V2_CLASSIFIER = {"scale": -3.0, "bias": 0.5}


@dataclass(frozen=True)
class ModelFiles:
    classifier_v1: Path
    classifier_v2: Path
    boxes_v1: Path
    boxes_v2: Path


@pytest.fixture(scope="session")
def model_files(tmp_path_factory: pytest.TempPathFactory) -> ModelFiles:
    folder = tmp_path_factory.mktemp("inference_models")
    return ModelFiles(
        classifier_v1=classifier_model(folder / "c1.onnx"),
        classifier_v2=classifier_model(folder / "c2.onnx", **V2_CLASSIFIER),
        boxes_v1=box_model(folder / "b1.onnx", **V1_BOXES),
        boxes_v2=box_model(folder / "b2.onnx"),
    )


def picture_bytes(grey: int, size: tuple[int, int], fmt: str, orientation: int = 1) -> bytes:
    """A uniform RGB picture of this grey level, with an EXIF orientation when not upright."""
    out = io.BytesIO()
    image = Image.new("RGB", size, (grey, grey, grey))
    if orientation != 1:
        exif = Image.Exif()
        exif[0x0112] = orientation
        image.save(out, fmt, exif=exif.tobytes())
    else:
        image.save(out, fmt)
    return out.getvalue()


@dataclass
class World:
    """A doctor, their study, a media store, the models, and helpers to store pictures."""

    uow: UnitOfWorkFactory
    actor: Actor
    study_id: uuid.UUID
    store: MediaStore
    files: ModelFiles

    def add_image(
        self, grey: int, size: tuple[int, int] = (200, 160), fmt: str = "PNG", orientation: int = 1
    ) -> uuid.UUID:
        stored = self.store.write_bytes(picture_bytes(grey, size, fmt, orientation))
        return create_media(
            self.uow,
            self.actor,
            self.study_id,
            filename=f"scan_{grey}.{fmt.lower()}",
            file_path=stored.key,
            file_size=stored.size,
            mime_type=f"image/{fmt.lower()}",
        ).id

    def _study(self, session: Session) -> Study:
        study = session.get(Study, self.study_id)
        assert study is not None
        return study

    def add_video(self) -> uuid.UUID:
        """A video row whose file is not here (a pulled one not fetched yet)."""
        with seeding(self.uow) as session:
            return make_media(session, self._study(session), media_type=MediaType.VIDEO).id

    def add_still(self, grey: int, size: tuple[int, int] = (96, 64)) -> uuid.UUID:
        """A still stored as a JPEG (its frames row has its size); its video's file is not here."""
        stored = self.store.write_bytes(picture_bytes(grey, size, "JPEG"))
        with seeding(self.uow) as session:
            video = make_media(session, self._study(session), media_type=MediaType.VIDEO)
            frame = make_frame(session, video, width=size[0], height=size[1])
            still = session.get(Media, frame.frame_media_id)
            assert still is not None
            still.file_path, still.file_size = stored.key, stored.size
            return still.id

    def classifier(self, version: int = 1) -> OnnxClassifier:
        if version == 1:
            return OnnxClassifier(self.files.classifier_v1, CLASSIFIER_V1)
        return OnnxClassifier(self.files.classifier_v2, CLASSIFIER_V2)

    def boxes(self, version: int = 1) -> OnnxBoxModel:
        if version == 1:
            return OnnxBoxModel(self.files.boxes_v1, BOXES_V1)
        return OnnxBoxModel(self.files.boxes_v2, BOXES_V2)

    def predict(self, ids: list[uuid.UUID], version: int = 1, **kwargs: object) -> PredictionRunDTO:
        return predict_media(
            self.uow,
            self.actor,
            self.store,
            get_settings(),
            ids,
            classifier=self.classifier(version),
            box_model=self.boxes(version),
            **kwargs,  # type: ignore[arg-type]
        )


@pytest.fixture
def world(uow_factory: UnitOfWorkFactory, tmp_path: Path, model_files: ModelFiles) -> World:
    with seeding(uow_factory) as session:
        user = make_doctor(session)
        study = make_study(session, user)
    return World(
        uow_factory, actor_for(user), study.id, MediaStore(tmp_path / "media"), model_files
    )


# --- checks -----------------------------------------------------------------------------------


def stored_grey(world: World, media_id: uuid.UUID) -> int:
    """The grey level the stored file decodes to (a JPEG's may differ from what was asked)."""
    with world.uow() as uow:
        key = uow.session.get(Media, media_id).file_path  # type: ignore[union-attr]
    pixels = np.asarray(Image.open(world.store.path(key)).convert("L"))
    assert pixels.min() == pixels.max(), "a uniform picture"
    return int(pixels[0, 0])


def assert_predicted(
    world: World,
    media_id: uuid.UUID,
    grey: int,
    size: tuple[int, int],
    *,
    classifier: tuple[str, dict[str, float]] = (CLASSIFIER_V1, {}),
    boxes: tuple[str, dict[str, object]] = (BOXES_V1, V1_BOXES),
) -> None:
    """The stored probability and boxes are the models' known numbers for this picture."""
    stored = list_predictions(world.uow, world.actor, media_id)
    probabilities = {c.model_version: c.prediction for c in stored.classifications}
    version, options = classifier
    # The models average 50,176 values in float32: a few 1e-5 off the exact mean.
    assert probabilities[version] == pytest.approx(classifier_expected(grey, **options), abs=1e-4)
    version, box_options = boxes
    found = {
        b.bb_class: (b.confidence, b.x_min, b.y_min, b.width, b.height)
        for b in stored.boxes
        if b.model_version == version
    }
    expected = box_expected(grey, *size, **box_options)  # type: ignore[arg-type]
    assert set(found) == set(expected)
    for cls, values in expected.items():
        assert found[cls][0] == pytest.approx(values[0], abs=1e-4), cls
        assert found[cls][1:] == pytest.approx(values[1:], abs=1e-3), cls


def label_of(world: World, media_id: uuid.UUID) -> int | None:
    label = annotation_service.get_annotations(world.uow, world.actor, media_id).usefulness
    return None if label is None else label.usefulness


# --- predicting -------------------------------------------------------------------------------


def test_pictures_get_the_models_numbers_and_a_label_only_where_none(world: World) -> None:
    useful = world.add_image(200)
    useless = world.add_image(60, size=(120, 90))
    labelled = world.add_image(200)
    with seeding(world.uow) as session:
        make_usefulness(session, session.get(Media, labelled), 0)  # type: ignore[arg-type]
    still = world.add_still(180)
    seen: list[Progress] = []

    run = world.predict([useful, useless, labelled, still, useful], progress=seen.append)

    assert (run.planned, run.cancelled, run.skipped) == (4, False, [])
    assert run.predicted_ids == [useful, useless, labelled, still]
    assert (run.classifier_version, run.box_model_version) == (CLASSIFIER_V1, BOXES_V1)
    assert_predicted(world, useful, 200, (200, 160))
    assert_predicted(world, useless, 60, (120, 90))
    assert_predicted(world, labelled, 200, (200, 160))
    assert_predicted(world, still, stored_grey(world, still), (96, 64))
    # The label follows the classifier (> 0.5) where there was none; the clinician's stays.
    assert [label_of(world, m) for m in (useful, useless, labelled, still)] == [1, 0, 0, 1]
    assert run.labelled_ids == [useful, useless, still]
    kept = run.predicted[2]
    assert (kept.label_set, kept.label_kept, kept.label_note) == (None, 0, ALREADY_LABELLED)
    assert run.predicted[0].probability == pytest.approx(classifier_expected(200), abs=1e-4)
    assert len(run.predicted[0].boxes) == 9
    assert [(p.done, p.total) for p in seen][-1] == (4, 4)
    assert [p.done for p in seen] == sorted(p.done for p in seen)


def test_boxes_are_in_pixels_of_the_picture_as_the_canvas_shows_it(world: World) -> None:
    # Stored 64 x 32 and marked "turn a quarter" (EXIF 6): shown, and predicted, as 32 x 64.
    turned = world.add_image(200, size=(64, 32), fmt="JPEG", orientation=6)
    world.predict([turned])
    assert_predicted(world, turned, stored_grey(world, turned), (32, 64))


def test_without_labels_nothing_is_labelled(world: World) -> None:
    image = world.add_image(200)
    run = world.predict([image], set_labels=False)
    assert run.labelled_ids == [] and label_of(world, image) is None
    assert_predicted(world, image, 200, (200, 160))


def test_not_useful_is_not_set_over_a_clinicians_boxes(world: World) -> None:
    image = world.add_image(60)
    with seeding(world.uow) as session:
        make_box(session, session.get(Media, image), bb_class="NT")  # type: ignore[arg-type]
    run = world.predict([image])
    assert run.predicted[0].label_note == NOT_USEFUL_WITH_BOXES
    assert label_of(world, image) is None
    boxes = annotation_service.get_annotations(world.uow, world.actor, image).boxes
    assert [b.bb_class for b in boxes] == ["NT"]


def test_a_second_model_version_is_stored_beside_the_first(world: World) -> None:
    image = world.add_image(200)
    world.predict([image])
    run = world.predict([image], version=2)
    assert (run.classifier_version, run.box_model_version) == (CLASSIFIER_V2, BOXES_V2)
    assert_predicted(world, image, 200, (200, 160))
    assert_predicted(
        world,
        image,
        200,
        (200, 160),
        classifier=(CLASSIFIER_V2, V2_CLASSIFIER),
        boxes=(BOXES_V2, {}),
    )
    stored = list_predictions(world.uow, world.actor, image)
    assert len(stored.classifications) == 2 and len(stored.boxes) == 18
    # v2 finds it not useful (0.15), but the label v1 set the first time stays.
    assert classifier_expected(200, **V2_CLASSIFIER) < 0.5
    assert label_of(world, image) == 1 and run.labelled_ids == []


def test_running_a_version_again_replaces_its_numbers(world: World) -> None:
    image = world.add_image(200)
    first = world.predict([image])
    second = world.predict([image])
    stored = list_predictions(world.uow, world.actor, image)
    assert len(stored.classifications) == 1 and len(stored.boxes) == 9
    assert second.predicted[0].classification.id == first.predicted[0].classification.id  # type: ignore[union-attr]
    assert second.predicted[0].removed_boxes == []


@pytest.mark.parametrize("uow_factory", ["sqlite"], indirect=True)
def test_what_a_run_stores_reaches_the_outbox(world: World) -> None:
    image = world.add_image(200)
    run = world.predict([image])
    made = run.predicted[0]
    ids = [made.classification.id, *(b.id for b in made.boxes)]  # type: ignore[union-attr]
    with world.uow() as uow:
        tables = uow.session.scalars(
            select(OutboxEntry.table_name).where(OutboxEntry.row_id.in_(ids))
        ).all()
        label_ops = uow.session.scalars(
            select(OutboxEntry.table_name).where(
                OutboxEntry.table_name == "picture_classification_annotations"
            )
        ).all()
    assert sorted(tables) == ["picture_bb_predictions"] * 9 + ["picture_classification_predictions"]
    assert label_ops == ["picture_classification_annotations"]


def test_a_missing_file_is_skipped_with_its_reason(world: World) -> None:
    image = world.add_image(200)
    with seeding(world.uow) as session:
        study = session.get(Study, world.study_id)
        pulled = make_media(session, study).id  # type: ignore[arg-type]
    video = world.add_video()
    run = world.predict([pulled, image, video])
    assert run.predicted_ids == [image]
    assert [(s.media_id, s.media_type) for s in run.skipped] == [
        (pulled, MediaType.IMAGE),
        (video, MediaType.VIDEO),
    ]
    assert all("iamedic media fetch" in s.reason for s in run.skipped)
    assert list_predictions(world.uow, world.actor, pulled).classifications == []
    assert "1 of 3 media predicted" in run.message and "2 skipped" in run.message


def test_cancel_keeps_what_was_done(world: World) -> None:
    images = [world.add_image(grey) for grey in (200, 190, 180, 170, 160)]
    token = CancelToken()

    def progress(step: Progress) -> None:
        if step.done == 2:
            token.cancel()

    run = world.predict(images, progress=progress, cancel=token)
    assert run.cancelled and run.predicted_ids == images[:2]
    assert "3 not reached" in run.message
    for media_id in images[:2]:
        assert len(list_predictions(world.uow, world.actor, media_id).classifications) == 1
    for media_id in images[2:]:
        assert list_predictions(world.uow, world.actor, media_id).classifications == []
        assert label_of(world, media_id) is None


def test_another_doctors_media_refuses_the_run_and_stores_nothing(world: World) -> None:
    mine = world.add_image(200)
    with seeding(world.uow) as session:
        theirs = make_media(session, make_study(session, make_doctor(session))).id
    before = store_snapshot(world.uow)
    with pytest.raises(NotFoundError, match="not found among your studies"):
        world.predict([mine, theirs])
    assert store_snapshot(world.uow) == before


def test_a_study_is_predicted_whole(world: World) -> None:
    image = world.add_image(200)
    still = world.add_still(180)
    run = predict_study(
        world.uow,
        world.actor,
        world.store,
        get_settings(),
        world.study_id,
        classifier=world.classifier(),
        box_model=world.boxes(),
    )
    assert set(run.predicted_ids) == {image, still}
    assert [s.media_type for s in run.skipped] == [MediaType.VIDEO]  # the still's, not fetched
    assert_predicted(world, image, 200, (200, 160))


# --- importing predicted boxes ----------------------------------------------------------------


def test_confident_boxes_become_annotations_for_classes_not_annotated(world: World) -> None:
    image = world.add_image(200)
    with seeding(world.uow) as session:
        make_box(session, session.get(Media, image), bb_class="NT")  # type: ignore[arg-type]
    world.predict([image])
    expected = box_expected(200, 200, 160, **V1_BOXES)  # type: ignore[arg-type]

    imported = import_predicted_boxes(
        world.uow, world.actor, image, BOXES_V1, media_store=world.store
    )

    # Above 0.5: CM, NT, nasal bone, nasal tip, thalami. NT is the clinician's; nasal bone is
    # 6 px wide; CM is clipped at the left edge.
    assert [b.bb_class for b in imported.boxes] == ["CM", "nasal tip", "thalami"]
    assert {s.bb_class: s.reason for s in imported.skipped}.keys() == {"NT", "nasal bone"}
    made = {b.bb_class: (b.x_min, b.y_min, b.width, b.height) for b in imported.boxes}
    _, x, y, w, h = expected["CM"]
    assert x < 0 and made["CM"] == pytest.approx((0.0, y, w + x, h), abs=1e-3)
    assert made["thalami"] == pytest.approx(expected["thalami"][1:], abs=1e-3)
    boxes = annotation_service.get_annotations(world.uow, world.actor, image).boxes
    assert sorted(b.bb_class for b in boxes) == ["CM", "NT", "nasal tip", "thalami"]
    nt = next(b for b in boxes if b.bb_class == "NT")
    assert (nt.x_min, nt.y_min, nt.width, nt.height) == (20.0, 30.0, 50.0, 40.0)  # untouched
    sources = box_sources(world.uow, world.actor, image)
    if world.uow.engine.dialect.name == "sqlite":
        assert imported.sources_kept
        assert {c: (s.model_version, s.confidence) for c, s in sources.items()} == {
            c: (BOXES_V1, pytest.approx(expected[c][0], abs=1e-4))
            for c in ("CM", "nasal tip", "thalami")
        }
    else:  # a bare central database keeps no sources
        assert not imported.sources_kept and sources == {}

    again = import_predicted_boxes(world.uow, world.actor, image, BOXES_V1, media_store=world.store)
    assert again.boxes == []  # every confident class is annotated now


def test_a_media_labelled_not_useful_gets_no_boxes(world: World) -> None:
    image = world.add_image(200)
    world.predict([image], set_labels=False)
    annotation_service.set_usefulness(world.uow, world.actor, image, 0)
    imported = import_predicted_boxes(world.uow, world.actor, image, BOXES_V1)
    assert imported.boxes == [] and len(imported.skipped) == 5
    assert annotation_service.get_annotations(world.uow, world.actor, image).boxes == []


def test_a_still_is_clipped_to_its_frame_size(world: World) -> None:
    still = world.add_still(200, size=(200, 160))
    world.predict([still])
    imported = import_predicted_boxes(world.uow, world.actor, still, BOXES_V1)
    cm = next(b for b in imported.boxes if b.bb_class == "CM")
    assert cm.x_min == 0.0


def test_importing_from_a_version_that_never_predicted_is_refused(world: World) -> None:
    image = world.add_image(200)
    world.predict([image])
    before = store_snapshot(world.uow)
    with pytest.raises(NotFoundError, match="predict it first"):
        import_predicted_boxes(world.uow, world.actor, image, BOXES_V2)
    with seeding(world.uow) as session:
        stranger = actor_for(make_doctor(session))
    after_seed = store_snapshot(world.uow)
    with pytest.raises(NotFoundError):
        import_predicted_boxes(world.uow, stranger, image, BOXES_V1)
    assert store_snapshot(world.uow) == after_seed
    assert before["picture_bb_annotations"] == after_seed["picture_bb_annotations"]


# --- videos -----------------------------------------------------------------------------------


@pytest.mark.parametrize("uow_factory", ["sqlite"], indirect=True)  # frame scores: local store
def test_a_videos_frames_are_scored_with_the_pictures(world: World, tmp_path: Path) -> None:
    frame_scoring = pytest.importorskip("iamedic_desktop.services.frame_scoring")
    from tests.media_samples import VIDEO_SPECS, make_video

    path = make_video(VIDEO_SPECS["h264_mp4"], tmp_path / "videos")  # 50 frames
    stored = world.store.copy_in(path)
    video = create_media(
        world.uow,
        world.actor,
        world.study_id,
        filename=path.name,
        file_path=stored.key,
        file_size=stored.size,
        mime_type="video/mp4",
    ).id
    image = world.add_image(200)
    run = world.predict([video, image])
    assert run.predicted_ids == [image, video]  # pictures first: their results come quickest
    item = run.predicted[1]
    scores = frame_scoring.stored_scores(world.uow, world.actor, video, CLASSIFIER_V1)
    assert scores is not None and len(scores.scores) == item.frames_scored == 50
    assert item.best_score == pytest.approx(max(scores.scores))
    assert item.useful_frames == sum(1 for s in scores.scores if s > 0.5)
    assert item.classification is None and item.label_set is None


# --- the web's HTTP inference services --------------------------------------------------------


@pytest.fixture
def services(model_files: ModelFiles) -> Iterator[tuple[InferenceService, InferenceService]]:
    with (
        InferenceService("classifier", model_files.classifier_v1, version=3) as classifier,
        InferenceService("boxes", model_files.boxes_v1, version=2) as boxes,
    ):
        yield classifier, boxes


def http_settings(services: tuple[InferenceService, InferenceService]) -> Settings:
    return Settings(
        inference="http",
        classifier_service_url=services[0].url,
        box_service_url=services[1].url,
    )


@pytest.mark.parametrize("uow_factory", ["sqlite"], indirect=True)
def test_models_from_the_settings_over_http(
    world: World, services: tuple[InferenceService, InferenceService]
) -> None:
    image = world.add_image(200)
    settings = http_settings(services)
    assert current_classifier_version(settings) is None  # never seen: nothing counts yet
    run = predict_media(world.uow, world.actor, world.store, settings, [image])
    assert run.classifier_version == "frame_classifier_224x224 - 3"
    assert run.box_model_version == "fetal_structures_bb_regressor_224x224 - 2"
    assert_predicted(
        world,
        image,
        200,
        (200, 160),
        classifier=(run.classifier_version, {}),
        boxes=(run.box_model_version, V1_BOXES),
    )
    # The service's version now decides what "AI pending" means on this workstation.
    assert current_classifier_version(settings) == run.classifier_version


@pytest.mark.parametrize("uow_factory", ["sqlite"], indirect=True)
def test_a_failing_service_is_a_clear_error_and_nothing_of_the_batch_is_stored(
    world: World, services: tuple[InferenceService, InferenceService]
) -> None:
    images = [world.add_image(grey) for grey in (200, 180)]
    services[0].misbehave("error", after=1)  # the second image of the batch is refused
    before = store_snapshot(world.uow)
    with pytest.raises(ModelError, match=f"classifier service at {services[0].url}"):
        predict_media(world.uow, world.actor, world.store, http_settings(services), images)
    assert store_snapshot(world.uow) == before
