"""AI in the window, with real ONNX models pulled from a real MLflow registry in a temp folder.

Predict a still: the canvas shows the box model version's boxes and the dock its probability;
a second version predicted on the same image is listed first (the champion) and switching
versions switches the boxes; importing the predicted boxes draws them as annotations; scoring
every frame of a video fills the timeline's score lane with one value per frame; automatic
frames make stills that appear in the media list and on the timeline; without a model, a
clear message and nothing else.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pytestqt.qtbot import QtBot

from iamedic_desktop.core.settings import Settings, get_settings
from iamedic_desktop.ml.predictor import CLASSES
from iamedic_desktop.ml.registry import local_registry_db
from iamedic_desktop.schemas.media import MediaDTO
from iamedic_desktop.services import annotations as annotation_service
from iamedic_desktop.services import media_records
from iamedic_desktop.services.frames import list_frames
from iamedic_desktop.services.local_store import LocalStore, open_local_store
from iamedic_desktop.services.models import pull_models
from iamedic_desktop.services.studies import create_study
from iamedic_desktop.ui.main_window import MainWindow
from iamedic_desktop.ui.model_notice_widget import NO_MODEL_MESSAGE
from tests.e2e.window_fixtures import (  # noqa: F401 - fixtures
    isolated_qsettings_fixture,
    main_window_factory_fixture,
    no_operation_left_running_fixture,
)
from tests.gui.sign_in_support import WindowFactory
from tests.media_samples import VIDEO_SPECS, make_video
from tests.support.onnx_models import (
    box_expected,
    box_model,
    classifier_expected,
    classifier_model,
    register,
)

pytestmark = [
    pytest.mark.gui,
    pytest.mark.slow,
    # MLflow's own SQLAlchemy store uses a loader strategy SQLAlchemy 2.1 deprecates.
    pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy:DeprecationWarning"),
]

TIMEOUT_MS = 60_000
GREY = 200
SIZE = (320, 240)
CLASSIFIER = "frame_classifier_224x224"
BOXES = "fetal_structures_bb_regressor_224x224"
BIAS = 10.0  # every frame scores above 0.95: one run, one automatic still


def _registry(tmp_path: Path) -> str:
    """The data folder's own registry (no tracking URI set), with both models as champions."""
    db = local_registry_db(get_settings().data_dir)
    db.parent.mkdir(parents=True, exist_ok=True)
    uri = f"sqlite:///{db}"
    register(uri, CLASSIFIER, classifier_model(tmp_path / "c1.onnx", bias=BIAS))
    register(uri, BOXES, box_model(tmp_path / "b1.onnx"))
    return uri


def _grey_image(store: LocalStore, study_id: uuid.UUID, folder: Path) -> MediaDTO:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "grey.png"
    Image.fromarray(np.full((SIZE[1], SIZE[0]), GREY, dtype=np.uint8)).convert("RGB").save(path)
    stored = store.media.copy_in(path)
    return media_records.create_media(
        store.uow, store.actor, study_id, filename="grey.png", file_path=stored.key,
        file_size=stored.size, mime_type="image/png",
    )  # fmt: skip


def _video(store: LocalStore, study_id: uuid.UUID, folder: Path) -> MediaDTO:
    path = make_video(VIDEO_SPECS["h264_mp4"], folder / "videos")
    stored = store.media.copy_in(path)
    return media_records.create_media(
        store.uow, store.actor, study_id, filename="loop.mp4", file_path=stored.key,
        file_size=stored.size, mime_type="video/mp4",
    )  # fmt: skip


def _window(
    qtbot: QtBot, factory: WindowFactory, settings: Settings, study_id: uuid.UUID
) -> MainWindow:
    window = factory(settings)
    with qtbot.waitSignal(window.store_ready, timeout=TIMEOUT_MS):
        window.show()
    window.browser.open_study(study_id)
    qtbot.waitUntil(lambda: window.current_study is not None, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: window.ai.models.status is not None, timeout=TIMEOUT_MS)
    return window


def _open(qtbot: QtBot, window: MainWindow, media: MediaDTO) -> None:
    window.open_media(media)
    qtbot.waitUntil(lambda: window.canvas.has_image(), timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: window.annotation.target is not None, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: not window.annotation.is_loading(), timeout=TIMEOUT_MS)


def _shown_boxes(window: MainWindow) -> dict[str, tuple[float, float, float, float, float, str]]:
    return {
        item.state.bb_class: (item.state.confidence, item.state.x, item.state.y,
                              item.state.width, item.state.height, item.state.model_version)
        for item in window.canvas.prediction_items()
    }  # fmt: skip


