"""Models from a real MLflow registry: pulled once, predicting the known numbers, a new champion
noticed and adopted, the cache working with the registry gone, damage repaired, an empty
registry said in words, and the admin's overview."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import numpy as np
import pytest

from iamedic_desktop.core.errors import ModelError, PermissionDeniedError
from iamedic_desktop.core.progress import CancelledError, CancelToken, Progress
from iamedic_desktop.core.settings import Settings
from iamedic_desktop.ml.predictor import CLASSES
from iamedic_desktop.ml.registry import local_registry_db
from iamedic_desktop.services.classifier_model import current_classifier_version
from iamedic_desktop.services.models import (
    check_models,
    model_status,
    open_box_model,
    open_classifier,
    pull_models,
    registry_overview,
)
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory
from tests.factories import actor_for, make_admin, make_doctor, seeding
from tests.support import onnx_models as om
from tests.support.model_registry import BOXES, CLASSIFIER, registry_uri

GREYS = (0, 40, 128, 230)
# mlflow's SQL store asks SQLAlchemy 2.1 for a deprecated loader when it is first imported (the
# test helper registering models does it before the app's code, which filters it itself).
pytestmark = pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy:DeprecationWarning")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The test's settings: no tracking URI, so the data folder's local registry."""
    return Settings()


@pytest.fixture
def registry(settings: Settings, empty_registry_db: Path) -> str:
    """The data folder's local registry, created empty."""
    return registry_uri(settings, empty_registry_db)


def register_classifier(settings: Settings, tmp: Path, scale: float, bias: float) -> str:
    path = om.classifier_model(tmp / f"c_{scale}_{bias}.onnx", scale=scale, bias=bias)
    return om.register(registry_uri(settings), CLASSIFIER, path)


def register_boxes(settings: Settings, tmp: Path, biases: list[float]) -> str:
    return om.register(registry_uri(settings), BOXES, om.box_model(tmp / "b.onnx", biases=biases))


def scores(settings: Settings) -> list[float]:
    classifier = open_classifier(settings)
    try:
        return classifier.classify([np.full((90, 120), g, np.uint8) for g in GREYS])
    finally:
        classifier.close()


def expected(scale: float, bias: float) -> list[float]:
    return [om.classifier_expected(g, scale=scale, bias=bias) for g in GREYS]


def test_pull_downloads_once_and_the_models_predict_the_known_numbers(
    settings: Settings, tmp_path: Path, registry: str
) -> None:
    biases = [0.2 * i - 0.8 for i in range(len(CLASSES))]
    assert register_classifier(settings, tmp_path, 3.0, 0.5) == "1"
    assert register_boxes(settings, tmp_path, biases) == "1"
    with pytest.raises(ModelError, match="iamedic models pull"):
        open_classifier(settings)
    assert current_classifier_version(settings) is None

    seen: list[Progress] = []
    status = pull_models(settings, progress=seen.append)

    assert status.classifier.model_version == f"{CLASSIFIER} - 1"
    assert status.boxes.model_version == f"{BOXES} - 1"
    path = Path(status.classifier.path or "")
    assert path.is_file() and path.is_relative_to(settings.data_dir / "models")
    size = path.stat().st_size
    ours = [p for p in seen if p.message == f"Downloading {CLASSIFIER} v1"]
    assert ours and (ours[-1].done, ours[-1].total) == (size, size)  # bytes, to the last one
    assert scores(settings) == pytest.approx(expected(3.0, 0.5), abs=1e-5)
    boxes = open_box_model(settings)
    found = {b.bb_class: b for b in boxes.boxes(np.full((480, 640), 90, np.uint8))}
    for cls, numbers in om.box_expected(90, 640, 480, biases=biases).items():
        box = found[cls]
        assert (box.confidence, box.x_min, box.y_min, box.width, box.height) == pytest.approx(
            numbers, abs=1e-3
        )
    assert boxes.model_version == f"{BOXES} - 1"
    assert current_classifier_version(settings) == f"{CLASSIFIER} - 1"

    stamp = path.stat().st_mtime_ns
    again: list[Progress] = []
    pull_models(settings, progress=again.append)
    assert again == [] and path.stat().st_mtime_ns == stamp  # nothing downloaded twice


