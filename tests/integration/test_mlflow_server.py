"""The admin's "Open MLflow UI": a local MLflow server over the data folder's registry starts,
answers with the registered models, and stops; an http registry is its own address."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from iamedic_desktop.core.settings import Settings
from iamedic_desktop.ml import mlflow_server
from iamedic_desktop.services.models import mlflow_ui_url
from tests.support import onnx_models as om
from tests.support.model_registry import CLASSIFIER, registry_uri

pytestmark = pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy:DeprecationWarning")


def test_an_http_registry_is_opened_at_its_own_address() -> None:
    settings = Settings(mlflow_tracking_uri="https://mlflow.example.org/")
    assert mlflow_ui_url(settings) == "https://mlflow.example.org"
    assert not mlflow_server.is_running()


@pytest.mark.slow
def test_the_local_server_starts_answers_and_stops(
    tmp_path: Path,
    empty_registry_db: Path,
) -> None:
    settings = Settings()
    uri = registry_uri(settings, empty_registry_db)
    om.register(uri, CLASSIFIER, om.classifier_model(tmp_path / "c.onnx"))
    try:
        url = mlflow_ui_url(settings)
        assert url.startswith("http://127.0.0.1:")
        assert mlflow_ui_url(settings) == url  # one server, reused
        answer = httpx.get(
            f"{url}/api/2.0/mlflow/registered-models/get", params={"name": CLASSIFIER}
        )
        assert answer.status_code == 200
        assert answer.json()["registered_model"]["aliases"] == [
            {"alias": "champion", "version": "1"}
        ]
        assert httpx.get(url).status_code == 200  # the UI's page
        process = mlflow_server._running.process  # type: ignore[union-attr]
    finally:
        mlflow_server.stop_server()
    assert process.poll() is not None and not mlflow_server.is_running()
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{url}/health", timeout=2.0)
    assert (settings.log_dir / "mlflow-server.log").is_file()
