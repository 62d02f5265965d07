"""Time to repaint the canvas with 500 annotation boxes on a 720p frame, against the frame alone.

A 1280x720 view at 100 % showing a 1280x720 speckled grey frame (an ultrasound's worth of
texture), then the same view with 500 annotation boxes of the nine classes, each with its
label (handles hidden: nothing selected), then with 500 predicted boxes as well, and the boxes
at 200 % and fitted into a smaller view (where the frame is scaled smoothly). Each figure is the
median of 50 synchronous full repaints (``viewport().repaint()``, offscreen platform, raster
engine); the configurations take turns, 5 repaints each for 10 rounds, so a passing load hits
them alike. Wall time is the goal's measure; CPU time (of this process) shows the work alone.
Goal: under 16 ms a repaint with 500 boxes (a 60 Hz frame).

    QT_QPA_PLATFORM=offscreen uv run python benchmarks/bench_canvas.py
"""

from __future__ import annotations

import os
import random
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from _media import machine, median, percentile, verdict
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from iamedic_desktop.models.central import BB_CLASSES
from iamedic_desktop.ui.annotation_canvas import AnnotationCanvasView
from iamedic_desktop.ui.box_item import BoxItem, BoxState
from iamedic_desktop.ui.prediction_item import PredictionItem, PredictionState

WIDTH, HEIGHT = 1280, 720
BOXES = 500
ROUNDS = 10
PER_ROUND = 5  # 50 repaints per configuration
GOAL_MS = 16.0


def speckle_frame() -> QImage:
    """A grey frame with ultrasound-like speckle and a bright fan, as RGB888."""
    rng = np.random.default_rng(7)
    grey = rng.gamma(2.0, 30.0, (HEIGHT, WIDTH)).clip(0, 255)
    ys, xs = np.mgrid[0:HEIGHT, 0:WIDTH]
    fan = np.hypot(xs - WIDTH / 2, ys + 200) < 850
    grey = np.where(fan, grey, grey * 0.1).astype(np.uint8)
    rgb = np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2))
    return QImage(rgb.data, WIDTH, HEIGHT, WIDTH * 3, QImage.Format.Format_RGB888).copy()


def repaint_ms(view: AnnotationCanvasView, count: int) -> tuple[list[float], list[float]]:
    """Wall and CPU durations of ``count`` full synchronous repaints of the viewport, in ms."""
    viewport = view.viewport()
    viewport.repaint()  # warm-up after the change of configuration
    wall, cpu = [], []
    for _ in range(count):
        start, start_cpu = time.perf_counter(), time.process_time()
        viewport.repaint()
        cpu.append((time.process_time() - start_cpu) * 1000)
        wall.append((time.perf_counter() - start) * 1000)
    return wall, cpu


def add_boxes(view: AnnotationCanvasView, rng: random.Random) -> None:
    """BOXES annotation items of every class, labelled, scattered over the frame."""
    scene = view.annotation_scene
    layer, bounds = scene.layer("annotations"), scene.bounds
    for i in range(BOXES):
        w, h = rng.uniform(20, 160), rng.uniform(20, 120)
        x, y = rng.uniform(0, WIDTH - w), rng.uniform(0, HEIGHT - h)
        state = BoxState(BB_CLASSES[i % 9], x, y, w, h, hidden=i % 10 == 0)
        BoxItem(state, bounds, None, layer).set_view_scale(view.zoom)


def add_predictions(view: AnnotationCanvasView, rng: random.Random) -> None:
    """BOXES predicted boxes, labelled with class, confidence and model version."""
    layer = view.annotation_scene.layer("predictions")
    for i in range(BOXES):
        w, h = rng.uniform(20, 160), rng.uniform(20, 120)
        x, y = rng.uniform(0, WIDTH - w), rng.uniform(0, HEIGHT - h)
        state = PredictionState(
            BB_CLASSES[i % 9], x, y, w, h, rng.uniform(0.5, 1), "fetal_structures_bb - 3"
        )
        PredictionItem(state, layer)


def configure(view: AnnotationCanvasView, name: str) -> None:
    """Layers and zoom of one measured configuration."""
    view.set_layer_visible("annotations", name != "frame")
    view.set_layer_visible("predictions", name == "predictions")
    view.resize(*((960, 540) if name == "fitted" else (WIDTH, HEIGHT)))
    if name == "fitted":
        view.fit()
    else:
        view.set_zoom(2.0 if name == "zoomed" else 1.0)
        view.centerOn(WIDTH / 2, HEIGHT / 2)


LABELS = {
    "frame": "frame alone (reference)",
    "boxes": f"frame + {BOXES} boxes with labels",
    "predictions": f"frame + {BOXES} boxes + {BOXES} predictions",
    "zoomed": f"{BOXES} boxes at 200 %",
    "fitted": f"{BOXES} boxes fitted into 960x540 (75 %, smooth)",
}


def main() -> None:
    app = QApplication.instance() or QApplication([])
    print(f"Machine: {machine()}")
    print(
        f"Qt platform: {app.platformName()}; {ROUNDS} rounds of {PER_ROUND} repaints per "
        "configuration, taking turns; medians"
    )
    view = AnnotationCanvasView()
    view.resize(WIDTH, HEIGHT)
    view.show()
    app.processEvents()
    view.show_frame(speckle_frame())
    rng = random.Random(11)
    add_boxes(view, rng)
    add_predictions(view, rng)
    app.processEvents()
    count = len([i for i in view.annotation_scene.items() if isinstance(i, BoxItem)])
    assert count == BOXES, count
    wall: dict[str, list[float]] = {name: [] for name in LABELS}
    cpu: dict[str, list[float]] = {name: [] for name in LABELS}
    for _ in range(ROUNDS):
        for name in LABELS:
            configure(view, name)
            app.processEvents()
            if name != "fitted":
                assert view.viewport().width() == WIDTH, view.viewport().size()
            w, c = repaint_ms(view, PER_ROUND)
            wall[name] += w
            cpu[name] += c
    reference = median(wall["frame"])
    for name, label in LABELS.items():
        med = median(wall[name])
        ratio = f"  x{med / reference:5.1f}" if name != "frame" else ""
        print(
            f"{label:<46} wall {med:6.2f} ms (p90 {percentile(wall[name], 90):6.2f})  "
            f"CPU {median(cpu[name]):6.2f} ms{ratio}"
        )
    boxes = median(wall["boxes"])
    print(
        f"Goal: {BOXES} boxes under {GOAL_MS:.0f} ms a repaint at 100 %: "
        f"{boxes:.2f} ms ({boxes / reference:.0f}x the frame alone), {verdict(boxes < GOAL_MS)}"
    )
    view.close()


if __name__ == "__main__":
    main()
