"""The "runs" algorithm of automatic extraction, on hand-written and random score sequences.

Scores are written as strings, one character per frame, with the default thresholds in mind
(run 0.8, prediction 0.95, patience 2, minimum length 5):
``.`` 0.1 (below), ``r`` 0.8 (exactly the run threshold), ``h`` 0.9, ``p`` 0.95 (exactly the
prediction threshold), ``x`` 0.99.
"""

from __future__ import annotations

import math
import random

import pytest

from iamedic_desktop.media.runs import Run, RunsParams, RunTracker, find_runs, runs_to_extract

SCORE = {".": 0.1, "r": 0.8, "h": 0.9, "p": 0.95, "x": 0.99}


def scores_of(pattern: str) -> list[float]:
    return [SCORE[c] for c in pattern]


def spans(pattern: str, **kwargs: int | float) -> list[tuple[int, int]]:
    return [(run.start, run.end) for run in find_runs(scores_of(pattern), **kwargs)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("", []),
        ("......", []),
        ("hhhhhhh", [(0, 6)]),
        ("rrrrr", [(0, 4)]),  # the threshold itself counts as above
        ("..hhhhh..", [(2, 6)]),
        # a dip of exactly `patience` frames is bridged, and counts towards the length
        ("hhh..hhh", [(0, 7)]),
        ("hh..h", [(0, 4)]),
        # the patience+1-th frame below ends the run at the last frame before the dip
        ("hhhhh...hhhhh", [(0, 4), (8, 12)]),
        ("hhh...hhh", []),  # each half alone is too short
        ("hhhhh...h", [(0, 4)]),
        # two short dips in a row, each bridged
        ("hh..hh..hh", [(0, 9)]),
        # min_run_length boundary: 5 kept, 4 dropped
        ("hhhhh", [(0, 4)]),
        ("hhhh", []),
        ("..hhhh..", []),
        # a run open at the end closes at the last frame
        ("...hhhhh", [(3, 7)]),
        # ... at its last frame above the threshold: a trailing short dip is not part of it
        ("hhhhh..", [(0, 4)]),
        ("hhhh..", []),
        ("hhhh.", []),
        # several runs
        ("hhhhh...xhhhh....hhhhhhh.", [(0, 4), (8, 12), (17, 23)]),
        (".h.h.h.h.", [(1, 7)]),
    ],
)
def test_runs_with_default_parameters(pattern: str, expected: list[tuple[int, int]]) -> None:
    assert spans(pattern) == expected


def test_score_just_below_the_threshold_starts_nothing() -> None:
    assert find_runs([0.7999999] * 10) == []
    assert find_runs([0.8] * 10) == [Run(0, 9, 0, 0.8)]


def test_best_frame_is_the_highest_score_and_the_first_on_ties() -> None:
    (run,) = find_runs(scores_of("hhxhxhh"))
    assert (run.best_index, run.best_score) == (2, 0.99)
    (run,) = find_runs(scores_of("hhhhh"))
    assert run.best_index == 0
    (run,) = find_runs([0.81, 0.9, 0.85, 0.1, 0.97, 0.96, 0.97])
    assert (run.best_index, run.best_score) == (4, 0.97)


def test_best_frame_is_never_in_a_dip() -> None:
    (run,) = find_runs([0.9, 0.9, 0.5, 0.79, 0.91, 0.9])
    assert (run.start, run.end, run.best_index) == (0, 5, 4)


@pytest.mark.parametrize(
    ("patience", "expected"),
    [
        (0, [(0, 2), (4, 6), (9, 11)]),
        (1, [(0, 6), (9, 11)]),
        (2, [(0, 11)]),
    ],
)
def test_patience(patience: int, expected: list[tuple[int, int]]) -> None:
    assert spans("hhh.hhh..hhh", patience=patience, min_run_length=1) == expected


def test_thresholds_and_minimum_length_are_parameters() -> None:
    pattern = "..hhh.pp."
    assert spans(pattern, run_threshold=0.95, min_run_length=2) == [(6, 7)]
    assert spans(pattern, min_run_length=3) == [(2, 7)]
    assert spans(pattern, min_run_length=7) == []
    assert spans(pattern, run_threshold=0.0, min_run_length=1) == [(0, 8)]


