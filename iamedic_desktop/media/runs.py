"""The "runs" algorithm of automatic extraction: stretches of useful frames, best frame of each.

Every frame of a video is scored (the classifier's probability that the frame is useful). A run
starts at the first frame scoring >= ``run_threshold``; frames below it increment a patience
counter, reset by a frame above; when the counter exceeds ``patience`` the run ends at the last
frame before the dip. Runs shorter than ``min_run_length`` are dropped, and a run still open
when the scores end is closed there. The best frame of each run whose best score reaches
``prediction_threshold`` is extracted (spec/domain_rules.md).

Where the rule is silent, this module decides (and the tests pin it down):
- A run spans ``start``..``end`` inclusive; its length is ``end - start + 1``, so a dip of at
  most ``patience`` frames *inside* a run counts towards its length.
- A run always ends on a frame at or above ``run_threshold``: a dip that outlasts patience is
  not part of the run, and neither is a dip of at most ``patience`` frames at the very end of
  the scores (the open run closes at its last frame above the threshold).
- A dip of exactly ``patience`` frames followed by a frame above continues the run; the
  ``patience + 1``-th frame below ends it.
- The frame that ends a run is below the threshold, so it never starts the next one.
- Ties for the best score go to the earliest frame.
- A score that is not a number (NaN) counts as below every threshold.
Pure code: no I/O, no decoding; ``RunTracker`` takes scores one at a time so extraction can
store a run's best frame while the video is still being decoded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class RunsParams:
    """The thresholds of the runs algorithm, with the defaults of domain_rules.md."""

    run_threshold: float = 0.8
    min_run_length: int = 5
    prediction_threshold: float = 0.95
    patience: int = 2

    def __post_init__(self) -> None:
        for name in ("run_threshold", "prediction_threshold"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{name} must be a number, not {value!r}")
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {value!r}")
        for name, minimum in (("min_run_length", 1), ("patience", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise ValueError(f"{name} must be a whole number >= {minimum}, not {value!r}")


@dataclass(frozen=True)
class Run:
    """Frames ``start``..``end`` (inclusive) and the best of them (the first on ties)."""

    start: int
    end: int
    best_index: int
    best_score: float

    @property
    def length(self) -> int:
        """How many frames the run spans, short dips inside it included."""
        return self.end - self.start + 1


class RunTracker:
    """The runs algorithm fed one score at a time; ``push`` returns each run as it closes."""

    def __init__(self, params: RunsParams | None = None) -> None:
        self.params = params or RunsParams()
        self._index = -1  # index of the last score pushed
        self._start: int | None = None  # the open run's first frame
        self._last_above = -1  # the open run's last frame at or above the threshold
        self._below = 0  # frames below the threshold since then
        self._best_index = -1
        self._best_score = 0.0

    @property
    def open_best_index(self) -> int | None:
        """The best frame so far of the run now open, or None when no run is open."""
        return self._best_index if self._start is not None else None

    def push(self, score: float) -> Run | None:
        """Take the next frame's score; returns the run it closes, if one long enough closes."""
        self._index += 1
        above = score >= self.params.run_threshold  # False for NaN
        if self._start is None:
            if above:
                self._open(self._index, score)
            return None
        if above:
            self._below = 0
            self._last_above = self._index
            if score > self._best_score:  # strictly: ties keep the earlier frame
                self._best_index, self._best_score = self._index, score
            return None
        self._below += 1
        if self._below > self.params.patience:
            return self._close()
        return None

    def finish(self) -> Run | None:
        """End of the scores: close the run still open, if it is long enough."""
        return self._close() if self._start is not None else None

    def _open(self, index: int, score: float) -> None:
        self._start = index
        self._last_above = index
        self._below = 0
        self._best_index, self._best_score = index, score

    def _close(self) -> Run | None:
        assert self._start is not None
        run = Run(self._start, self._last_above, self._best_index, self._best_score)
        self._start = None
        self._below = 0
        return run if run.length >= self.params.min_run_length else None


def find_runs(
    scores: Iterable[float],
    *,
    run_threshold: float = 0.8,
    min_run_length: int = 5,
    patience: int = 2,
) -> list[Run]:
    """Every run of ``scores`` (one score per frame, in frame order), in order."""
    params = RunsParams(
        run_threshold=run_threshold, min_run_length=min_run_length, patience=patience
    )
    tracker = RunTracker(params)
    runs = [run for score in scores if (run := tracker.push(score)) is not None]
    last = tracker.finish()
    return [*runs, last] if last is not None else runs


def runs_to_extract(runs: Iterable[Run], prediction_threshold: float = 0.95) -> list[Run]:
    """The runs whose best frame is to be extracted: best score >= ``prediction_threshold``."""
    return [run for run in runs if run.best_score >= prediction_threshold]
