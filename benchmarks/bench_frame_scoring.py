"""The classifier over every frame of a 5-minute 30 fps video vs the raw ONNX Runtime loop.

File: 5 min of 800x600 H.264 at 30 fps (9,000 frames, GOP 60), made once with ffmpeg.
Model: a small CNN built here with the onnx helper (six 3x3 convolutions, 32 to 128 channels,
global pooling, one dense layer, sigmoid: about 0.47 GMAC a frame), with the classifier's
contract: input ``input`` [N, 1, 224, 224], output ``probability`` [N, 1].
Measured, in the same run: (a) ``score_video`` on a local store holding the video: every frame
decoded and pre-processed on the producer thread while the calling thread runs the model,
then the scores stored; (b) the reference: the same model's ``session.run`` over the same
frames, pre-decoded (to greyscale, as the service does) and pre-processed into batches in
memory beforehand (the decode is not timed); the two must agree to 1e-5 on every score. Also
printed: how far the grey path's pixels and scores are from the RGB path's (RGB, then Pillow's
RGB->L) on the first ``COMPARED`` frames. Goal: (a) at least 0.8 of (b)'s frames/s. The two
take turns, ``--repeat`` rounds (default 3); each result is the median of its rounds.

Run: ``uv run python benchmarks/bench_frame_scoring.py [--repeat N]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from _media import _encode, machine, peak_rss_mb, verdict

if TYPE_CHECKING:
    from iamedic_desktop.media.frame_source import PixelFormat

GOAL = 0.8
FRAMES = 9000
COMPARED = 960  # frames decoded both ways to compare the grey path with the RGB path
BATCH = 16  # OnnxClassifier's default batch size
VERSION = "frame_classifier_224x224 - 1"


def five_minutes() -> Path:
    """5 min of 800x600 H.264 at 30 fps, GOP 60 (an ultrasound loop's size and rate)."""
    return _encode(
        "five_minutes_800x600_h264.mp4",
        [
            *("-f", "lavfi", "-i", "testsrc2=size=800x600:rate=30"),
            *("-frames:v", str(FRAMES), "-c:v", "libx264", "-preset", "veryfast", "-crf", "23"),
            *("-g", "60", "-pix_fmt", "yuv420p"),
        ],
    )


def cnn_model(path: Path) -> Path:
    """A small CNN classifier with random (seeded) weights and the IAMEDIC contract."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(12)
    layers = [(1, 32, 2), (32, 32, 1), (32, 64, 2), (64, 64, 1), (64, 128, 2), (128, 128, 1)]
    nodes, inits, last = [], [], "input"
    for i, (cin, cout, stride) in enumerate(layers):
        weight = rng.normal(0, (2 / (9 * cin)) ** 0.5, (cout, cin, 3, 3)).astype(np.float32)
        inits += [
            numpy_helper.from_array(weight, f"w{i}"),
            numpy_helper.from_array(np.zeros(cout, np.float32), f"b{i}"),
        ]
        nodes += [
            helper.make_node(
                "Conv", [last, f"w{i}", f"b{i}"], [f"c{i}"],
                kernel_shape=[3, 3], strides=[stride, stride], pads=[1, 1, 1, 1],
            ),
            helper.make_node("Relu", [f"c{i}"], [f"r{i}"]),
        ]  # fmt: skip
        last = f"r{i}"
    dense = rng.normal(0, 0.05, (128, 1)).astype(np.float32)
    inits += [
        numpy_helper.from_array(dense, "dense"),
        numpy_helper.from_array(np.zeros(1, np.float32), "dense_bias"),
    ]
    nodes += [
        helper.make_node("GlobalAveragePool", [last], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
        helper.make_node("Gemm", ["flat", "dense", "dense_bias"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["probability"]),
    ]
    graph = helper.make_graph(
        nodes,
        "frame_classifier_cnn",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, 224, 224])],
        [helper.make_tensor_value_info("probability", TensorProto.FLOAT, ["N", 1])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def pre_decoded(
    clip: Path, pixel_format: PixelFormat = "gray", stop: int = FRAMES
) -> list[np.ndarray]:
    """Frames decoded and pre-processed, in batches of BATCH (the reference's input)."""
    from iamedic_desktop.media.video_source import VideoFrameSource
    from iamedic_desktop.ml.preprocess import to_input

    source = VideoFrameSource(clip, cache_index=False)
    try:
        stop = min(stop, source.frame_count)
        planes = np.empty((stop, 1, 224, 224), np.float32)
        for n, pixels in source.iter_frames(0, stop, pixel_format=pixel_format):
            planes[n, 0] = to_input(pixels)
    finally:
        source.close()
    return [planes[i : i + BATCH] for i in range(0, len(planes), BATCH)]


def grey_vs_rgb(clip: Path, model: Path) -> str:
    """Max pixel and score differences of the grey path vs the RGB path (first COMPARED)."""
    from iamedic_desktop.media.video_source import VideoFrameSource
    from iamedic_desktop.ml.preprocess import to_grey

    worst = 0
    with VideoFrameSource(clip, cache_index=False) as source:
        rgb = source.iter_frames(0, COMPARED)
        grey = source.iter_frames(0, COMPARED, pixel_format="gray")
        for (_, colour), (_, luma) in zip(rgb, grey, strict=True):
            diff = np.abs(to_grey(colour).astype(np.int16) - luma.astype(np.int16))
            worst = max(worst, int(diff.max()))
    _, by_grey = raw_loop(model, pre_decoded(clip, "gray", COMPARED))
    _, by_rgb = raw_loop(model, pre_decoded(clip, "rgb24", COMPARED))
    score_diff = float(np.max(np.abs(np.array(by_grey) - np.array(by_rgb))))
    return (
        f"grey path vs RGB path, {COMPARED} frames: pixels <= {worst}, scores <= {score_diff:.4f}"
    )


def raw_loop(model: Path, batches: list[np.ndarray]) -> tuple[float, list[float]]:
    """Seconds of ``session.run`` over every batch, and the scores."""
    from iamedic_desktop.ml.onnx_model import open_session

    session = open_session(model)
    session.run(None, {"input": batches[0]})  # warm-up, as the service's first batch
    scores: list[float] = []
    started = time.perf_counter()
    for batch in batches:
        scores.extend(session.run(None, {"input": batch})[0][:, 0].tolist())
    return time.perf_counter() - started, scores


def service(model: Path, clip: Path, work: Path) -> tuple[float, list[float]]:
    """Seconds of ``score_video`` over the video stored in a fresh local store."""
    from iamedic_desktop.core.settings import Settings
    from iamedic_desktop.ml.onnx_model import OnnxClassifier
    from iamedic_desktop.services.frame_scoring import score_video
    from iamedic_desktop.services.local_store import open_local_store
    from iamedic_desktop.services.media_records import create_media
    from iamedic_desktop.services.studies import create_study

    store = open_local_store(Settings(data_dir=work / "data", cache_dir=work / "cache"))
    try:
        study = create_study(store.uow, store.actor, "Benchmark")
        stored = store.media.copy_in(clip)
        video = create_media(
            store.uow, store.actor, study.id, filename=clip.name, file_path=stored.key,
            file_size=stored.size, mime_type="video/mp4",
        )  # fmt: skip
        classifier = OnnxClassifier(model, VERSION)
        classifier.classify_tensor(np.zeros((BATCH, 1, 224, 224), np.float32))  # warm-up
        started = time.perf_counter()  # the store, the row and the session are set-up
        result = score_video(store.uow, store.actor, store.media, classifier, video.id)
        seconds = time.perf_counter() - started
    finally:
        store.close()
    return seconds, result.scores


def main() -> int:
    """Print both rates, the ratio and the verdict."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    clip = five_minutes()
    print(f"machine: {machine()}")
    print(f"file: {clip.name} ({clip.stat().st_size / 1e6:.1f} MB), {FRAMES} frames")
    with tempfile.TemporaryDirectory(prefix="iamedic-bench-") as tmp:
        folder = Path(tmp)
        model = cnn_model(folder / "cnn.onnx")
        print(grey_vs_rgb(clip, model))
        started = time.perf_counter()
        batches = pre_decoded(clip)
        frames = sum(len(b) for b in batches)
        print(f"reference input: {frames} frames decoded and pre-processed in "
              f"{time.perf_counter() - started:.1f} s (not timed below)")  # fmt: skip
        ours: list[float] = []
        raw: list[float] = []
        for round_ in range(args.repeat):
            seconds, reference_scores = raw_loop(model, batches)
            raw.append(seconds)
            seconds, scores = service(model, clip, folder / f"store{round_}")
            ours.append(seconds)
            if len(scores) != frames or not np.allclose(scores, reference_scores, atol=1e-5):
                print("❌ score_video and the raw loop disagree on the scores")
                return 1
            print(f"  round {round_ + 1}: raw {frames / raw[-1]:.1f} frames/s, "
                  f"score_video {frames / ours[-1]:.1f} frames/s")  # fmt: skip
    raw_s, ours_s = statistics.median(raw), statistics.median(ours)
    ratio = raw_s / ours_s
    print(f"per frame: model {1000 * raw_s / frames:.2f} ms (raw loop, batches of {BATCH})")
    print(f"raw ONNX Runtime loop (reference)  {raw_s:6.1f} s  {frames / raw_s:6.1f} frames/s")
    print(f"score_video (decode overlapped)    {ours_s:6.1f} s  {frames / ours_s:6.1f} frames/s")
    print(f"ratio: {ratio:.2f} (goal >= {GOAL}) {verdict(ratio >= GOAL)}")
    own, _child = peak_rss_mb()
    print(f"peak RSS of this process: {own:.0f} MB (the reference's in-memory frames included)")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    sys.exit(main())
