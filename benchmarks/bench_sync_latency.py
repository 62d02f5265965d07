"""A sync with nothing to do, and how soon an edit on one workstation shows on another online.

A fresh central database (``_central.py``) and two workstations of one doctor (real signed-in
stores, the real engine). The first imports an image into a new study; both sync.

- **Nothing to do**: ``engine.run()`` (pull, then push) on the first workstation while nothing
  changed anywhere, ``--runs`` times; median and p90. Goal on loopback: < 50 ms. Reference: the
  round trip of ``SELECT 1`` on the same path, so the line also says how many round trips a
  sync with nothing to do costs. The same through the 10 ms proxy, for context.
- **Edit to screen**: both workstations online, each with the background ``SyncRunner`` the
  window starts (its defaults: the outbox polled every second, central notifications
  listened to); the second runs in its own process, as it would on another machine. The first
  labels the image useful / not useful (``services.annotations.set_usefulness``) ``--edits``
  times, one at a time; the clock runs from the edit's commit until the label reads the new
  value in the second workstation's store (polled every 5 ms, read-only). Goal: every edit
  within 2 s.

    uv run python benchmarks/bench_sync_latency.py [--runs N] [--edits N]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from _central import central_database, connect, isolate, latency_proxy, seed_doctor, signed_in, via
from _media import machine, percentile, verdict
from bench_copy_reference import round_trip_ms

from iamedic_desktop.core.settings import Settings
from iamedic_desktop.services import annotations as labels
from iamedic_desktop.services import imports, studies
from iamedic_desktop.sync.runner import SyncRunner
from tests.media_samples import make_image
from tests.support.sync_world import workstation

GOAL_IDLE_MS = 50.0
GOAL_EDIT_S = 2.0


def idle_sync_ms(settings: Settings, runs: int) -> list[float]:
    """Milliseconds of each of ``runs`` syncs with nothing to do (after one to settle)."""
    with workstation(settings) as ws:
        ws.sync()
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            report = ws.sync()
            times.append((time.perf_counter() - started) * 1000)
            if report.pulled.applied or report.pushed.written:
                raise RuntimeError("a sync with nothing to do did something")
    return times


def second_runner(folder: Path, data_dir: str, url: str) -> None:
    """Child process: keep the second workstation online until stdin closes."""
    isolate(folder)
    with workstation(Settings(data_dir=Path(data_dir), central_url=url)) as ws:
        runner = SyncRunner(ws.engine, lambda _state: None)
        runner.start()
        print("online", flush=True)
        sys.stdin.read()
        runner.stop()


def label_in(store_file: Path, media_id: uuid.UUID) -> int | None:
    """The usefulness label of the media in a store, read-only (None: none yet)."""
    conn = sqlite3.connect(f"file:{store_file}?mode=ro", uri=True, timeout=5)
    try:
        found = conn.execute(
            "SELECT usefulness FROM picture_classification_annotations WHERE media_id = ?",
            (media_id.hex,),
        ).fetchone()
    finally:
        conn.close()
    return None if found is None else int(found[0])


def edit_to_screen(first: Settings, second: Settings, media_id: uuid.UUID, edits: int,
                   folder: Path) -> list[float]:  # fmt: skip
    """Seconds from each label edit on ``first`` to its value in ``second``'s store."""
    child = subprocess.Popen(
        [sys.executable, __file__, "--child", str(folder), str(second.data_dir),
         str(second.central_url)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    seconds: list[float] = []
    try:
        if child.stdout is None or child.stdout.readline().strip() != "online":
            raise RuntimeError("the second workstation did not come online")
        with workstation(first) as one:
            runner = SyncRunner(one.engine, lambda _state: None)
            runner.start()
            try:
                time.sleep(2.0)  # both runners past their first sync
                for i in range(edits):
                    value = i % 2
                    labels.set_usefulness(one.store.uow, one.store.actor, media_id, value)
                    started = time.perf_counter()
                    while label_in(second.local_db_path, media_id) != value:
                        if time.perf_counter() - started > 30:
                            raise RuntimeError("the edit never arrived")
                        time.sleep(0.005)
                    seconds.append(time.perf_counter() - started)
                    time.sleep(0.3)  # the next edit starts from a quiet state
            finally:
                runner.stop()
    finally:
        if child.stdin is not None:
            child.stdin.close()
        child.wait(30)
    return seconds


def main() -> int:
    """Print the idle sync's time and the edit-to-screen latency."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--delay-ms", type=float, default=10.0)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        second_runner(Path(args.child[0]), args.child[1], args.child[2])
        return 0
    print(f"machine: {machine()}")
    with (
        tempfile.TemporaryDirectory(prefix="iamedic-bench-latency-") as tmp,
        central_database() as url,
        latency_proxy(url, args.delay_ms / 1000) as proxy,
    ):
        folder = Path(tmp)
        isolate(folder)
        email = f"doctor-{uuid.uuid4().hex[:8]}@bench.example.org"
        conn = connect(url)
        try:
            seed_doctor(conn, email)
        finally:
            conn.close()
        first, second = (signed_in(folder / n, url, email) for n in ("one", "two"))
        proxied = signed_in(folder / "three", via(url, proxy.port), email)
        with workstation(first) as one:
            store = one.store
            study = studies.create_study(store.uow, store.actor, "Latency")
            image = make_image(folder, "scan.png", (64, 48))
            imported = imports.import_paths(store.uow, store.actor, store.media, str(study.id),
                                            [image], settings=store.settings)  # fmt: skip
            media_id = imported.imported[0].id
            labels.set_usefulness(store.uow, store.actor, media_id, 1)
            one.sync()
        rtt = {"loopback": round_trip_ms(url), "proxy": round_trip_ms(url, proxy.port)}
        idle = {"loopback": idle_sync_ms(first, args.runs),
                "proxy": idle_sync_ms(proxied, args.runs)}  # fmt: skip
        with workstation(second) as two:
            two.sync()
        latencies = edit_to_screen(first, second, media_id, args.edits, folder)
    met = True
    for path, times in idle.items():
        median = statistics.median(times)
        line = (f"nothing to do, {path}: median {median:.1f} ms, p90 "
                f"{percentile(times, 0.9):.1f} ms, max {max(times):.1f} ms; round trip "
                f"{rtt[path]:.2f} ms")  # fmt: skip
        if path == "proxy":
            line += f" (the sync = {median / rtt[path]:.1f} round trips)"
        else:
            met &= median < GOAL_IDLE_MS
            line += f" (goal < {GOAL_IDLE_MS:.0f} ms) {verdict(median < GOAL_IDLE_MS)}"
        print(line)
    worst = max(latencies)
    met &= worst < GOAL_EDIT_S
    print(
        f"edit to the other workstation's store ({len(latencies)} edits): median "
        f"{statistics.median(latencies):.2f} s, p90 {percentile(latencies, 0.9):.2f} s, max "
        f"{worst:.2f} s (goal: every one < {GOAL_EDIT_S:.0f} s) {verdict(worst < GOAL_EDIT_S)}"
    )
    print(f"machine after: {machine()}")
    print(f"all: {verdict(met)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
