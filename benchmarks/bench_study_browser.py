"""The study browser opening on 100,000 studies vs on 100: time to the first paint.

Two local stores (``_study_store.py``: made once, kept in ``~/.cache/iamedic-bench``) hold 100
and 100,000 studies of the local clinician, three in four with media, scores and labels. Each
round creates a ``StudyBrowserDock`` on the window's two runners, shows it, calls
``set_store`` and stops the clock when the table's viewport has painted with the first row's
DTO loaded (the populated view a user sees); the dock then closes. The rounds alternate between
the stores so a passing load hits both alike; medians are printed with their ratio. Then, for
information, the whole listing's arrival, and a search and each sort on the large store
(ids only, the query alone), which follow a click, not the opening. Goal: < 300 ms, and 100,000
studies open as fast as 100 (ratio near 1).

    QT_QPA_PLATFORM=offscreen uv run python benchmarks/bench_study_browser.py
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from _media import machine, median, verdict
from _study_store import study_store

from iamedic_desktop.services.local_store import LocalStore

ROUNDS = 7
GOAL_MS = 300.0
SIZES = (100, 100_000)


class PaintWatch:
    """Notes when the viewport paints while the first row's DTO is loaded."""

    def __init__(self, dock: object) -> None:
        from PySide6.QtCore import QEvent, QObject

        watch = self

        class _Filter(QObject):
            def eventFilter(self, obj: QObject, event: QEvent) -> bool:
                if event.type() == QEvent.Type.Paint and dock.model.cached(0) is not None:  # type: ignore[attr-defined]
                    watch.painted = True
                return False

        self.painted = False
        self.filter = _Filter()
        dock.table.viewport().installEventFilter(self.filter)  # type: ignore[attr-defined]


def open_once(
    app: object, store: LocalStore, database: object, workers: object
) -> tuple[float, float]:
    """Milliseconds to the first populated paint, and to the whole listing."""
    from PySide6.QtWidgets import QApplication

    from iamedic_desktop.ui.study_browser_dock import StudyBrowserDock

    loaded: list[float] = []
    started = time.perf_counter()
    dock = StudyBrowserDock(database, workers)  # type: ignore[arg-type]
    dock.resize(560, 900)
    watch = PaintWatch(dock)
    dock.studies_loaded.connect(lambda _n: loaded.append(time.perf_counter()))
    dock.show()
    dock.set_store(store)
    while not watch.painted:
        QApplication.processEvents()
    painted = time.perf_counter()  # processEvents returned: the paint is done
    while not loaded:
        QApplication.processEvents()
    while not (database.is_idle() and workers.is_idle()):  # type: ignore[attr-defined]
        QApplication.processEvents()
    assert dock.model.total == store_size(store)
    dock.close()
    dock.deleteLater()
    QApplication.processEvents()
    return (painted - started) * 1000, (loaded[0] - started) * 1000


_SIZES: dict[int, int] = {}


def store_size(store: LocalStore) -> int:
    return _SIZES[id(store)]


def queries(store: LocalStore) -> list[tuple[str, float]]:
    """The listing's query alone for a search and each sort (median of 3, ms)."""
    from iamedic_desktop.schemas.study_browser import StudySortKey
    from iamedic_desktop.services.study_browser import list_study_ids, study_rows

    timings: list[tuple[str, float]] = []

    def timed(label: str, call: object) -> None:
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            call()  # type: ignore[operator]
            runs.append((time.perf_counter() - started) * 1000)
        timings.append((label, median(runs)))

    uow, actor = store.uow, store.actor
    keys = list_study_ids(uow, actor)
    timed("rows of 100 studies", lambda: study_rows(uow, actor, keys[50_000:50_100]))
    timed("search 'Study 0123'", lambda: list_study_ids(uow, actor, search="Study 0123"))
    for key in StudySortKey:
        for descending in (False, True):
            label = f"sort by {key.value}{' descending' if descending else ''}"
            timed(
                label,
                lambda k=key, d=descending: list_study_ids(uow, actor, sort_key=k, descending=d),
            )
    return timings


def main() -> int:
    from PySide6.QtWidgets import QApplication

    from iamedic_desktop.ui.operations import OperationRunner
    from iamedic_desktop.ui.theme import apply_theme

    stores = {n: study_store(n) for n in SIZES}
    for n, store in stores.items():
        _SIZES[id(store)] = n
    app = QApplication.instance() or QApplication(sys.argv)
    apply_theme(app)  # type: ignore[arg-type]
    database = OperationRunner(max_threads=1)
    workers = OperationRunner(max_threads=2)
    print(f"bench_study_browser: {machine()}")
    open_once(app, stores[SIZES[0]], database, workers)  # warm-up: imports, first SQL
    paints: dict[int, list[float]] = {n: [] for n in SIZES}
    listings: dict[int, list[float]] = {n: [] for n in SIZES}
    for _ in range(ROUNDS):
        for n in SIZES:
            paint, listing = open_once(app, stores[n], database, workers)
            paints[n].append(paint)
            listings[n].append(listing)
    for n in SIZES:
        runs = ", ".join(f"{p:.0f}" for p in paints[n])
        print(
            f"{n:>7,} studies: first paint {median(paints[n]):6.1f} ms (runs: {runs}); "
            f"whole listing in {median(listings[n]):6.1f} ms"
        )
    small, large = median(paints[SIZES[0]]), median(paints[SIZES[-1]])
    ratio = large / small
    print(f"ratio 100,000 / 100: {ratio:.2f}")
    met = large < GOAL_MS
    print(
        f"first paint with 100,000 studies {large:.1f} ms, goal < {GOAL_MS:.0f} ms: {verdict(met)}"
    )
    print("queries on 100,000 studies (after a click, not at opening):")
    for label, ms in queries(stores[SIZES[-1]]):
        print(f"  {label:<30} {ms:7.1f} ms")
    workers.shutdown()
    database.shutdown()
    for store in stores.values():
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
