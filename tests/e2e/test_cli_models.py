"""``iamedic models list|pull`` as a user runs them, on a real MLflow registry in the data
folder: nothing registered, a pull, a new champion, and the registry gone."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from iamedic_desktop.core.settings import get_settings
from tests.e2e.cli_support import assert_clean_failure, json_of
from tests.e2e.conftest import CliRunner
from tests.support import onnx_models as om
from tests.support.model_registry import BOXES, CLASSIFIER, registry_uri

pytestmark = [
    pytest.mark.slow,  # each command loads mlflow: several seconds
    pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy:DeprecationWarning"),
]


@pytest.fixture
def registry(empty_registry_db: Path) -> str:
    """The CLI's local registry (in its data folder), created empty."""
    return registry_uri(get_settings(), empty_registry_db)


def test_nothing_registered_is_said_in_words(run_cli: CliRunner, registry: str) -> None:
    listed = json_of(run_cli("models", "list", "--json"))
    assert listed["registry_reachable"] is True and listed["registered_models"] == []
    assert listed["status"]["note"].startswith("No model is registered yet")
    assert listed["status"]["classifier"]["adopted_version"] is None
    assert_clean_failure(run_cli("models", "pull"), "No model is registered yet")


def test_pull_then_list_then_a_new_champion(
    run_cli: CliRunner, registry: str, tmp_path: Path
) -> None:
    om.register(registry, CLASSIFIER, om.classifier_model(tmp_path / "c1.onnx", scale=2.0))
    om.register(registry, BOXES, om.box_model(tmp_path / "b1.onnx"))

    pulled = json_of(run_cli("models", "pull", "--json"))
    assert pulled["classifier"]["model_version"] == f"{CLASSIFIER} - 1"
    assert pulled["boxes"]["model_version"] == f"{BOXES} - 1"
    assert Path(pulled["classifier"]["path"]).is_file()

    listed = json_of(run_cli("models", "list", "--json"))
    models = {m["name"]: m for m in listed["registered_models"]}
    assert set(models) == {CLASSIFIER, BOXES}
    (version,) = models[CLASSIFIER]["versions"]
    assert version["aliases"] == ["champion"] and version["adopted_here"] is True
    assert version["metrics"] == {"val_accuracy": 0.9}

    om.register(registry, CLASSIFIER, om.classifier_model(tmp_path / "c2.onnx", scale=-1.0))
    text = run_cli("models", "list")
    assert text.returncode == 0, text.stderr
    assert f"{CLASSIFIER} v2 is the new champion (v1 in use): pull to use it" in text.stdout
    assert f"{BOXES} v1 in use (champion)" in text.stdout
    assert json_of(run_cli("models", "pull", "--json"))["classifier"]["adopted_version"] == "2"


def test_with_the_registry_gone_list_shows_what_is_here_and_pull_fails_cleanly(
    run_cli: CliRunner, registry: str, tmp_path: Path
) -> None:
    om.register(registry, CLASSIFIER, om.classifier_model(tmp_path / "c1.onnx"))
    json_of(run_cli("models", "pull", "--json"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    gone = {"IAMEDIC_MLFLOW_TRACKING_URI": f"http://127.0.0.1:{port}"}

    listed = json_of(run_cli("models", "list", "--json", env=gone))
    assert listed["registry_reachable"] is False
    assert f"127.0.0.1:{port} cannot be read" in listed["registry_error"]
    assert listed["status"]["classifier"]["model_version"] == f"{CLASSIFIER} - 1"
    assert_clean_failure(run_cli("models", "pull", env=gone), "cannot be read")
