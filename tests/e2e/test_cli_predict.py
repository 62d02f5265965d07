"""``iamedic predict`` as a user runs it: models registered in a real MLflow registry, pulled with
``iamedic models pull``, predicting a study and a media, importing boxes, refusals."""

from __future__ import annotations

import io
import re
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from iamedic_desktop.core.settings import get_settings
from iamedic_desktop.services.local_store import open_local_store
from tests.e2e.cli_support import assert_clean_failure, json_of
from tests.support import onnx_models as om

CliRunner = Callable[..., subprocess.CompletedProcess[str]]
CLASSIFIER = "frame_classifier_224x224"
BOXES = "fetal_structures_bb_regressor_224x224"
BIASES = (0.0, -4.0) * 4 + (0.0,)  # at grey 200: CM, NT, nasal bone, nasal tip, thalami
# mlflow's SQL store asks SQLAlchemy for a deprecated loader when it is first imported.
pytestmark = [
    pytest.mark.slow,  # a registry made and pulled per test
    pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy:DeprecationWarning"),
]


@dataclass(frozen=True)
class Study:
    alias: str
    useful: str  # grey 200, 200 x 160
    useless: str  # grey 60, 120 x 90


def _png(grey: int, size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (grey, grey, grey)).save(out, "PNG")
    return out.getvalue()


def _add_study(pictures: list[tuple[int, tuple[int, int]] | None]) -> tuple[str, list[str]]:
    """A study in the CLI's store with uniform PNGs (None: an image whose file is not here)."""
    from iamedic_desktop.services.media_records import create_media
    from iamedic_desktop.services.studies import create_study

    store = open_local_store(get_settings())
    try:
        alias = f"Scan {uuid.uuid4().hex[:6]}"
        study = create_study(store.uow, store.actor, alias)
        ids = []
        for picture in pictures:
            data = _png(*picture) if picture is not None else _png(0, (20, 20))
            key = store.media.write_bytes(data).key if picture is not None else str(uuid.uuid4())
            media = create_media(
                store.uow,
                store.actor,
                study.id,
                filename=f"scan_{len(ids)}.png",
                file_path=key,
                file_size=len(data),
                mime_type="image/png",
            )
            ids.append(str(media.id))
    finally:
        store.close()
    return alias, ids


@pytest.fixture
def registry(tmp_path: Path) -> str:
    """A real MLflow registry with a champion of each model: the data folder's own registry,
    which the settings name when no tracking server is set (they take only http(s) servers)."""
    from iamedic_desktop.ml.registry import local_registry_db

    db = local_registry_db(get_settings().data_dir)
    db.parent.mkdir(parents=True, exist_ok=True)
    uri = f"sqlite:///{db}"
    om.register(uri, CLASSIFIER, om.classifier_model(tmp_path / "c.onnx"))
    om.register(uri, BOXES, om.box_model(tmp_path / "b.onnx", biases=BIASES))
    return uri


@pytest.fixture
def pulled(run_cli: CliRunner, registry: str) -> None:
    result = run_cli("models", "pull")
    assert result.returncode == 0, result.stderr


@pytest.fixture
def study(pulled: None) -> Study:
    alias, (useful, useless) = _add_study([(200, (200, 160)), (60, (120, 90))])
    return Study(alias, useful, useless)


def test_help_names_both_forms(run_cli: CliRunner) -> None:
    result = run_cli("predict", "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: iamedic predict [-h] [--json] [--no-labels] TARGET")
    assert "iamedic predict import-boxes" in result.stdout and "exit status" in result.stdout