def test_nan_counts_as_below() -> None:
    scores = [0.9, 0.9, math.nan, 0.9, 0.9, math.nan, math.nan, math.nan, 0.9]
    assert [(r.start, r.end) for r in find_runs(scores)] == [(0, 4)]
    assert find_runs([math.nan] * 8) == []


def test_runs_to_extract_filters_on_the_prediction_threshold() -> None:
    runs = find_runs(scores_of("hhhhh...hhphh...xhhhh....hhhh"), min_run_length=4)
    assert [r.best_score for r in runs] == [0.9, 0.95, 0.99, 0.9]
    assert runs_to_extract(runs) == [runs[1], runs[2]]  # 0.95 itself is enough
    assert runs_to_extract(runs, 0.99) == [runs[2]]
    assert runs_to_extract(runs, 0.0) == runs
    assert runs_to_extract([], 0.5) == []
    assert runs_to_extract(find_runs([0.949] * 9)) == []


def test_run_length_counts_both_ends() -> None:
    (run,) = find_runs(scores_of("hh..h"))
    assert run.length == 5


def test_tracker_reports_each_run_as_it_closes_and_the_open_runs_best() -> None:
    tracker = RunTracker(RunsParams())
    seen: list[tuple[int, Run | None, int | None]] = []
    for n, score in enumerate(scores_of("..hhxhh...hh")):
        seen.append((n, tracker.push(score), tracker.open_best_index))
    assert [open_best for _, _, open_best in seen] == [
        None, None, 2, 2, 4, 4, 4, 4, 4, None, 10, 10,
    ]  # fmt: skip
    closed = [(n, run) for n, run, _ in seen if run is not None]
    assert closed == [(9, Run(2, 6, 4, 0.99))]  # known at the third frame of the dip
    assert tracker.finish() is None  # the open run is too short


def test_defaults_are_those_of_the_domain_rules() -> None:
    params = RunsParams()
    assert (
        params.run_threshold,
        params.min_run_length,
        params.prediction_threshold,
        params.patience,
    ) == (0.8, 5, 0.95, 2)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"run_threshold": 1.5},
        {"run_threshold": -0.1},
        {"run_threshold": math.nan},
        {"run_threshold": True},
        {"prediction_threshold": 2},
        {"min_run_length": 0},
        {"min_run_length": 2.5},
        {"patience": -1},
        {"patience": "2"},
    ],
)
def test_bad_parameters_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        RunsParams(**kwargs)  # type: ignore[arg-type]


def _reference_runs(scores: list[float], threshold: float, min_len: int, patience: int) -> list:
    """The same rule stated differently: clusters of frames above the threshold whose gaps
    are at most ``patience`` frames, spanning first to last frame above, long enough."""
    above = [i for i, s in enumerate(scores) if s >= threshold]
    clusters: list[list[int]] = []
    for i in above:
        if clusters and i - clusters[-1][-1] - 1 <= patience:
            clusters[-1].append(i)
        else:
            clusters.append([i])
    runs = []
    for cluster in clusters:
        start, end = cluster[0], cluster[-1]
        if end - start + 1 >= min_len:
            best = max(range(start, end + 1), key=lambda i: (scores[i], -i))
            runs.append(Run(start, end, best, scores[best]))
    return runs


@pytest.mark.parametrize("seed", range(40))
def test_random_sequences_agree_with_a_second_statement_of_the_rule(seed: int) -> None:
    rng = random.Random(seed)
    patience = rng.randint(0, 4)
    min_len = rng.randint(1, 8)
    threshold = rng.choice([0.5, 0.8, 0.9])
    # Blocky sequences (a few levels, repeated) make runs, dips and ties common.
    scores: list[float] = []
    length = rng.randint(0, 300)
    while len(scores) < length:
        scores += [rng.choice([0.1, 0.6, 0.8, 0.85, 0.9, 0.97, 1.0])] * rng.randint(1, 6)
    expected = _reference_runs(scores, threshold, min_len, patience)
    got = find_runs(scores, run_threshold=threshold, min_run_length=min_len, patience=patience)
    assert got == expected
