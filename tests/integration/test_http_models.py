"""The HTTP backend against a local stand-in of the web's inference services running real models.

Predictions through HTTP equal ONNX Runtime's on this workstation for the same model file; every
way a service can fail is a ModelError naming the service's address, and nothing is stored.
"""

from __future__ import annotations

import io
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from iamedic_desktop.core.errors import ModelError
from iamedic_desktop.core.settings import get_settings
from iamedic_desktop.media.storage import MediaStore
from iamedic_desktop.ml.http_models import HttpBoxModel, HttpClassifier, service_health
from iamedic_desktop.ml.onnx_model import OnnxBoxModel, OnnxClassifier
from iamedic_desktop.ml.predictor import CLASSES, PredictedBox
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.schemas.inference import PredictionRunDTO
from iamedic_desktop.services.inference import predict_media
from iamedic_desktop.services.media_records import create_media
from iamedic_desktop.services.predictions import list_predictions
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from tests.factories import actor_for, make_doctor, make_study, seeding, store_snapshot
from tests.support import onnx_models as om
from tests.support.inference_service import InferenceService

# Box centres and sizes move with the image's mean, so a service mixing up width and height, or
# rows and columns, would answer other pixels.
SHIFT = np.array([[0.05, -0.04, 0.02, 0.03]] * len(CLASSES), dtype=np.float32)
BIASES = tuple(0.3 * i - 1.2 for i in range(len(CLASSES)))
CLASSIFIER = "frame_classifier_224x224"


def _images() -> list[np.ndarray]:
    """Uniform greys, noise, a gradient and an RGB picture, none of them square."""
    rng = np.random.default_rng(12)
    gradient = np.tile(np.linspace(0, 255, 311).astype(np.uint8), (97, 1))
    return [
        np.full((90, 160), 37, np.uint8),
        np.full((240, 120), 200, np.uint8),
        rng.integers(0, 256, (67, 131), dtype=np.uint8),
        gradient,
        rng.integers(0, 256, (150, 210, 3), dtype=np.uint8),
    ]


@pytest.fixture
def classifier_file(tmp_path: Path) -> Path:
    return om.classifier_model(tmp_path / "classifier.onnx", scale=3.0, bias=0.4)


@pytest.fixture
def box_file(tmp_path: Path) -> Path:
    return om.box_model(tmp_path / "boxes.onnx", biases=BIASES, shift=SHIFT)


@pytest.fixture
def classifier_service(classifier_file: Path) -> Iterator[InferenceService]:
    with InferenceService("classifier", classifier_file, version=3) as service:
        yield service
    assert service.errors == []


@pytest.fixture
def box_service(box_file: Path) -> Iterator[InferenceService]:
    with InferenceService("boxes", box_file, version=2) as service:
        yield service
    assert service.errors == []


@pytest.fixture
def http_classifier(classifier_service: InferenceService) -> Iterator[HttpClassifier]:
    model = HttpClassifier(classifier_service.url, timeout=5.0)
    yield model
    model.close()


@pytest.fixture
def http_boxes(box_service: InferenceService) -> Iterator[HttpBoxModel]:
    model = HttpBoxModel(box_service.url, timeout=5.0)
    yield model
    model.close()


