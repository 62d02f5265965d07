"""A real MLflow registry for tests: the data folder's local registry, made from an empty
template database (MLflow's own migrations take seconds; the template is made once per worker
by the ``empty_registry_db`` fixture in tests/conftest.py)."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

from iamedic_desktop.core.settings import Settings
from iamedic_desktop.ml.registry import local_registry_db

CLASSIFIER = "frame_classifier_224x224"
BOXES = "fetal_structures_bb_regressor_224x224"


def make_empty_registry(db: Path) -> Path:
    """An empty MLflow registry database at ``db``."""
    from mlflow import MlflowClient

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The ``noload`` loader strategy", DeprecationWarning)
        assert list(MlflowClient(f"sqlite:///{db}").search_registered_models()) == []
    return db


def registry_uri(settings: Settings, template: Path | None = None) -> str:
    """The URI of the data folder's local registry, copied from ``template`` if not there yet."""
    db = local_registry_db(settings.data_dir)
    if not db.exists():
        db.parent.mkdir(parents=True, exist_ok=True)
        if template is not None:
            shutil.copyfile(template, db)
    return f"sqlite:///{db}"
