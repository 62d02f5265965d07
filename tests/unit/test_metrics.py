"""The statistics' arithmetic on cases worked out by hand."""

from __future__ import annotations

import pytest

from iamedic_desktop.ml.metrics import (
    average_precision_11pt,
    box_metrics,
    classification_metrics,
    iou,
    match_boxes,
)

# --- classification ---------------------------------------------------------------------------


def test_confusion_matrix_and_ratios() -> None:
    # (probability, label): 0.9/1 TP, 0.7/1 TP, 0.6/0 FP, 0.5/1 FN (0.5 is not > 0.5),
    # 0.2/1 FN, 0.1/0 TN.
    pairs = [(0.9, 1), (0.7, 1), (0.6, 0), (0.5, 1), (0.2, 1), (0.1, 0)]
    result = classification_metrics(pairs, 0.5)
    assert (result.tp, result.fp, result.fn, result.tn) == (2, 1, 2, 1)
    assert result.total == 6
    assert result.accuracy == pytest.approx(3 / 6)
    assert result.precision == pytest.approx(2 / 3)
    assert result.recall == pytest.approx(2 / 4)
    # F1 = 2PR / (P + R) = 2 * (2/3) * (1/2) / (7/6) = 4/7
    assert result.f1 == pytest.approx(4 / 7)


def test_a_lower_threshold_changes_the_numbers() -> None:
    pairs = [(0.9, 1), (0.7, 1), (0.6, 0), (0.5, 1), (0.2, 1), (0.1, 0)]
    result = classification_metrics(pairs, 0.15)
    # Everything but 0.1 is now useful: TP 4 (0.9, 0.7, 0.5, 0.2), FP 1 (0.6), TN 1 (0.1).
    assert (result.tp, result.fp, result.fn, result.tn) == (4, 1, 0, 1)
    assert result.recall == 1.0
    assert result.precision == pytest.approx(4 / 5)


def test_nothing_to_divide_by_is_none_not_a_crash() -> None:
    empty = classification_metrics([], 0.5)
    assert (empty.tp, empty.fp, empty.fn, empty.tn) == (0, 0, 0, 0)
    assert (empty.accuracy, empty.precision, empty.recall, empty.f1) == (None,) * 4
    # Only negatives, all called negative: accuracy 1, the rest undefined.
    negatives = classification_metrics([(0.1, 0), (0.3, 0)], 0.5)
    assert negatives.accuracy == 1.0
    assert (negatives.precision, negatives.recall, negatives.f1) == (None, None, None)
    # Positives all missed and a false alarm: precision 0, recall 0, F1 0 (not n/a).
    missed = classification_metrics([(0.1, 1), (0.9, 0)], 0.5)
    assert (missed.precision, missed.recall, missed.f1) == (0.0, 0.0, 0.0)


# --- IoU --------------------------------------------------------------------------------------


def test_iou_edge_cases() -> None:
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    # Half overlap: intersection 50, union 150.
    assert iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(1 / 3)
    # Contained: 25 / 100.
    assert iou((0, 0, 10, 10), (0, 0, 5, 5)) == pytest.approx(0.25)
    # Touching edges share no area; apart, no area either.
    assert iou((0, 0, 10, 10), (10, 0, 10, 10)) == 0.0
    assert iou((0, 0, 10, 10), (30, 30, 5, 5)) == 0.0
    # A box without area never overlaps (not a division by zero).
    assert iou((0, 0, 0, 10), (0, 0, 0, 10)) == 0.0
    assert iou((0, 0, 10, -5), (0, 0, 10, 10)) == 0.0
    # Symmetric, fractional pixels.
    assert iou((1.5, 2.5, 4, 4), (3.5, 2.5, 4, 4)) == pytest.approx(8 / 24)
    assert iou((3.5, 2.5, 4, 4), (1.5, 2.5, 4, 4)) == pytest.approx(8 / 24)


# --- matching ---------------------------------------------------------------------------------