def test_a_new_champion_is_noticed_offered_and_adopted_by_pull(
    settings: Settings, tmp_path: Path, registry: str
) -> None:
    register_classifier(settings, tmp_path, 3.0, 0.5)
    pull_models(settings)
    assert register_classifier(settings, tmp_path, -2.0, 1.0) == "2"  # champion moves to v2

    assert model_status(settings).classifier.new_champion_version is None  # not looked yet
    status = check_models(settings)
    assert status.classifier.new_champion_version == "2"
    assert status.classifier.message == (
        f"{CLASSIFIER} v2 is the new champion (v1 in use): pull to use it"
    )
    assert status.new_champions == [status.classifier.message]
    # Offered, not adopted: the status (offline) still says so, v1 still predicts.
    assert model_status(settings).classifier.new_champion_version == "2"
    assert scores(settings) == pytest.approx(expected(3.0, 0.5), abs=1e-5)
    assert current_classifier_version(settings) == f"{CLASSIFIER} - 1"

    status = pull_models(settings)
    assert status.classifier.adopted_version == "2"
    assert status.classifier.new_champion_version is None
    assert scores(settings) == pytest.approx(expected(-2.0, 1.0), abs=1e-5)
    assert current_classifier_version(settings) == f"{CLASSIFIER} - 2"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_with_the_registry_unreachable_the_cached_model_still_predicts(
    settings: Settings, tmp_path: Path, registry: str
) -> None:
    register_classifier(settings, tmp_path, 3.0, 0.5)
    pull_models(settings)

    gone = Settings(mlflow_tracking_uri=f"http://127.0.0.1:{closed_port()}")
    started = time.monotonic()
    with pytest.raises(ModelError, match=r"registry at http://127\.0\.0\.1:\d+ cannot be read"):
        check_models(gone)
    with pytest.raises(ModelError, match="cannot be read"):
        pull_models(gone)
    assert time.monotonic() - started < 30  # short timeouts: the window never hangs
    assert scores(gone) == pytest.approx(expected(3.0, 0.5), abs=1e-5)
    assert model_status(gone).classifier.model_version == f"{CLASSIFIER} - 1"

    db = local_registry_db(settings.data_dir)
    db.rename(tmp_path / "moved.db")
    assert scores(settings) == pytest.approx(expected(3.0, 0.5), abs=1e-5)
    assert "No model is registered yet" in (check_models(settings).note or "")
    assert not db.exists()  # asking did not leave an empty registry behind


def test_a_damaged_cached_file_is_refused_and_downloaded_again(
    settings: Settings, tmp_path: Path, registry: str
) -> None:
    register_classifier(settings, tmp_path, 3.0, 0.5)
    path = Path(pull_models(settings).classifier.path or "")
    data = bytearray(path.read_bytes())
    data[-20:] = bytes(20)  # same size, other bytes: only the SHA-256 tells
    path.write_bytes(bytes(data))

    with pytest.raises(ModelError, match="damaged"):
        open_classifier(settings)
    seen: list[Progress] = []
    pull_models(settings, progress=seen.append)
    assert seen, "the damaged file was downloaded again"
    assert scores(settings) == pytest.approx(expected(3.0, 0.5), abs=1e-5)


def test_a_cancelled_pull_adopts_nothing(settings: Settings, tmp_path: Path, registry: str) -> None:
    register_classifier(settings, tmp_path, 3.0, 0.5)
    token = CancelToken()
    token.cancel()
    with pytest.raises(CancelledError):
        pull_models(settings, cancel=token)
    assert model_status(settings).classifier.adopted_version is None
    models = settings.data_dir / "models"
    assert not any(p.name.startswith(".partial-") for p in models.iterdir())


def test_an_empty_registry_says_so_in_words(settings: Settings, empty_registry_db: Path) -> None:
    status = check_models(settings)
    assert status.note is not None and status.note.startswith("No model is registered yet")
    assert status.classifier.message == f"No {CLASSIFIER} on this workstation: run " + (
        "`iamedic models pull`"
    )
    with pytest.raises(ModelError, match="No model is registered yet"):
        pull_models(settings)

    registry_uri(settings, empty_registry_db)  # a registry database with nothing in it
    assert "No model is registered yet" in (check_models(settings).note or "")


def test_the_admins_overview_lists_models_versions_aliases_and_metrics(
    settings: Settings, tmp_path: Path, uow_factory: UnitOfWorkFactory, registry: str
) -> None:
    with seeding(uow_factory) as session:
        admin, doctor = actor_for(make_admin(session)), actor_for(make_doctor(session))
    register_classifier(settings, tmp_path, 3.0, 0.5)
    register_classifier(settings, tmp_path, 1.0, 0.0)
    pull_models(settings)

    overview = registry_overview(settings, uow_factory, admin)
    (model,) = overview.models
    assert model.name == CLASSIFIER and model.aliases == {"champion": "2"}
    assert [v.version for v in model.versions] == ["2", "1"]
    assert [v.aliases for v in model.versions] == [["champion"], []]
    assert [v.adopted_here for v in model.versions] == [True, False]
    assert model.versions[0].metrics == {"val_accuracy": 0.9}
    with pytest.raises(PermissionDeniedError):
        registry_overview(settings, uow_factory, doctor)