def _free_address() -> str:
    """An address where nothing listens (a port just given back by the system)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# --- the same numbers as on this workstation --------------------------------------------------


def test_classifier_over_http_equals_the_local_model(
    classifier_file: Path, classifier_service: InferenceService, http_classifier: HttpClassifier
) -> None:
    images = _images()
    local = OnnxClassifier(classifier_file, "local - 1").classify(images)
    remote = http_classifier.classify(images)
    assert np.allclose(remote, local, rtol=0, atol=1e-6)
    # The uniform ones also match the hand-worked numbers: the service got the right pixels.
    assert remote[0] == pytest.approx(om.classifier_expected(37, scale=3.0, bias=0.4), abs=1e-4)
    assert remote[1] == pytest.approx(om.classifier_expected(200, scale=3.0, bias=0.4), abs=1e-4)
    assert http_classifier.model_version == f"{CLASSIFIER} - 3"
    # Each image went at its own size, as greyscale (the RGB one as 210 x 150 grey pixels).
    assert classifier_service.predicted == [(160, 90), (120, 240), (131, 67), (311, 97), (210, 150)]


def test_boxes_over_http_equal_the_local_model(box_file: Path, http_boxes: HttpBoxModel) -> None:
    local_model = OnnxBoxModel(box_file, "local - 1")
    for image in _images():
        local = local_model.boxes(image)
        remote = http_boxes.boxes(image)
        assert [b.bb_class for b in remote] == [b.bb_class for b in local] == list(CLASSES)
        for got, want in zip(remote, local, strict=True):
            assert np.allclose(_numbers(got), _numbers(want), rtol=1e-6, atol=1e-4)
    expected = om.box_expected(37, 160, 90, biases=BIASES, shift=SHIFT)
    uniform = http_boxes.boxes(np.full((90, 160), 37, np.uint8))
    by_class = {b.bb_class: _numbers(b) for b in uniform}
    assert by_class.keys() == expected.keys()
    for cls, numbers in expected.items():
        assert np.allclose(by_class[cls], numbers, rtol=1e-5, atol=1e-3)
    assert http_boxes.model_version == "fetal_structures_bb_regressor_224x224 - 2"


def _numbers(box: PredictedBox) -> tuple[float, ...]:
    return (box.confidence, box.x_min, box.y_min, box.width, box.height)


def test_the_model_version_is_asked_once_and_follows_the_answers(
    tmp_path: Path, classifier_service: InferenceService, http_classifier: HttpClassifier
) -> None:
    assert http_classifier.model_version == f"{CLASSIFIER} - 3"
    # The web adopted a new champion meanwhile: the answers say so, and that is what is stored.
    newer = om.classifier_model(tmp_path / "newer.onnx", scale=-2.0, bias=0.1)
    classifier_service.use_model(newer, version=4)
    [score] = http_classifier.classify([np.full((50, 60), 90, np.uint8)])
    assert score == pytest.approx(om.classifier_expected(90, scale=-2.0, bias=0.1), abs=1e-4)
    assert http_classifier.model_version == f"{CLASSIFIER} - 4"


def test_nothing_is_asked_before_first_use() -> None:
    model = HttpClassifier(_free_address(), timeout=1.0)  # nothing listens, and no error yet
    with pytest.raises(ModelError, match="cannot be reached"):
        _ = model.model_version
    model.close()


# --- failures ---------------------------------------------------------------------------------

GOOD_BOX = {"class_name": "CM", "confidence": 0.9, "x_min": 1, "y_min": 2, "width": 3, "height": 4}

CLASSIFIER_FAULTS: list[tuple[str, dict[str, Any], str]] = [
    ("error", {"detail": "CUDA out of memory"}, r"HTTP 500 \(CUDA out of memory\)"),
    ("error", {"status": 503, "detail": "x" * 5000}, r"HTTP 503\. Check its log"),
    ("error", {"status": 404, "detail": "Not Found"}, r"HTTP 404 \(Not Found\)\. Check the addr"),
    ("close", {}, "closed the connection without answering /predict"),
    ("answer", {"body": {"model_version": f"{CLASSIFIER} - 3"}}, r"prediction None where a num"),
    ("answer", {"body": {"prediction": [0.4], "model_version": f"{CLASSIFIER} - 3"}}, r"\[0\.4\]"),
    ("answer", {"body": {"prediction": 1.5, "model_version": f"{CLASSIFIER} - 3"}}, "outside"),
    ("answer", {"body": {"prediction": "0.5", "model_version": "m - 3"}}, "where a number"),
    ("answer", {"body": {"prediction": 0.5}}, "the model version None"),
    ("answer", {"body": {"prediction": 0.5, "model_version": "v3"}}, "model version 'v3'"),
    ("answer", {"body": b"<html>Bad gateway</html>"}, "not JSON"),
    ("answer", {"body": [0.5]}, "a JSON list instead of an object"),
    ("answer", {"body": b'{"prediction": NaN, "model_version": "m - 1"}'}, "not a finite number"),
]


@pytest.mark.parametrize(("how", "options", "message"), CLASSIFIER_FAULTS)
def test_a_classifier_service_fault_is_a_clear_model_error(
    classifier_service: InferenceService,
    http_classifier: HttpClassifier,
    how: Any,
    options: dict[str, Any],
    message: str,
) -> None:
    assert http_classifier.model_version == f"{CLASSIFIER} - 3"
    # Images 1 and 2 are answered well, image 3 is not: the batch raises and returns nothing.
    classifier_service.misbehave(how, after=2, **options)
    with pytest.raises(ModelError, match=message) as caught:
        http_classifier.classify(_images())
    assert f"classifier service at {classifier_service.url} " in str(caught.value)
    assert len(classifier_service.predicted) == 2
    classifier_service.behave()  # and the same client works again once the service does
    assert len(http_classifier.classify(_images()[:1])) == 1


def test_a_service_slower_than_the_timeout(classifier_service: InferenceService) -> None:
    classifier_service.misbehave("sleep", seconds=30)
    model = HttpClassifier(classifier_service.url, timeout=0.3)
    with pytest.raises(ModelError, match=r"did not answer /predict within 0\.3 s") as caught:
        model.classify(_images()[:1])
    assert classifier_service.url in str(caught.value)
    model.close()


def test_unreachable_and_model_info_faults() -> None:
    address = _free_address()
    model = HttpBoxModel(address, timeout=1.0)
    with pytest.raises(ModelError, match=f"box service at {address} cannot be reached"):
        model.boxes(np.zeros((10, 10), np.uint8))
    model.close()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"version": "2"}, "no model name"),
        ({"name": CLASSIFIER, "version": [2]}, "no model version"),
        ({"name": CLASSIFIER, "version": "two"}, "spelled"),
    ],
)
def test_a_wrong_model_info_is_a_model_error(
    classifier_service: InferenceService, body: dict[str, Any], message: str
) -> None:
    classifier_service.misbehave("answer", endpoint="/model-info", body=body)
    model = HttpClassifier(classifier_service.url)
    with pytest.raises(ModelError, match=f"at {classifier_service.url} answered /model-info"):
        _ = model.model_version
    with pytest.raises(ModelError, match=message):
        service_health(classifier_service.url, 5.0)
    model.close()


BOX_FAULTS: list[tuple[list[Any] | None, str]] = [
    (None, "predictions None where a list was expected"),
    ([{**GOOD_BOX, "class_name": "cm"}], "unknown box class 'cm'"),
    ([{**GOOD_BOX, "class_name": "liver"}], "unknown box class 'liver'"),
    ([GOOD_BOX, GOOD_BOX], "two 'CM' boxes"),
    ([{**GOOD_BOX, "confidence": -0.1}], "outside"),
    ([{**GOOD_BOX, "x_min": [1]}], r"x_min \[1\] where a number"),
    ([{**GOOD_BOX, "height": "4"}], "height '4' where a number"),
    ([{k: v for k, v in GOOD_BOX.items() if k != "width"}], "width None where a number"),
    (["CM"], "that is not an object"),
]


@pytest.mark.parametrize(("items", "message"), BOX_FAULTS)
def test_a_box_service_fault_is_a_clear_model_error(
    box_service: InferenceService, http_boxes: HttpBoxModel, items: Any, message: str
) -> None:
    body = {"predictions": items, "model_version": "fetal_structures_bb_regressor_224x224 - 2"}
    box_service.misbehave("answer", body=body)
    with pytest.raises(ModelError, match=message) as caught:
        http_boxes.boxes(np.zeros((10, 10), np.uint8))
    assert f"box service at {box_service.url} " in str(caught.value)


def test_boxes_without_a_positive_size_are_dropped(
    box_service: InferenceService, http_boxes: HttpBoxModel
) -> None:
    flat = {**GOOD_BOX, "class_name": "NT", "height": 0}
    backwards = {**GOOD_BOX, "class_name": "palate", "width": -2.5}
    body = {"predictions": [backwards, GOOD_BOX, flat], "model_version": "boxes - 7"}
    box_service.misbehave("answer", body=body)
    assert http_boxes.boxes(np.zeros((10, 10), np.uint8)) == [
        PredictedBox("CM", 0.9, 1.0, 2.0, 3.0, 4.0)
    ]
    assert http_boxes.model_version == "boxes - 7"


def test_service_health(box_service: InferenceService) -> None:
    health = service_health(box_service.url, 5.0)
    assert health["health"] == {"status": "ok"}
    assert health["model_version"] == "fetal_structures_bb_regressor_224x224 - 2"
    assert health["model_info"]["classes"] == list(CLASSES)
    box_service.misbehave("error", endpoint="/health", status=502, detail="Bad Gateway")
    with pytest.raises(ModelError, match=rf"at {box_service.url} answered /health with HTTP 502"):
        service_health(box_service.url, 5.0)


# --- through the prediction workflow ---------------------------------------------------------


@dataclass(frozen=True)
class Desk:
    """A doctor's study and media store, and the two HTTP models."""

    uow: UnitOfWorkFactory
    actor: Actor
    study_id: uuid.UUID
    store: MediaStore
    classifier: HttpClassifier
    boxes: HttpBoxModel

    def add_image(self, grey: int) -> uuid.UUID:
        """A uniform 160 x 90 PNG picture of this grey level, stored, and its media row."""
        out = io.BytesIO()
        Image.new("L", (160, 90), grey).save(out, "PNG")
        stored = self.store.write_bytes(out.getvalue())
        return create_media(
            self.uow,
            self.actor,
            self.study_id,
            filename=f"scan_{grey}.png",
            file_path=stored.key,
            file_size=stored.size,
            mime_type="image/png",
        ).id

    def predict(self, ids: list[uuid.UUID]) -> PredictionRunDTO:
        """The workflow's prediction run with the HTTP backend."""
        return predict_media(
            self.uow,
            self.actor,
            self.store,
            get_settings(),
            ids,
            classifier=self.classifier,
            box_model=self.boxes,
        )