def test_predict_a_still_switch_versions_and_import_the_boxes(
    qtbot: QtBot,
    main_window_factory: WindowFactory,
    tmp_path: Path,
) -> None:
    uri = _registry(tmp_path)
    settings = get_settings()
    pull_models(settings)
    store = open_local_store(settings)
    study = create_study(store.uow, store.actor, "NT check 12w")
    image = _grey_image(store, study.id, tmp_path / "sources")
    store.close()
    window = _window(qtbot, main_window_factory, settings, study.id)
    _open(qtbot, window, image)

    with qtbot.waitSignal(window.ai.predicted, timeout=TIMEOUT_MS):
        window.window_actions.trigger("predict_frame")
    first = f"{BOXES} - 1"
    qtbot.waitUntil(lambda: len(window.canvas.prediction_items()) == len(CLASSES))
    expected = box_expected(GREY, *SIZE)
    shown = _shown_boxes(window)
    for bb_class, (confidence, x, y, w, h) in expected.items():
        assert shown[bb_class][:5] == pytest.approx((confidence, x, y, w, h), abs=1e-3)
        assert shown[bb_class][5] == first
    picker = window.annotation_dock.version_picker
    qtbot.waitUntil(lambda: picker.probability_label.text() != "")
    probability = classifier_expected(GREY, bias=BIAS)
    assert picker.probability_label.text() == f"useful {probability:.2f}"
    assert picker.box_combo.currentText() == "★ v1"  # the champion in use
    assert window.annotation.usefulness == 1  # set from the classifier: no label was there

    # A new champion box model, pulled and predicted: two versions on the same image.
    register(uri, BOXES, box_model(tmp_path / "b2.onnx", base=np.full((9, 4), 0.3, np.float32)))
    with qtbot.waitSignal(window.ai.models.pulled, timeout=TIMEOUT_MS):
        window.ai.models.pull()
    with qtbot.waitSignal(window.ai.predicted, timeout=TIMEOUT_MS):
        window.window_actions.trigger("predict_frame")
    second = f"{BOXES} - 2"
    qtbot.waitUntil(lambda: picker.box_combo.count() == 2)
    assert [picker.box_combo.itemData(i) for i in range(2)] == [second, first]
    assert picker.box_combo.currentText() == "★ v2"
    assert {s[5] for s in _shown_boxes(window).values()} == {second}
    assert _shown_boxes(window)["CM"][1:5] == pytest.approx((48.0, 36.0, 96.0, 72.0), abs=1e-3)
    picker.select_box_version(first)
    assert {s[5] for s in _shown_boxes(window).values()} == {first}

    # Import the shown version's boxes: drawn as annotations at once, stored with provenance.
    with qtbot.waitSignal(window.ai.boxes_imported, timeout=TIMEOUT_MS):
        window.window_actions.trigger("import_predicted_boxes")
    qtbot.waitUntil(lambda: len(window.canvas.box_states()) == len(CLASSES), timeout=TIMEOUT_MS)
    drawn = {b.bb_class: (b.x, b.y, b.width, b.height) for b in window.canvas.box_states()}
    assert drawn["CM"] == pytest.approx(expected["CM"][1:], abs=1e-3)
    reopened = open_local_store(settings)
    stored = annotation_service.get_annotations(reopened.uow, reopened.actor, image.id)
    reopened.close()
    assert {b.bb_class for b in stored.boxes} == set(CLASSES)


def test_score_all_frames_and_automatic_frames_of_a_video(
    qtbot: QtBot,
    main_window_factory: WindowFactory,
    tmp_path: Path,
) -> None:
    _registry(tmp_path)
    settings = get_settings()
    pull_models(settings)
    store = open_local_store(settings)
    study = create_study(store.uow, store.actor, "Anatomy 20w")
    video = _video(store, study.id, tmp_path / "sources")
    store.close()
    window = _window(qtbot, main_window_factory, settings, study.id)
    with qtbot.waitSignal(window.ai.frames.scores_shown, timeout=TIMEOUT_MS) as shown:
        window.open_media(video)
    assert shown.args[1] == 0  # nothing stored yet: an empty lane
    timeline = window.player_panel.timeline
    assert timeline.scores() is None

    with qtbot.waitSignal(window.ai.frames.scores_shown, timeout=TIMEOUT_MS) as shown:
        window.window_actions.trigger("score_frames")
    info = window.player.media_info
    assert info is not None
    frame_count = info.frame_count
    assert shown.args[1] == frame_count == 50
    lane = timeline.scores()
    assert lane is not None and len(lane) == frame_count
    assert min(lane) > 0.95

    # Opened again: the stored scores are drawn at once, without scoring.
    window.close_media()
    with qtbot.waitSignal(window.ai.frames.scores_shown, timeout=TIMEOUT_MS) as shown:
        window.open_media(video)
    assert shown.args[1] == frame_count

    dialog = window.ai.frames.ask_auto_frames()
    assert dialog is not None
    assert (dialog.run_threshold.value(), dialog.min_run_length.value()) == (0.8, 5)
    assert (dialog.prediction_threshold.value(), dialog.patience.value()) == (0.95, 2)
    with qtbot.waitSignal(window.ai.frames.auto_frames_done, timeout=TIMEOUT_MS) as done:
        dialog.accept()
    result = done.args[0]
    assert (len(result.runs), len(result.stills)) == (1, 1)
    still_frame = result.stills[0].frame
    listing = window.browser.media_list
    qtbot.waitUntil(lambda: listing.lists(still_frame.frame_media_id), timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: timeline.markers("still") != [], timeout=TIMEOUT_MS)
    reopened = open_local_store(settings)
    frames = list_frames(reopened.uow, reopened.actor, video.id)
    reopened.close()
    assert timeline.markers("still") == [f.frame_index for f in frames]


def test_without_a_model_predicting_says_how_to_get_one(
    qtbot: QtBot, main_window_factory: WindowFactory, tmp_path: Path
) -> None:
    settings = get_settings()
    store = open_local_store(settings)
    study = create_study(store.uow, store.actor, "No model yet")
    image = _grey_image(store, study.id, tmp_path / "sources")
    store.close()
    window = _window(qtbot, main_window_factory, settings, study.id)
    _open(qtbot, window, image)
    with qtbot.waitSignal(window.notified) as told:
        window.window_actions.trigger("predict_frame")
    assert told.args[0] == NO_MODEL_MESSAGE
    assert "iamedic models pull" in NO_MODEL_MESSAGE and "Settings → AI" in NO_MODEL_MESSAGE
    assert window.ai.jobs.is_idle()
    assert window.canvas.prediction_items() == []
