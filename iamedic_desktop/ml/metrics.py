"""How a model version does against the clinicians' labels: pure arithmetic, no I/O.

Classification: a media is predicted useful when its probability is strictly above the
threshold; accuracy, precision, recall and F1 come from the confusion matrix, and a ratio whose
denominator is zero is None (shown as "n/a"), never an error.

Boxes are ``(x_min, y_min, width, height)`` in pixels. Predictions at or above the confidence
threshold are matched greedily per media and class, highest confidence first, each to the
still unmatched truth box it overlaps most, when that IoU reaches the IoU threshold; a truth
box is matched at most once. Average precision uses the 11-point interpolation of PASCAL VOC
2007: at recall 0.0, 0.1, ..., 1.0 the precision is the highest precision reached at that
recall or above (0 when the recall is never reached), and AP is their mean.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

Box = tuple[float, float, float, float]
RECALL_POINTS: tuple[float, ...] = tuple(i / 10 for i in range(11))


def _ratio(numerator: int, denominator: int) -> float | None:
    # None rather than 0 or NaN: "no case to judge" is not "judged wrong".
    return numerator / denominator if denominator else None


@dataclass(frozen=True)
class ClassificationMetrics:
    """The confusion matrix of usefulness at one threshold, and the ratios drawn from it."""

    tp: int
    fp: int
    fn: int
    tn: int
    accuracy: float | None
    precision: float | None
    recall: float | None
    f1: float | None

    @property
    def total(self) -> int:
        """How many (prediction, label) pairs were judged."""
        return self.tp + self.fp + self.fn + self.tn


def classification_metrics(
    pairs: Iterable[tuple[float, int]], threshold: float = 0.5
) -> ClassificationMetrics:
    """Metrics of (probability, label 0/1) pairs; predicted useful when probability > threshold."""
    tp = fp = fn = tn = 0
    for probability, label in pairs:
        predicted = probability > threshold
        if predicted and label:
            tp += 1
        elif predicted:
            fp += 1
        elif label:
            fn += 1
        else:
            tn += 1
    return ClassificationMetrics(
        tp=tp,
        fp=fp,
        fn=fn,
        tn=tn,
        accuracy=_ratio(tp + tn, tp + fp + fn + tn),
        precision=_ratio(tp, tp + fp),
        recall=_ratio(tp, tp + fn),
        # 2TP / (2TP + FP + FN) is the harmonic mean of precision and recall where both exist,
        # and 0 (not n/a) when there were positives but none was found.
        f1=_ratio(2 * tp, 2 * tp + fp + fn),
    )


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes; 0 when either has no area or they do not touch."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    if aw <= 0 or ah <= 0 or bw <= 0 or bh <= 0:
        return 0.0
    inter_w = min(ax + aw, bx + bw) - max(ax, bx)
    inter_h = min(ay + ah, by + bh) - max(ay, by)
    if inter_w <= 0 or inter_h <= 0:
        return 0.0
    inter = inter_w * inter_h
    return inter / (aw * ah + bw * bh - inter)


def match_boxes(
    predictions: Sequence[tuple[float, Box]], truths: Sequence[Box], iou_threshold: float = 0.5
) -> list[tuple[float, bool]]:
    """Greedy matching on one media and class: (confidence, is true positive) per prediction.

    Highest confidence first (ties keep their given order); each prediction takes the unmatched
    truth it overlaps most, and is a true positive when that IoU is at least the threshold.
    """
    order = sorted(range(len(predictions)), key=lambda i: -predictions[i][0])
    free = list(range(len(truths)))
    scored: list[tuple[float, bool]] = []
    for index in order:
        confidence, box = predictions[index]
        best, best_iou = None, -1.0
        for truth in free:
            overlap = iou(box, truths[truth])
            if overlap > best_iou:
                best, best_iou = truth, overlap
        hit = best is not None and best_iou >= iou_threshold
        if hit and best is not None:
            free.remove(best)
        scored.append((confidence, hit))
    return scored


def average_precision_11pt(scored: Iterable[tuple[float, bool]], truth_count: int) -> float | None:
    """11-point interpolated AP of (confidence, is true positive) over ``truth_count`` truths.

    None when there is no truth (AP is undefined); 0 when there are truths but no prediction.
    """
    if truth_count <= 0:
        return None
    ranked = sorted(scored, key=lambda item: -item[0])
    points: list[tuple[float, float]] = []  # (recall, precision) after each prediction
    tp = 0
    for rank, (_confidence, hit) in enumerate(ranked, start=1):
        tp += hit
        points.append((tp / truth_count, tp / rank))
    total = 0.0
    for level in RECALL_POINTS:
        total += max((p for r, p in points if r >= level), default=0.0)
    return total / len(RECALL_POINTS)


@dataclass(frozen=True)
class ClassBoxMetrics:
    """One box class: truth boxes, true and false positives, missed truths, and AP."""

    bb_class: str
    truths: int
    tp: int
    fp: int
    fn: int
    ap: float | None


@dataclass(frozen=True)
class BoxMetrics:
    """Per-class results and the mean AP over the classes that have a truth box."""

    classes: list[ClassBoxMetrics]
    map: float | None


def box_metrics(
    predictions: Iterable[tuple[Hashable, str, float, Box]],
    truths: Iterable[tuple[Hashable, str, Box]],
    *,
    confidence_threshold: float = 0.5,
    iou_threshold: float = 0.5,
    classes: Sequence[str] = (),
) -> BoxMetrics:
    """Box results from (media, class, confidence, box) predictions and (media, class, box) truths.

    ``classes`` are listed first, in their order, even without any box; other classes seen
    follow in name order. Predictions under ``confidence_threshold`` are left out.
    """
    predicted: dict[tuple[Hashable, str], list[tuple[float, Box]]] = defaultdict(list)
    for media, bb_class, confidence, box in predictions:
        if confidence >= confidence_threshold:
            predicted[(media, bb_class)].append((confidence, box))
    expected: dict[tuple[Hashable, str], list[Box]] = defaultdict(list)
    for media, bb_class, box in truths:
        expected[(media, bb_class)].append(box)
    scored: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    truth_counts: dict[str, int] = defaultdict(int)
    for key in predicted.keys() | expected.keys():
        found = predicted.get(key, [])
        wanted = expected.get(key, [])
        scored[key[1]].extend(match_boxes(found, wanted, iou_threshold))
        truth_counts[key[1]] += len(wanted)
    seen = sorted((scored.keys() | truth_counts.keys()) - set(classes))
    results = []
    for bb_class in [*classes, *seen]:
        hits = scored.get(bb_class, [])
        tp = sum(hit for _, hit in hits)
        truth_count = truth_counts.get(bb_class, 0)
        results.append(
            ClassBoxMetrics(
                bb_class=bb_class,
                truths=truth_count,
                tp=tp,
                fp=len(hits) - tp,
                fn=truth_count - tp,
                ap=average_precision_11pt(hits, truth_count),
            )
        )
    aps = [result.ap for result in results if result.ap is not None]
    return BoxMetrics(classes=results, map=sum(aps) / len(aps) if aps else None)
