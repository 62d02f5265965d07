"""``iamedic stats`` as an admin runs it: tables, JSON, thresholds, and a doctor refused."""

from __future__ import annotations

import json

import pytest

from iamedic_desktop.cli import main
from iamedic_desktop.core.settings import get_settings
from iamedic_desktop.services.local_store import open_local_store
from tests.factories import (
    BOX_MODEL_VERSION,
    CLASSIFIER_VERSION,
    make_box,
    make_box_prediction,
    make_classification_prediction,
    make_doctor,
    make_media,
    make_study,
    make_usefulness,
    seeding,
)
from tests.support.sync_world import sign_in_store

pytestmark = pytest.mark.usefixtures("restore_root_logger")


@pytest.fixture
def scored() -> None:
    """In this workstation's store: three labelled media and one box image, scored."""
    store = open_local_store(get_settings())
    try:
        with seeding(store.uow) as session:
            study = make_study(session, make_doctor(session, email="doc@example.org"))
            # 0.9/1 TP, 0.6/0 FP, 0.4/1 FN: precision 1/2, recall 1/2, accuracy 1/3.
            for probability, label in [(0.9, 1), (0.6, 0), (0.4, 1)]:
                media = make_media(session, study)
                make_classification_prediction(session, media, prediction=probability)
                make_usefulness(session, media, label)
            image = make_media(session, study)
            make_box(session, image, bb_class="NT", box=(0.0, 0.0, 10.0, 10.0))
            # IoU with the truth: 60 / 140 = 0.43, a miss at IoU 0.5, a hit at 0.4.
            make_box_prediction(
                session, image, bb_class="NT", confidence=0.8, box=(4.0, 0.0, 10.0, 10.0)
            )
    finally:
        store.close()


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    assert main(["stats", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.usefixtures("scored")
def test_table_per_model_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats"]) == 0
    out = capsys.readouterr().out
    assert f"== {CLASSIFIER_VERSION} ==" in out and f"== {BOX_MODEL_VERSION} ==" in out
    assert "Accuracy   0.333" in out
    assert "Precision  0.500" in out
    lines = out.splitlines()
    assert any(line.split() == ["labelled", "useful", "1", "1"] for line in lines)
    assert any(line.split() == ["labelled", "not", "useful", "1", "0"] for line in lines)
    assert any(line.split() == ["NT", "1", "0", "1", "1", "0.000"] for line in lines)
    assert any(line.split() == ["CM", "0", "0", "0", "0", "n/a"] for line in lines)
    assert "mAP  0.000" in out
    assert lines[-1] == "Where: this workstation"


@pytest.mark.usefixtures("scored")
def test_json_and_thresholds(capsys: pytest.CaptureFixture[str]) -> None:
    report = _json(capsys)
    assert report["where"] == "this workstation"
    assert report["request"] == {
        "classification_threshold": 0.5,
        "confidence_threshold": 0.5,
        "iou_threshold": 0.5,
        "include_hidden": False,
    }
    versions = {v["model_version"]: v for v in report["versions"]}
    classification = versions[CLASSIFIER_VERSION]["classification"]
    assert [classification[k] for k in ("tp", "fp", "fn", "tn")] == [1, 1, 1, 0]
    assert classification["precision"] == 0.5
    boxes = versions[BOX_MODEL_VERSION]["boxes"]
    assert (boxes["map"], boxes["classes"][0]["ap"]) == (0.0, None)
    # Lower thresholds: 0.4 is now useful, and the NT box matches.
    looser = _json(capsys, "--threshold", "0.3", "--iou", "0.4")
    versions = {v["model_version"]: v for v in looser["versions"]}
    classification = versions[CLASSIFIER_VERSION]["classification"]
    assert [classification[k] for k in ("tp", "fp", "fn", "tn")] == [2, 1, 0, 0]
    assert versions[BOX_MODEL_VERSION]["boxes"]["map"] == 1.0
    # A confidence above the box's own leaves the NT truth unfound.
    strict = _json(capsys, "--model-version", BOX_MODEL_VERSION, "--confidence", "0.9")
    assert [v["model_version"] for v in strict["versions"]] == [BOX_MODEL_VERSION]
    nt = next(c for c in strict["versions"][0]["boxes"]["classes"] if c["bb_class"] == "NT")
    assert (nt["tp"], nt["fp"], nt["fn"]) == (0, 0, 1)


@pytest.mark.usefixtures("scored")
def test_refusals_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats", "--model-version", "nothing - 1"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("❌ No prediction of the model version 'nothing - 1'")
    assert main(["stats", "--iou", "1.5"]) == 1
    assert "IoU threshold must be above 0 and at most 1" in capsys.readouterr().err
    sign_in_store(get_settings(), "doc@example.org")
    assert main(["stats"]) == 1
    captured = capsys.readouterr()
    assert (captured.out, captured.err.count("\n")) == ("", 1)
    assert "needs an administrator" in captured.err


def test_an_empty_store_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("No predictions on the active media of active studies")
    assert _json(capsys)["versions"] == []