def test_a_study_is_predicted_and_labelled(run_cli: CliRunner, study: Study) -> None:
    run = json_of(run_cli("predict", study.alias, "--json"))
    assert (run["planned"], run["cancelled"], run["skipped"]) == (2, False, [])
    assert run["classifier_version"] == f"{CLASSIFIER} - 1"
    assert run["box_model_version"] == f"{BOXES} - 1"
    by_id = {item["media_id"]: item for item in run["predicted"]}
    assert set(by_id) == {study.useful, study.useless}
    useful, useless = by_id[study.useful], by_id[study.useless]
    assert useful["probability"] == pytest.approx(om.classifier_expected(200), abs=1e-4)
    assert useless["probability"] == pytest.approx(om.classifier_expected(60), abs=1e-4)
    assert (useful["label_set"], useless["label_set"]) == (1, 0)
    boxes = {b["bb_class"]: b for b in useful["boxes"]}
    expected = om.box_expected(200, 200, 160, biases=BIASES)
    assert set(boxes) == set(expected)
    thalami = boxes["thalami"]
    assert [thalami[k] for k in ("x_min", "y_min", "width", "height")] == pytest.approx(
        expected["thalami"][1:], abs=1e-3
    )
    assert sorted(run["labelled_ids"]) == sorted([study.useful, study.useless])


def test_labels_only_where_none_and_on_request(run_cli: CliRunner, study: Study) -> None:
    bare = json_of(run_cli("predict", study.useless, "--no-labels", "--json"))
    assert bare["labelled_ids"] == [] and bare["predicted"][0]["label_set"] is None
    assert run_cli("predict", study.useful).returncode == 0
    result = run_cli("predict", study.useful)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("✅ Done: 1 of 1 media predicted, 0 labelled.")
    assert f"Models: {CLASSIFIER} - 1, {BOXES} - 1" in result.stdout
    row = next(line for line in result.stdout.splitlines() if line.startswith(study.useful))
    # ID, NAME, TYPE, PROBABILITY, LABEL, BOXES, FRAMES
    assert re.split(r"\s{2,}", row)[2:] == ["image", "0.907", "kept: useful", "9", "-"]


def test_confident_boxes_are_imported(run_cli: CliRunner, study: Study) -> None:
    assert run_cli("predict", study.useful, "--no-labels").returncode == 0
    imported = json_of(run_cli("predict", "import-boxes", study.useful, "--json"))
    assert imported["model_version"] == f"{BOXES} - 1"  # the adopted box model's
    assert [b["bb_class"] for b in imported["boxes"]] == [
        "CM",
        "NT",
        "nasal bone",
        "nasal tip",
        "thalami",
    ]
    again = run_cli("predict", "import-boxes", study.useful, "--threshold", "0.05")
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith(f"✅ 4 box(es) of {BOXES} - 1 imported, 5 not imported.")
    assert "ℹ️ CM (0.907) not imported: a clinician's box of this class is already there" in (
        again.stdout
    )


def test_a_media_whose_file_is_not_here_is_skipped(run_cli: CliRunner, pulled: None) -> None:
    alias, (here, missing) = _add_study([(200, (64, 48)), None])
    result = run_cli("predict", alias)
    assert result.returncode == 1
    assert result.stdout.startswith("⚠️ Done: 1 of 2 media predicted, 1 labelled, 1 skipped.")
    assert f"({missing}) skipped: its file is not on this workstation yet" in result.stderr
    assert here in result.stdout and missing not in result.stdout


def test_refusals(run_cli: CliRunner, study: Study) -> None:
    assert_clean_failure(run_cli("predict", str(uuid.uuid4())), "No study of yours")
    assert_clean_failure(
        run_cli("predict", "import-boxes", study.useful), "no predicted boxes", "iamedic predict"
    )
    assert_clean_failure(
        run_cli("predict", "import-boxes", study.useful, "--model-version", "v1"),
        "is not spelled",
    )
    usage = run_cli("predict", study.useful, "--threshold", "0.3")
    assert usage.returncode == 2 and "--threshold go with" in usage.stderr


def test_without_pulled_models_it_says_what_to_do(run_cli: CliRunner, registry: str) -> None:
    _, (media,) = _add_study([(200, (64, 48))])
    assert_clean_failure(run_cli("predict", media), "iamedic models pull")
