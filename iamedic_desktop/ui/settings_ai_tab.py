"""Settings, AI: the MLflow registry, the models and alias, local or HTTP inference."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from iamedic_desktop.core.settings import Settings
from iamedic_desktop.ui.settings_fields import SettingsFieldsTab

INFERENCE = [("On this workstation", "local"), ("The web's inference services (HTTP)", "http")]


class SettingsAiTab(SettingsFieldsTab):
    """Where the models come from and where they run."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.line(
            "mlflow_tracking_uri",
            "MLflow tracking URI:",
            settings.mlflow_tracking_uri,
            placeholder="https://mlflow.hospital.org",
        )
        self.line("classifier_model_name", "Classifier model:", settings.classifier_model_name)
        self.line("box_model_name", "Box model:", settings.box_model_name)
        self.line("model_alias", "Model alias:", settings.model_alias)
        self.inference = self.choice("inference", "Inference:", INFERENCE, settings.inference)
        self.classifier_url = self.line(
            "classifier_service_url",
            "Classifier service:",
            settings.classifier_service_url,
            placeholder="http://host:port",
        )
        self.box_url = self.line(
            "box_service_url",
            "Box service:",
            settings.box_service_url,
            placeholder="http://host:port",
        )
        self.inference.currentIndexChanged.connect(self._inference_changed)
        self._inference_changed()

    def _inference_changed(self) -> None:
        # The service addresses matter only for HTTP inference (they are kept either way).
        http = self.inference.currentData() == "http"
        self.classifier_url.setEnabled(http)
        self.box_url.setEnabled(http)
