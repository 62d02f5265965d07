"""Every frame of a source, decoded and prepared on a producer thread, scored in batches.

The producer decodes each frame once (``iter_frames``, in order) and turns it into the model's
input (``ml/preprocess.to_input``: Pillow releases the GIL while it resizes) or, for a classifier
that takes images (the HTTP backend), into 8-bit greyscale. A video (a ``PixelFormatSource``) is
decoded straight to greyscale (swscale's luma, ``pixel_format="gray"``): no RGB is made and
Pillow's RGB->L is skipped, about 1 ms of CPU less per 800x600 frame on cores the model shares.
How close that is to the RGB path (RGB, then Pillow's RGB->L), measured on H.264 yuv420p
(BT.601, limited range): on grey pictures, as ultrasound is, at most 1 level apart (48 % of the
pixels of an 800x600 grey test file; the tests pin +-2); on saturated colours (ffmpeg's
``testsrc2``) 98.5 % of pixels within 2 levels but up to 36 apart where the RGB clips; the test
classifier's scores of the grey-level test video within 0.01 of the RGB path's. Other sources
(DICOM cines, stills) still go through RGB. It fills batches of the classifier's
batch size and hands them over a bounded queue, so at most ``QUEUE_DEPTH + 2`` batches exist at
once whatever the video's length. The calling thread runs the classifier (ONNX Runtime releases
the GIL too), so decoding the next batch overlaps scoring this one.

Threading: the frame source belongs to the producer from ``start`` until ``score_frames``
returns; the producer is always stopped and joined before that (after the last batch, a cancel
or an error), so no thread outlives the call. Cancel is seen between batches.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.core.progress import CancelToken, Progress, ProgressCallback
from iamedic_desktop.media.frame_source import FrameSource, PixelFormatSource
from iamedic_desktop.ml.predictor import Classifier
from iamedic_desktop.ml.preprocess import INPUT_SIZE, to_grey, to_input
from iamedic_desktop.services.still_batch import check_score

QUEUE_DEPTH = 2  # batches waiting for the model: enough to hide a slow frame, little memory
DEFAULT_BATCH = 16  # for a classifier that does not say its batch size
POLL_S = 0.1  # how often a blocked thread looks at the stop flag and the cancel token
THREAD_NAME = "iamedic-frame-scoring"

Batch = np.ndarray | list[np.ndarray]  # an N x 1 x 224 x 224 tensor, or N greyscale images


@dataclass(frozen=True)
class _Failed:
    error: BaseException


_END = object()


@dataclass(frozen=True)
class ScoredFrames:
    """The scores of frames 0..len(scores)-1, and whether a cancel stopped the work early."""

    scores: list[float]
    cancelled: bool


class _Producer(threading.Thread):
    """Decodes and prepares the frames into batches on its own thread."""

    def __init__(self, source: FrameSource, total: int, batch_size: int, tensors: bool) -> None:
        super().__init__(name=THREAD_NAME, daemon=True)
        self.source = source
        self.total = total
        self.batch_size = batch_size
        self.tensors = tensors
        self.batches: queue.Queue[object] = queue.Queue(maxsize=QUEUE_DEPTH)
        self.stop = threading.Event()

    def run(self) -> None:
        source = self.source
        if isinstance(source, PixelFormatSource) and "gray" in source.pixel_formats:
            frames = source.iter_frames(0, self.total, pixel_format="gray")
        else:
            frames = source.iter_frames(0, self.total)
        try:
            start, filled = 0, 0
            batch = self._new_batch()
            for n, pixels in frames:
                if self.stop.is_set():
                    return
                if isinstance(batch, list):
                    batch.append(to_grey(pixels).copy())  # a decoder may reuse its buffer
                else:
                    batch[filled, 0] = to_input(pixels)
                filled += 1
                if filled == self.batch_size:
                    if not self._put((start, batch)):
                        return
                    start, filled, batch = n + 1, 0, self._new_batch()
            if filled and not self._put((start, batch[:filled])):
                return
            self._put(_END)
        except BaseException as exc:  # handed to the scoring thread, which raises it
            self._put(_Failed(exc))
        finally:
            close = getattr(frames, "close", None)
            if close is not None:
                close()

    def _new_batch(self) -> Batch:
        if not self.tensors:
            return []
        return np.empty((self.batch_size, 1, INPUT_SIZE, INPUT_SIZE), dtype=np.float32)

    def _put(self, item: object) -> bool:
        """Wait for room in the queue; False when asked to stop meanwhile."""
        while not self.stop.is_set():
            try:
                self.batches.put(item, timeout=POLL_S)
                return True
            except queue.Full:
                continue
        return False


def _batch_of(item: object) -> tuple[int, Batch]:
    pair: tuple[int, Batch] = item  # type: ignore[assignment]  # _Producer puts (first, batch)
    return pair


def _scorer(classifier: Classifier) -> tuple[Callable[[Batch], list[float]], bool]:
    """The classifier's fastest entry: prepared tensors when it takes them, else images."""
    classify_tensor = getattr(classifier, "classify_tensor", None)
    if callable(classify_tensor):
        return classify_tensor, True
    return classifier.classify, False  # type: ignore[return-value]


def score_frames(
    source: FrameSource,
    classifier: Classifier,
    progress: ProgressCallback,
    cancel: CancelToken | None,
) -> ScoredFrames:
    """Every frame of ``source`` scored by ``classifier``, frame 0 first (worker thread only)."""
    total = source.frame_count
    score, tensors = _scorer(classifier)
    size = getattr(classifier, "batch_size", DEFAULT_BATCH)
    batch_size = size if isinstance(size, int) and size > 0 else DEFAULT_BATCH
    producer = _Producer(source, total, batch_size, tensors)
    scores: list[float] = []
    progress(Progress(0, total, f"Scoring {total} frames"))
    producer.start()
    try:
        while True:
            if cancel is not None and cancel.cancelled:
                return ScoredFrames(scores, cancelled=True)
            try:
                item = producer.batches.get(timeout=POLL_S)
            except queue.Empty:
                continue
            if item is _END:
                return ScoredFrames(scores, cancelled=False)
            if isinstance(item, _Failed):
                raise item.error
            start, batch = _batch_of(item)
            values = score(batch)
            if len(values) != len(batch):
                raise InvalidInputError(
                    f"The frame classifier gave {len(values)} scores for {len(batch)} frames."
                )
            scores.extend(check_score(value, start + i) for i, value in enumerate(values))
            progress(Progress(len(scores), total, f"Scored {len(scores)} of {total} frames"))
    finally:
        producer.stop.set()
        producer.join()