@pytest.fixture
def desk(
    uow_factory: UnitOfWorkFactory,
    tmp_path: Path,
    http_classifier: HttpClassifier,
    http_boxes: HttpBoxModel,
) -> Desk:
    with seeding(uow_factory) as session:
        user = make_doctor(session)
        study = make_study(session, user)
    store = MediaStore(tmp_path / "media")
    return Desk(uow_factory, actor_for(user), study.id, store, http_classifier, http_boxes)


def test_predict_media_stores_the_services_answers(desk: Desk) -> None:
    media_id = desk.add_image(37)
    run = desk.predict([media_id])
    assert (run.classifier_version, run.box_model_version) == (
        f"{CLASSIFIER} - 3",
        "fetal_structures_bb_regressor_224x224 - 2",
    )
    found = list_predictions(desk.uow, desk.actor, media_id)
    expected = om.classifier_expected(37, scale=3.0, bias=0.4)
    assert [(c.model_version, c.prediction) for c in found.classifications] == [
        (f"{CLASSIFIER} - 3", pytest.approx(expected, abs=1e-4))
    ]
    boxes = om.box_expected(37, 160, 90, biases=BIASES, shift=SHIFT)
    assert {b.bb_class: b.x_min for b in found.boxes} == {
        cls: pytest.approx(numbers[1], abs=1e-2) for cls, numbers in boxes.items()
    }


@pytest.mark.parametrize("failing", ["classifier", "boxes"])
def test_a_failing_service_stores_nothing(
    desk: Desk,
    classifier_service: InferenceService,
    box_service: InferenceService,
    failing: str,
) -> None:
    ids = [desk.add_image(grey) for grey in (37, 120, 200)]
    before = store_snapshot(desk.uow)
    if failing == "classifier":  # the third image of the batch gets an HTTP 500
        classifier_service.misbehave("error", after=2, detail="model crashed")
        message = rf"classifier service at {classifier_service.url} answered /predict with HTTP 500"
    else:  # the first image's boxes come back in a shape the contract does not have
        box_service.misbehave("answer", body={"predictions": {"CM": 0.9}, "model_version": "b - 2"})
        message = rf"box service at {box_service.url} answered /predict with predictions"
    with pytest.raises(ModelError, match=message):
        desk.predict(ids)
    assert store_snapshot(desk.uow) == before
