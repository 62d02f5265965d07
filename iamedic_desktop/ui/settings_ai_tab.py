"""Settings, AI: the MLflow registry, the models and alias, local or HTTP inference, and Test.

Test checks what the fields say, as typed and not yet saved, in an operation: with local
inference it asks the registry where the alias points (``services.models.check_models``);
with HTTP inference it asks both services their health and model (``service_health``). The
line under the button says what it found, or why not.
"""

from __future__ import annotations

import functools
from typing import Any

import shiboken6
from pydantic import ValidationError
from PySide6.QtWidgets import QLabel, QPushButton, QWidget

from iamedic_desktop.core.settings import Settings
from iamedic_desktop.ui import theme
from iamedic_desktop.ui.operations import OperationRunner, describe_failure
from iamedic_desktop.ui.settings_fields import SettingsFieldsTab

INFERENCE = [("On this workstation", "local"), ("The web's inference services (HTTP)", "http")]
HTTP_TIMEOUT_S = 5.0
_OPTIONAL = ("mlflow_tracking_uri", "classifier_service_url", "box_service_url")


def models_report(settings: Settings) -> str:
    """Worker: what the registry (local inference) or the services (HTTP) say, in words."""
    if settings.inference == "http":
        from iamedic_desktop.ml.http_models import service_health

        found = []
        for what, url in (
            ("Classifier service", settings.classifier_service_url),
            ("Box service", settings.box_service_url),
        ):
            if url:
                answer = service_health(url, HTTP_TIMEOUT_S)
                found.append(f"{what} at {answer['address']}: {answer['model_version']}")
        return "; ".join(found) + "." if found else "No service address to test."
    from iamedic_desktop.services.models import check_models

    status = check_models(settings)
    if status.note:
        return status.note
    lines = [f"Registry {status.registry}:"]
    for kind in status.kinds:
        seen = f"v{kind.champion_version}" if kind.champion_version else "not registered"
        lines.append(f"{kind.name} {kind.alias} is {seen}.")
    return " ".join(lines)


class SettingsAiTab(SettingsFieldsTab):
    """Where the models come from and where they run."""

    def __init__(
        self,
        settings: Settings,
        parent: QWidget | None = None,
        *,
        runner: OperationRunner | None = None,
    ) -> None:
        super().__init__(parent)
        self._settings = settings
        # The dialog's runner when given; else one of the tab's own (a test is a network call).
        self._runner = runner or OperationRunner(self)
        self.line(
            "mlflow_tracking_uri",
            "MLflow tracking URI:",
            settings.mlflow_tracking_uri,
            placeholder="empty: the local registry in the data folder",
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
        self.test_button = QPushButton("Test", self)
        self.test_button.setObjectName("testModels")
        self.test_button.setAutoDefault(False)
        self.test_button.setToolTip("Ask the registry (or the inference services) what they offer")
        self.test_button.clicked.connect(lambda _=False: self.test())
        self.result = QLabel("", self, objectName="testModelsResult", wordWrap=True)
        self.form.addRow(self.test_button)
        self.form.addRow(self.result)
        self.inference.currentIndexChanged.connect(self._inference_changed)
        self._inference_changed()

    def _inference_changed(self) -> None:
        # The service addresses matter only for HTTP inference (they are kept either way).
        http = self.inference.currentData() == "http"
        self.classifier_url.setEnabled(http)
        self.box_url.setEnabled(http)

    def candidate(self) -> Settings:
        """The settings with this tab's fields as typed (raises when a field is refused)."""
        values: dict[str, Any] = self.values()
        for name in _OPTIONAL:
            values[name] = (values.get(name) or "").strip() or None
        return Settings(**{**self._settings.model_dump(), **values})

    def test(self) -> None:
        """Test the registry or the services the fields name, in an operation."""
        try:
            candidate = self.candidate()
        except ValidationError as exc:
            self.show_errors(
                {str(e["loc"][0]): e["msg"].removeprefix("Value error, ") for e in exc.errors()}
            )
            self._say("Not tested: correct the marked field first.", problem=True)
            return
        self.test_button.setEnabled(False)
        self._say("Testing…")
        self._runner.run(
            functools.partial(models_report, candidate),
            on_success=self._tested,
            on_failure=self._test_failed,
        )

    def _tested(self, text: str) -> None:
        if shiboken6.isValid(self):  # the dialog may have closed meanwhile
            self.test_button.setEnabled(True)
            self._say(text)

    def _test_failed(self, error: BaseException) -> None:
        if shiboken6.isValid(self):
            self.test_button.setEnabled(True)
            self._say(f"Not reached: {describe_failure(error)}", problem=True)

    def _say(self, text: str, *, problem: bool = False) -> None:
        self.result.setText(text)
        self.result.setStyleSheet(f"color: {theme.ERROR};" if problem else "")
