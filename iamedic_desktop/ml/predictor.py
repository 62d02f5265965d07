"""What a model backend offers the services: a frame classifier and a box model.

Two backends keep this contract: ONNX Runtime on this workstation (``ml/onnx_model.py``) and the
web's HTTP inference services (``ml/http_models.py``). Images are numpy ``uint8`` arrays, either
``H x W`` greyscale or ``H x W x 3`` RGB, in the pixels of the stored image or decoded frame;
boxes come back in those pixels.

Threading: a model object may be used from one worker thread at a time; ONNX Runtime sessions
are thread-safe for ``run``, but the HTTP client is not shared across threads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

CLASSES: tuple[str, ...] = (
    "CM",
    "IT",
    "NT",
    "midbrain",
    "nasal bone",
    "nasal skin",
    "nasal tip",
    "palate",
    "thalami",
)
"""The box model's nine classes, in output order (spec/domain_rules.md)."""

USEFUL_ABOVE = 0.5
"""A frame counts as useful when the classifier's probability is above this."""


@dataclass(frozen=True)
class PredictedBox:
    """One box a model found, in pixels of the image it was given."""

    bb_class: str
    confidence: float
    x_min: float
    y_min: float
    width: float
    height: float


class Classifier(Protocol):
    """The frame classifier: the probability that each image is useful."""

    model_version: str

    def classify(self, images: Sequence[np.ndarray]) -> list[float]:
        """One probability per image, in order."""
        ...

    def close(self) -> None:
        """Release what the model holds (a session, a connection)."""
        ...


class BoxModel(Protocol):
    """The fetal-structure box model: at most one box per class."""

    model_version: str

    def boxes(self, image: np.ndarray) -> list[PredictedBox]:
        """The boxes found in one image (non-positive sizes already dropped)."""
        ...

    def close(self) -> None:
        """Release what the model holds (a session, a connection)."""
        ...


def model_version_of(name: str, version: str | int) -> str:
    """The stored spelling of a registry version: ``<registered name> - <version>``."""
    return f"{name} - {version}"


def boxes_from_outputs(
    presence: np.ndarray, boxes: np.ndarray, width: int, height: int
) -> list[PredictedBox]:
    """Normalised (cx, cy, w, h) boxes and presence probabilities as boxes in pixels.

    ``presence`` has 9 values and ``boxes`` 9 x 4 (a leading batch axis of 1 is dropped); a box
    with a non-positive width or height is dropped (spec/domain_rules.md).
    """
    presence = np.asarray(presence, dtype=np.float64).reshape(-1)
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if presence.shape[0] != len(CLASSES) or boxes.shape[0] != len(CLASSES):
        raise ValueError(
            f"the box model gave {presence.shape[0]} probabilities and {boxes.shape[0]} boxes; "
            f"{len(CLASSES)} of each were expected"
        )
    found: list[PredictedBox] = []
    for cls, confidence, (cx, cy, w, h) in zip(CLASSES, presence, boxes, strict=True):
        if not (w > 0 and h > 0) or not np.isfinite([cx, cy, w, h, confidence]).all():
            continue
        found.append(
            PredictedBox(
                bb_class=cls,
                confidence=float(confidence),
                x_min=float((cx - w / 2) * width),
                y_min=float((cy - h / 2) * height),
                width=float(w * width),
                height=float(h * height),
            )
        )
    return found
