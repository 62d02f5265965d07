"""The web's pre-processing and the ONNX Runtime models, against numbers worked out by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.ml.onnx_model import OnnxBoxModel, OnnxClassifier
from iamedic_desktop.ml.predictor import CLASSES, boxes_from_outputs, model_version_of
from iamedic_desktop.ml.preprocess import to_batch, to_grey, to_input
from tests.support import onnx_models as om


def test_uniform_grey_becomes_its_scaled_value() -> None:
    # 0 -> -1, 255 -> 1, 51 -> (0.2 - 0.5) / 0.5 = -0.6: Lanczos keeps a constant image constant.
    for grey, expected in ((0, -1.0), (255, 1.0), (51, -0.6)):
        plane = to_input(np.full((300, 500), grey, np.uint8))
        assert plane.shape == (224, 224) and plane.dtype == np.float32
        assert np.allclose(plane, expected, atol=1e-6)


def test_rgb_is_converted_with_pillows_luma() -> None:
    # L = (R*299 + G*587 + B*114) / 1000, rounded: (200, 100, 50) -> 59.8 + 58.7 + 5.7 = 124.2
    rgb = np.zeros((10, 20, 3), np.uint8)
    rgb[:] = (200, 100, 50)
    assert np.all(to_grey(rgb) == 124)


def test_resize_is_pillows_lanczos_without_keeping_the_aspect() -> None:
    rng = np.random.default_rng(7)
    grey = rng.integers(0, 256, (90, 400), dtype=np.uint8)
    expected = np.asarray(
        Image.fromarray(grey, "L").resize((224, 224), Image.Resampling.LANCZOS), np.float32
    )
    assert np.allclose(to_input(grey), (expected / 255 - 0.5) / 0.5)


def test_a_batch_has_the_models_shape() -> None:
    batch = to_batch([np.zeros((8, 8), np.uint8)] * 3)
    assert batch.shape == (3, 1, 224, 224)
    assert to_batch([]).shape == (0, 1, 224, 224)


@pytest.mark.parametrize("bad", [np.zeros((4, 4), np.float32), np.zeros((4, 4, 2), np.uint8)])
def test_images_that_are_not_8_bit_grey_or_rgb_are_refused(bad: np.ndarray) -> None:
    with pytest.raises(ValueError):
        to_grey(bad)


@pytest.mark.parametrize("dynamic", [True, False])
def test_classifier_gives_the_known_probability(tmp_path: Path, dynamic: bool) -> None:
    path = om.classifier_model(tmp_path / "c.onnx", scale=3.0, bias=0.5, dynamic_batch=dynamic)
    model = OnnxClassifier(path, model_version_of("frame_classifier_224x224", 4))
    greys = [0, 64, 128, 200, 255]
    scores = model.classify([np.full((120, 160), g, np.uint8) for g in greys])
    expected = [om.classifier_expected(g, scale=3.0, bias=0.5) for g in greys]
    assert scores == pytest.approx(expected, abs=1e-5)
    assert model.model_version == "frame_classifier_224x224 - 4"
    assert model.batch_size == (16 if dynamic else 1)


def test_box_model_gives_boxes_in_pixels_and_drops_empty_ones(tmp_path: Path) -> None:
    base = om.DEFAULT_BOXES.copy()
    base[2, 2] = 0.0  # NT: zero width -> dropped
    base[5, 3] = -0.1  # nasal skin: negative height -> dropped
    path = om.box_model(tmp_path / "b.onnx", biases=[0.1 * i for i in range(9)], base=base)
    boxes = OnnxBoxModel(path, "fetal_structures_bb_regressor_224x224 - 2").boxes(
        np.full((480, 640, 3), 90, np.uint8)
    )
    expected = om.box_expected(90, 640, 480, biases=[0.1 * i for i in range(9)], base=base)
    assert [b.bb_class for b in boxes] == [c for c in CLASSES if c not in ("NT", "nasal skin")]
    for box in boxes:
        assert (box.confidence, box.x_min, box.y_min, box.width, box.height) == pytest.approx(
            expected[box.bb_class], abs=1e-3
        )
    cm = boxes[0]  # cx 0.1, cy 0.5, w 0.1, h 0.2 of 640 x 480
    assert (cm.x_min, cm.y_min, cm.width, cm.height) == pytest.approx((32, 192, 64, 96), abs=1e-3)


def test_outputs_of_the_wrong_shape_are_refused() -> None:
    with pytest.raises(ValueError, match="9 of each"):
        boxes_from_outputs(np.zeros((1, 8)), np.zeros((1, 8, 4)), 10, 10)


def test_a_file_that_is_not_a_model_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "model.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(InvalidInputError, match=r"model\.onnx cannot be loaded"):
        OnnxClassifier(bad, "x - 1")
