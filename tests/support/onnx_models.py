"""Small real ONNX models with the IAMEDIC contract, whose outputs are known functions of pixels.

Both take ``input`` [N or 1, 1, 224, 224] float32 and look only at the mean ``m`` of the input
plane, so a test can compute the expected numbers by hand: a uniform grey image of value ``v``
has ``m = (v/255 - 0.5)/0.5`` exactly (Lanczos keeps a constant image constant).

- classifier: ``sigmoid(scale * m + bias)`` as output ``probability`` [N, 1];
- box model: presence ``sigmoid(scale * m + bias_i)`` [1, 9] and boxes [1, 9, 4] =
  ``base_i + m * shift_i`` as normalised (cx, cy, w, h).

``register`` logs a model file in a real MLflow registry the way the web's services expect it:
the run's artifacts hold ``model.onnx`` and the version's ``source`` ends with that name.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from iamedic_desktop.ml.predictor import CLASSES


def sigmoid(x: float) -> float:
    """The logistic function, as the models compute it."""
    return 1.0 / (1.0 + math.exp(-x))


def plane_mean(grey_value: int) -> float:
    """``m`` for a uniform image of this grey value."""
    return (grey_value / 255.0 - 0.5) / 0.5


def _save(model: object, path: Path) -> Path:
    import onnx

    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def _mean_nodes(helper: object, batch: str | int) -> tuple[list[object], object]:
    from onnx import TensorProto

    h = helper
    inp = h.make_tensor_value_info("input", TensorProto.FLOAT, [batch, 1, 224, 224])
    nodes = [
        h.make_node("ReduceMean", ["input"], ["mean4"], keepdims=1, axes=[1, 2, 3]),
        h.make_node("Reshape", ["mean4", "shape_n1"], ["mean"]),
    ]
    return nodes, inp


def classifier_model(
    path: Path, *, scale: float = 4.0, bias: float = 0.0, dynamic_batch: bool = True
) -> Path:
    """A classifier scoring ``sigmoid(scale * m + bias)``."""
    from onnx import TensorProto, helper, numpy_helper

    batch: str | int = "N" if dynamic_batch else 1
    nodes, inp = _mean_nodes(helper, batch)
    nodes += [
        helper.make_node("Mul", ["mean", "scale"], ["scaled"]),
        helper.make_node("Add", ["scaled", "bias"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["probability"]),
    ]
    inits = [
        numpy_helper.from_array(np.array([-1, 1], dtype=np.int64), "shape_n1"),
        numpy_helper.from_array(np.array([scale], dtype=np.float32), "scale"),
        numpy_helper.from_array(np.array([bias], dtype=np.float32), "bias"),
    ]
    out = helper.make_tensor_value_info("probability", TensorProto.FLOAT, [batch, 1])
    graph = helper.make_graph(nodes, "frame_classifier", [inp], [out], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return _save(model, path)


def classifier_expected(grey_value: int, *, scale: float = 4.0, bias: float = 0.0) -> float:
    """What ``classifier_model`` gives a uniform image of this grey value."""
    return sigmoid(scale * plane_mean(grey_value) + bias)


DEFAULT_BOXES = np.array(
    [[0.1 + 0.08 * i, 0.5, 0.1, 0.2] for i in range(len(CLASSES))], dtype=np.float32
)


def box_model(
    path: Path,
    *,
    scale: float = 4.0,
    biases: Sequence[float] = (0.0,) * len(CLASSES),
    base: np.ndarray = DEFAULT_BOXES,
    shift: np.ndarray | None = None,
) -> Path:
    """A box model: presence ``sigmoid(scale * m + bias_i)``, boxes ``base_i + m * shift_i``."""
    from onnx import TensorProto, helper, numpy_helper

    shift = np.zeros_like(base) if shift is None else shift
    nodes, inp = _mean_nodes(helper, 1)
    nodes += [
        helper.make_node("Mul", ["mean", "scale"], ["scaled"]),
        helper.make_node("Add", ["scaled", "biases"], ["logits"]),
        helper.make_node("Sigmoid", ["logits"], ["presence"]),
        helper.make_node("Reshape", ["mean", "shape_111"], ["mean3"]),
        helper.make_node("Mul", ["mean3", "shift"], ["moved"]),
        helper.make_node("Add", ["moved", "base"], ["boxes"]),
    ]
    inits = [
        numpy_helper.from_array(np.array([-1, 1], dtype=np.int64), "shape_n1"),
        numpy_helper.from_array(np.array([1, 1, 1], dtype=np.int64), "shape_111"),
        numpy_helper.from_array(np.array([scale], dtype=np.float32), "scale"),
        numpy_helper.from_array(np.array([list(biases)], dtype=np.float32), "biases"),
        numpy_helper.from_array(base.astype(np.float32)[None], "base"),
        numpy_helper.from_array(shift.astype(np.float32)[None], "shift"),
    ]
    outputs = [
        helper.make_tensor_value_info("presence", TensorProto.FLOAT, [1, len(CLASSES)]),
        helper.make_tensor_value_info("boxes", TensorProto.FLOAT, [1, len(CLASSES), 4]),
    ]
    graph = helper.make_graph(nodes, "fetal_structures", [inp], outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return _save(model, path)


def box_expected(
    grey_value: int,
    width: int,
    height: int,
    *,
    scale: float = 4.0,
    biases: Sequence[float] = (0.0,) * len(CLASSES),
    base: np.ndarray = DEFAULT_BOXES,
    shift: np.ndarray | None = None,
) -> dict[str, tuple[float, float, float, float, float]]:
    """Per class: (confidence, x_min, y_min, width, height) in pixels, sizes > 0 only."""
    m = plane_mean(grey_value)
    shift = np.zeros_like(base) if shift is None else shift
    found = {}
    for i, cls in enumerate(CLASSES):
        cx, cy, w, h = (
            float(np.float32(b) + np.float32(m) * np.float32(s))
            for b, s in zip(base[i], shift[i], strict=True)
        )
        if w <= 0 or h <= 0:
            continue
        found[cls] = (
            sigmoid(scale * m + biases[i]),
            (cx - w / 2) * width,
            (cy - h / 2) * height,
            w * width,
            h * height,
        )
    return found


def _artifact_root(tracking_uri: str, model_file: Path) -> str:
    """Beside the registry's SQLite file (never MLflow's default, ``./mlruns`` in the cwd)."""
    if tracking_uri.startswith("sqlite:///"):
        root = Path(tracking_uri.removeprefix("sqlite:///")).parent / "artifacts"
    else:
        root = model_file.parent / "mlflow-artifacts"
    root.mkdir(parents=True, exist_ok=True)
    return root.as_uri()


def register(
    tracking_uri: str, name: str, model_file: Path, *, alias: str | None = "champion"
) -> str:
    """Log ``model_file`` as a run's ``model.onnx``, register it as a new version of ``name``
    (source ending in ``model.onnx``), point ``alias`` at it; returns the version number."""
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(tracking_uri)
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    experiment = client.get_experiment_by_name("iamedic-tests")
    experiment_id = (
        experiment.experiment_id
        if experiment is not None
        else client.create_experiment(
            "iamedic-tests", artifact_location=_artifact_root(tracking_uri, model_file)
        )
    )
    run = client.create_run(experiment_id)
    staged = model_file.parent / "staged" / "model.onnx"
    staged.parent.mkdir(parents=True, exist_ok=True)
    staged.write_bytes(model_file.read_bytes())
    client.log_artifact(run.info.run_id, str(staged))
    client.log_metric(run.info.run_id, "val_accuracy", 0.9)
    client.set_terminated(run.info.run_id)
    try:
        client.get_registered_model(name)
    except Exception:
        client.create_registered_model(name)
    version = client.create_model_version(
        name, source=f"{run.info.artifact_uri}/model.onnx", run_id=run.info.run_id
    )
    if alias is not None:
        client.set_registered_model_alias(name, alias, version.version)
    return str(version.version)
