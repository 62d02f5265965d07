"""Automatic frames: the four settings of the runs algorithm, before a video's frames are taken.

The defaults are the domain rules' (``media/runs.py`` ``RunsParams``); the dialog only gathers
the settings (``params``) and the window runs the extraction in a worker, its progress and
Cancel in the status bar, when the dialog is accepted.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from iamedic_desktop.media.runs import RunsParams
from iamedic_desktop.ui import theme

EXPLANATION = (
    "The classifier scores every frame (scores already stored for this model version are "
    "reused). A run is a stretch of frames scoring at least the run threshold, allowing a few "
    "frames below it (patience); the best frame of a run long enough whose score reaches the "
    "prediction threshold becomes a still, with its prediction."
)


def _fraction(value: float, parent: QWidget) -> QDoubleSpinBox:
    spin = QDoubleSpinBox(parent)
    spin.setRange(0.0, 1.0)
    spin.setDecimals(2)
    spin.setSingleStep(0.05)
    spin.setValue(value)
    return spin


def _count(value: int, low: int, parent: QWidget) -> QSpinBox:
    spin = QSpinBox(parent)
    spin.setRange(low, 10_000)
    spin.setValue(value)
    spin.setSuffix(" frames")
    return spin


class AutoFramesDialog(QDialog):
    """The runs algorithm's settings for one video; ``params`` once accepted."""

    def __init__(
        self, video_name: str, params: RunsParams | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Automatic frames")
        self.setObjectName("autoFramesDialog")
        start = params or RunsParams()
        self.run_threshold = _fraction(start.run_threshold, self)
        self.run_threshold.setObjectName("runThreshold")
        self.min_run_length = _count(start.min_run_length, 1, self)
        self.min_run_length.setObjectName("minRunLength")
        self.prediction_threshold = _fraction(start.prediction_threshold, self)
        self.prediction_threshold.setObjectName("predictionThreshold")
        self.patience = _count(start.patience, 0, self)
        self.patience.setObjectName("patience")
        heading = QLabel(f"Take the best frames of <b>{html.escape(video_name)}</b> as stills.")
        heading.setTextFormat(Qt.TextFormat.RichText)
        note = QLabel(EXPLANATION, self, wordWrap=True)
        note.setStyleSheet(f"color: {theme.MUTED};")
        form = QFormLayout()
        form.addRow("Run threshold:", self.run_threshold)
        form.addRow("Minimum run length:", self.min_run_length)
        form.addRow("Prediction threshold:", self.prediction_threshold)
        form.addRow("Patience:", self.patience)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults,
            self,
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Find frames")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        restore = buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults)
        restore.clicked.connect(lambda _=False: self.restore_defaults())
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self.setMinimumWidth(420)

    def params(self) -> RunsParams:
        """The settings as chosen (the spin boxes keep them in range)."""
        return RunsParams(
            run_threshold=round(self.run_threshold.value(), 4),
            min_run_length=self.min_run_length.value(),
            prediction_threshold=round(self.prediction_threshold.value(), 4),
            patience=self.patience.value(),
        )

    def restore_defaults(self) -> None:
        """Back to the domain rules' defaults."""
        default = RunsParams()
        self.run_threshold.setValue(default.run_threshold)
        self.min_run_length.setValue(default.min_run_length)
        self.prediction_threshold.setValue(default.prediction_threshold)
        self.patience.setValue(default.patience)
