"""The models run on this workstation with ONNX Runtime.

A classifier whose input has a free batch axis scores frames in batches of ``batch_size``; one
exported with a fixed batch of 1 (as the web's are) is run frame by frame. The classifier's
probability is the first element of the first output, per image; the box model gives presence
probabilities [1, 9] and boxes [1, 9, 4] (spec/domain_rules.md).

Threading: ``InferenceSession.run`` is thread-safe; the session uses ONNX Runtime's own thread
pool, so one worker thread driving it keeps the cores busy.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.ml.predictor import PredictedBox, boxes_from_outputs
from iamedic_desktop.ml.preprocess import INPUT_NAME, INPUT_SIZE, to_batch

if TYPE_CHECKING:
    import onnxruntime

log = logging.getLogger(__name__)

DEFAULT_BATCH = 16


def open_session(path: Path) -> onnxruntime.InferenceSession:
    """An ONNX Runtime session on the CPU for the model file, checked for the expected input."""
    import onnxruntime  # heavy: imported on first use, never at start-up

    try:
        options = onnxruntime.SessionOptions()
        # Idle intra-op threads sleep instead of spinning: between batches the CPU goes to the
        # thread decoding and preparing the next frames, not to threads waiting for work.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = onnxruntime.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # ORT raises its own exception types for a bad file
        raise InvalidInputError(
            f"The model file {path.name} cannot be loaded by ONNX Runtime: {exc}"
        ) from exc
    inputs = session.get_inputs()
    names = [i.name for i in inputs]
    if len(inputs) != 1 or inputs[0].name != INPUT_NAME:
        raise InvalidInputError(
            f"The model {path.name} takes {names}; IAMEDIC models take one input named "
            f"'{INPUT_NAME}' of shape [1, 1, {INPUT_SIZE}, {INPUT_SIZE}]."
        )
    shape = inputs[0].shape
    if len(shape) != 4 or list(shape[1:]) != [1, INPUT_SIZE, INPUT_SIZE]:
        raise InvalidInputError(
            f"The model {path.name} takes input of shape {shape}; IAMEDIC models take "
            f"[1, 1, {INPUT_SIZE}, {INPUT_SIZE}]."
        )
    return session


def _free_batch(session: Any) -> bool:
    first = session.get_inputs()[0].shape[0]
    return not (isinstance(first, int) and first > 0)


class OnnxClassifier:
    """The frame classifier run with ONNX Runtime."""

    def __init__(self, path: Path, model_version: str, *, batch_size: int = DEFAULT_BATCH):
        self.model_version = model_version
        self._session = open_session(path)
        self.batch_size = batch_size if _free_batch(self._session) else 1

    def classify(self, images: Sequence[np.ndarray]) -> list[float]:
        """One probability per image."""
        return self.classify_tensor(to_batch(images))

    def classify_tensor(self, batch: np.ndarray) -> list[float]:
        """Probabilities of an already prepared ``N x 1 x 224 x 224`` batch."""
        scores: list[float] = []
        for start in range(0, batch.shape[0], self.batch_size):
            part = batch[start : start + self.batch_size]
            first = self._session.run(None, {INPUT_NAME: part})[0]
            values = np.asarray(first, dtype=np.float64).reshape(part.shape[0], -1)
            if values.shape[1] == 0:
                raise InvalidInputError(f"The classifier {self.model_version} gave no output.")
            scores.extend(float(v) for v in values[:, 0])
        return scores

    def close(self) -> None:
        """Drop the session (ONNX Runtime frees it with the last reference)."""
        self._session = None


class OnnxBoxModel:
    """The fetal-structure box model run with ONNX Runtime."""

    def __init__(self, path: Path, model_version: str):
        self.model_version = model_version
        self._session = open_session(path)
        outputs = self._session.get_outputs()
        if len(outputs) < 2:
            raise InvalidInputError(
                f"The box model {model_version} has {len(outputs)} output(s); it needs presence "
                "probabilities [1, 9] and boxes [1, 9, 4]."
            )

    def boxes(self, image: np.ndarray) -> list[PredictedBox]:
        """The boxes found in one image, in its pixels."""
        height, width = np.asarray(image).shape[:2]
        presence, boxes = self._session.run(None, {INPUT_NAME: to_batch([image])})[:2]
        try:
            return boxes_from_outputs(presence, boxes, width, height)
        except ValueError as exc:
            raise InvalidInputError(f"The box model {self.model_version}: {exc}.") from exc

    def close(self) -> None:
        """Drop the session."""
        self._session = None
