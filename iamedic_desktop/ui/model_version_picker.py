"""Which model version's predictions are shown: a box-model and a classifier version picker.

The two registered models have their own version numbers, so each has its own list: the
versions that predicted the annotated image or frame, the champion in use first, then the
newest. Choosing a box-model version shows its boxes on the canvas; choosing a classifier
version shows its usefulness probability. A chosen version stays chosen when the next frame
has predictions of it too. "Import boxes" asks for the shown version's boxes (> 0.5) to become
annotations (``import_requested``). The confidence slider sets below which predicted boxes are
not drawn.

Threading: UI thread only; it reads the controller's in-memory state, never the store.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSlider,
    QWidget,
)

from iamedic_desktop.ui.annotation_controller import AnnotationController
from iamedic_desktop.ui.prediction_item import short_version

NO_PREDICTION = "none yet"
CHAMPION_MARK = "★"  # the version in use; a word would not fit a 1280 px wide window


def version_order(versions: Iterable[str], champions: Iterable[str]) -> list[str]:
    """The versions once each: the champions first, then by version number, newest first."""

    def key(version: str) -> tuple[bool, int, str]:
        _name, sep, number = version.rpartition(" - ")
        n = int(number) if sep and number.isdigit() else -1
        return (version not in wanted, -n, version)

    wanted = set(champions)
    return sorted(set(versions), key=key)


class ModelVersionPicker(QGroupBox):
    """Two lists of model versions; the chosen ones are shown on the canvas and in the dock."""

    import_requested = Signal(str)  # the box-model version whose boxes become annotations
    box_version_changed = Signal(object)  # the box-model version shown, or None

    def __init__(self, controller: AnnotationController, parent: QWidget | None = None) -> None:
        super().__init__("Model predictions", parent)
        self.setObjectName("modelVersionPicker")
        self.controller = controller
        self._champions: set[str] = set()
        self._wanted_box: str | None = None  # the user's choice, kept across frames
        self._wanted_classifier: str | None = None
        self.box_combo = self._combo("boxVersion")
        self.classifier_combo = self._combo("classifierVersion")
        self.probability_label = QLabel("", self, objectName="modelProbability")
        self.import_button = QPushButton("Import boxes", self)
        self.import_button.setObjectName("importPredictedBoxes")
        self.import_button.setToolTip(
            "Make this version's boxes above 0.5 annotations, for classes not annotated yet "
            "(Shift+P)"
        )
        self.import_button.clicked.connect(lambda _=False: self._import())
        self.threshold_label = QLabel("", self)
        self.threshold_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.threshold_slider.setRange(0, 100)
        self.threshold_slider.setValue(round(controller.canvas.prediction_threshold * 100))
        self.threshold_slider.setToolTip("Boxes predicted with less confidence are not drawn")
        self.threshold_slider.valueChanged.connect(self._threshold_changed)
        self._threshold_changed(self.threshold_slider.value())
        grid = QGridLayout(self)
        grid.addWidget(QLabel("Boxes", self), 0, 0)
        grid.addWidget(self.box_combo, 0, 1)
        grid.addWidget(self.import_button, 0, 2)
        confidence = QHBoxLayout()  # across the columns: its label would widen the first one
        confidence.addWidget(self.threshold_label)
        confidence.addWidget(self.threshold_slider, 1)
        grid.addLayout(confidence, 1, 0, 1, 3)
        grid.addWidget(QLabel("Usefulness", self), 2, 0)
        grid.addWidget(self.classifier_combo, 2, 1)
        grid.addWidget(self.probability_label, 2, 2)
        grid.setColumnStretch(1, 1)
        self.box_combo.activated.connect(lambda _i: self._box_chosen())
        self.classifier_combo.activated.connect(lambda _i: self._classifier_chosen())
        controller.state_changed.connect(self.refresh)
        self.refresh()

    def _combo(self, name: str) -> QComboBox:
        combo = QComboBox(self)
        combo.setObjectName(name)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        return combo

    # --- what is shown ---------------------------------------------------------------------------

    def set_champions(self, versions: Iterable[str | None]) -> None:
        """The model versions in use on this workstation (listed first, marked champion)."""
        self._champions = {v for v in versions if v}
        self.refresh()

    def shown_box_version(self) -> str | None:
        """The box-model version whose boxes the canvas shows."""
        data = self.box_combo.currentData()
        return data if isinstance(data, str) else None

    def shown_classifier_version(self) -> str | None:
        """The classifier version whose probability is shown."""
        data = self.classifier_combo.currentData()
        return data if isinstance(data, str) else None

    def select_box_version(self, version: str) -> None:
        """Show ``version``'s boxes (as if chosen in the list)."""
        index = self.box_combo.findData(version)
        if index >= 0:
            self.box_combo.setCurrentIndex(index)
            self._box_chosen()

    def select_classifier_version(self, version: str) -> None:
        """Show ``version``'s probability (as if chosen in the list)."""
        index = self.classifier_combo.findData(version)
        if index >= 0:
            self.classifier_combo.setCurrentIndex(index)
            self._classifier_chosen()

    def refresh(self) -> None:
        """List the versions that predicted the annotated target, keeping the choices."""
        c = self.controller
        boxes = version_order((p.model_version for p in c.predictions()), self._champions)
        classes = version_order((p.model_version for p in c.classifications()), self._champions)
        self._fill(self.box_combo, boxes, self._wanted_box)
        self._fill(self.classifier_combo, classes, self._wanted_classifier)
        self.import_button.setEnabled(bool(boxes))
        self._apply()

    def _fill(self, combo: QComboBox, versions: list[str], wanted: str | None) -> None:
        combo.blockSignals(True)
        combo.clear()
        shorts = [short_version(v) for v in versions]
        for version, short in zip(versions, shorts, strict=True):
            text = short if shorts.count(short) == 1 else version
            champion = version in self._champions
            combo.addItem(f"{CHAMPION_MARK} {text}" if champion else text, version)
            tip = f"{version} (the champion in use)" if champion else version
            combo.setItemData(combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        if not versions:
            combo.addItem(NO_PREDICTION, None)
        index = combo.findData(wanted) if wanted is not None else -1
        combo.setCurrentIndex(max(index, 0))
        combo.setEnabled(bool(versions))
        combo.blockSignals(False)

    def _apply(self) -> None:
        box = self.shown_box_version()
        # No version known (nothing predicted here): every version's boxes, i.e. none or those
        # synced without a version list yet.
        self.controller.canvas.set_prediction_version(box)
        version = self.shown_classifier_version()
        found = [p for p in self.controller.classifications() if p.model_version == version]
        self.probability_label.setText(f"useful {found[0].prediction:.2f}" if found else "")
        self.box_version_changed.emit(box)

    def _threshold_changed(self, value: int) -> None:
        self.threshold_label.setText(f"Confidence {value / 100:.2f}")
        self.controller.set_prediction_threshold(value / 100)

    def _box_chosen(self) -> None:
        self._wanted_box = self.shown_box_version()
        self._apply()

    def _classifier_chosen(self) -> None:
        self._wanted_classifier = self.shown_classifier_version()
        self._apply()

    def _import(self) -> None:
        version = self.shown_box_version()
        if version is not None:
            self.import_requested.emit(version)