def test_greedy_matching_goes_by_confidence_not_by_order_given() -> None:
    truth = [(0.0, 0.0, 10.0, 10.0)]
    # The weaker prediction is given first and overlaps better; the stronger one wins the box.
    predictions = [(0.6, (0.0, 0.0, 10.0, 10.0)), (0.9, (1.0, 0.0, 10.0, 10.0))]
    assert match_boxes(predictions, truth, 0.5) == [(0.9, True), (0.6, False)]


def test_each_prediction_takes_the_free_truth_it_overlaps_most() -> None:
    truths = [(0.0, 0.0, 10.0, 10.0), (20.0, 0.0, 10.0, 10.0)]
    predictions = [(0.9, (19.0, 0.0, 10.0, 10.0)), (0.8, (1.0, 0.0, 10.0, 10.0))]
    assert match_boxes(predictions, truths, 0.5) == [(0.9, True), (0.8, True)]
    # One truth, two close predictions: only the first (highest confidence) scores.
    assert match_boxes(predictions, truths[1:], 0.5) == [(0.9, True), (0.8, False)]


def test_iou_threshold_decides_a_hit() -> None:
    truth = [(0.0, 0.0, 10.0, 10.0)]
    prediction = [(0.9, (5.0, 0.0, 10.0, 10.0))]  # IoU 1/3
    assert match_boxes(prediction, truth, 0.5) == [(0.9, False)]
    assert match_boxes(prediction, truth, 0.3) == [(0.9, True)]
    assert match_boxes(prediction, [], 0.5) == [(0.9, False)]
    assert match_boxes([], truth, 0.5) == []


# --- average precision ------------------------------------------------------------------------


def test_eleven_point_ap_by_hand() -> None:
    # 5 truths; ranked predictions TP, FP, TP, TP, FP, TP:
    # rank 1: recall 1/5 precision 1/1; rank 2: 1/5, 1/2; rank 3: 2/5, 2/3;
    # rank 4: 3/5, 3/4; rank 5: 3/5, 3/5; rank 6: 4/5, 4/6.
    # Interpolated (max precision at recall >= r): r 0.0-0.2 -> 1, r 0.3-0.6 -> 3/4,
    # r 0.7-0.8 -> 4/6, r 0.9-1.0 -> 0. AP = (3*1 + 4*0.75 + 2*(2/3)) / 11 = (6 + 4/3) / 11.
    scored = [(0.95, True), (0.9, False), (0.8, True), (0.7, True), (0.6, False), (0.5, True)]
    assert average_precision_11pt(scored, 5) == pytest.approx((6 + 4 / 3) / 11)


def test_ap_edges() -> None:
    assert average_precision_11pt([], 0) is None
    assert average_precision_11pt([(0.9, False)], 0) is None
    assert average_precision_11pt([], 3) == 0.0
    assert average_precision_11pt([(0.9, True), (0.8, True)], 2) == pytest.approx(1.0)
    # All false positives: 0 at every recall point.
    assert average_precision_11pt([(0.9, False)], 1) == 0.0


# --- the whole box computation ----------------------------------------------------------------

# Two media, 5 truth boxes of "CM" (a, b, c, d on media 1 and e on media 2 are far apart), and
# 6 predictions whose confidences rank them as in test_eleven_point_ap_by_hand.
A, B, C, D, E = ((x, 0.0, 10.0, 10.0) for x in (0.0, 100.0, 200.0, 300.0, 0.0))
TRUTHS = [("m1", "CM", A), ("m1", "CM", B), ("m1", "CM", C), ("m1", "CM", D), ("m2", "CM", E)]
PREDICTIONS = [
    ("m1", "CM", 0.95, (1.0, 0.0, 10.0, 10.0)),  # a, IoU 9/11: TP
    ("m1", "CM", 0.90, (2.0, 0.0, 10.0, 10.0)),  # a again, already taken: FP
    ("m1", "CM", 0.80, (100.0, 1.0, 10.0, 10.0)),  # b: TP
    ("m2", "CM", 0.70, (0.0, 0.0, 10.0, 10.0)),  # e: TP
    ("m1", "CM", 0.60, (500.0, 0.0, 10.0, 10.0)),  # nothing there: FP
    ("m1", "CM", 0.50, (203.0, 0.0, 10.0, 10.0)),  # c, IoU 7/13 = 0.54: TP
    ("m1", "NT", 0.99, (0.0, 0.0, 10.0, 10.0)),  # a class without truth
    ("m2", "CM", 0.40, (300.0, 0.0, 10.0, 10.0)),  # under the confidence threshold
]


def test_box_metrics_by_hand() -> None:
    result = box_metrics(PREDICTIONS, TRUTHS, classes=("CM", "IT", "NT"))
    by_class = {c.bb_class: c for c in result.classes}
    assert [c.bb_class for c in result.classes] == ["CM", "IT", "NT"]
    cm = by_class["CM"]
    assert (cm.truths, cm.tp, cm.fp, cm.fn) == (5, 4, 2, 1)
    assert cm.ap == pytest.approx((6 + 4 / 3) / 11)
    # IT: neither truth nor prediction; NT: only a false positive. Both AP None, out of mAP.
    assert (by_class["IT"].truths, by_class["IT"].ap) == (0, None)
    nt = by_class["NT"]
    assert (nt.truths, nt.tp, nt.fp, nt.fn, nt.ap) == (0, 0, 1, 0, None)
    assert result.map == pytest.approx(cm.ap)


def test_thresholds_change_the_box_numbers() -> None:
    # At confidence 0.75 only 0.95 (TP), 0.90 (FP), 0.80 (TP) and NT remain:
    # ranked TP, FP, TP: r 0.0-0.2 -> 1, r 0.3-0.4 -> 2/3, beyond -> 0. AP = (3 + 4/3) / 11.
    strict = box_metrics(PREDICTIONS, TRUTHS, confidence_threshold=0.75, classes=("CM",))
    cm = strict.classes[0]
    assert (cm.tp, cm.fp, cm.fn) == (2, 1, 3)
    assert cm.ap == pytest.approx((3 + 4 / 3) / 11)
    # At IoU 0.6 the prediction on c (IoU 0.54) misses: TP, FP, TP, TP, FP, FP.
    # r 0.0-0.2 -> 1, r 0.3-0.6 -> 3/4, beyond -> 0. AP = (3 + 3) / 11.
    tight = box_metrics(PREDICTIONS, TRUTHS, iou_threshold=0.6, classes=("CM",))
    cm = tight.classes[0]
    assert (cm.tp, cm.fp, cm.fn) == (3, 3, 2)
    assert cm.ap == pytest.approx(6 / 11)
    # Confidence 0.3 lets in the 0.40 box on d's place, but on m2, where d is not: one more FP.
    loose = box_metrics(PREDICTIONS, TRUTHS, confidence_threshold=0.3, classes=("CM",))
    assert (loose.classes[0].tp, loose.classes[0].fp) == (4, 3)


def test_mean_ap_over_classes_with_truth() -> None:
    truths = [("m", "CM", A), ("m", "IT", B)]
    predictions = [("m", "CM", 0.9, A)]  # IT has a truth but no prediction: AP 0
    result = box_metrics(predictions, truths, classes=("CM", "IT", "NT"))
    assert [c.ap for c in result.classes] == [1.0, 0.0, None]
    assert result.map == pytest.approx(0.5)
    # A class seen but not listed comes after the listed ones.
    extra = box_metrics([("m", "zz", 0.9, A)], [("m", "zz", A)], classes=("CM",))
    assert [c.bb_class for c in extra.classes] == ["CM", "zz"]


def test_empty_inputs() -> None:
    result = box_metrics([], [], classes=("CM",))
    assert result.map is None
    assert [(c.truths, c.tp, c.fp, c.fn, c.ap) for c in result.classes] == [(0, 0, 0, 0, None)]
    assert box_metrics([], []).classes == []
