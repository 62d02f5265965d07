"""Push and pull of 100,000 annotation and prediction rows vs PostgreSQL COPY of the same rows.

Each round, on one path (loopback, or the 10 ms latency proxy), a new doctor gets a study of
5,000 image rows in a fresh central database (``_central.py``). Two workstations of that doctor
(real signed-in local stores, the real engine from ``open_sync``, the central URL through the
path measured) load the study first. Then 100,000 rows (labels, classifications, clinician and
predicted boxes; ``make_rows``) are written straight into the first store with an outbox entry
each, as edits made there leave them, and the clock runs over:

- **push**: ``engine.run(do_pull=False)`` on the first workstation;
- **pull, through the feed**: ``engine.run(do_push=False)`` on the second (an incremental pull
  of exactly the pushed rows from the change feed);
- **pull, first load**: a third, new workstation's first sync (``do_push=False``), which loads
  everything in the doctor's scope in one consistent read: the pushed rows, the 5,000 media,
  the study and the doctor's own user, role and profile rows.

Each is checked (central and local row counts) and divided by the COPY reference of the same
rows on the same path, measured in the same round just before (``copy_reference``). Goal:
each >= 0.5 of COPY's rows per second. Medians over ``--repeat`` rounds per path.

    uv run python benchmarks/bench_sync.py [--rows N] [--repeat N] [--path loopback|proxy]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from _central import (
    ROW_TABLES,
    central_database,
    connect,
    copy_reference,
    for_study,
    isolate,
    latency_proxy,
    make_rows,
    seed_doctor,
    seed_local,
    seed_study,
    signed_in,
    study_row_count,
    via,
)
from _media import machine, verdict
from bench_copy_reference import server_version
from sqlalchemy import text

from tests.support.sync_world import workstation

GOAL = 0.5
MEASURES = ("push", "pull, through the feed", "pull, first load")


def local_count(engine: object, tables: tuple[str, ...] = ROW_TABLES) -> int:
    """How many rows the local store holds in ``tables``."""
    with engine.connect() as conn:  # type: ignore[attr-defined]
        return sum(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables)


def one_round(
    url: str, port: int | None, rows: dict, media: int, folder: Path, batch: int | None = None
) -> dict:
    """Rows per second of COPY, push, pull through the feed and first load, on one path."""
    out = {"COPY": copy_reference(url, rows, port)}
    tag = uuid.uuid4().hex[:8]
    email = f"doctor-{tag}@bench.example.org"
    conn = connect(url)
    try:
        study = seed_study(conn, media, seed_doctor(conn, email))
    finally:
        conn.close()
    target = via(url, port)
    first, second = (signed_in(folder / f"{tag}-{n}", target, email) for n in ("a", "b"))
    with workstation(first) as one, workstation(second) as two:
        for ws in (one, two):
            ws.engine.batch = batch or ws.engine.batch
        one.sync()
        two.sync()
        count = seed_local(one.store, for_study(rows, study))
        started = time.perf_counter()
        pushed = one.sync(do_pull=False).pushed
        out["push"] = count / (time.perf_counter() - started)
        conn = connect(url)
        try:
            arrived = study_row_count(conn, study)
        finally:
            conn.close()
        if (pushed.written, arrived) != (count, count):
            raise RuntimeError(f"pushed {pushed.written}, {arrived} arrived of {count}")
        started = time.perf_counter()
        pulled = two.sync(do_push=False).pulled
        out["pull, through the feed"] = count / (time.perf_counter() - started)
        if (pulled.applied, local_count(two.store.engine)) != (count, count):
            raise RuntimeError(f"pulled {pulled.applied} of {count}")
    third = signed_in(folder / f"{tag}-c", target, email)
    with workstation(third) as three:
        three.engine.batch = batch or three.engine.batch
        started = time.perf_counter()
        loaded = three.sync(do_push=False).pulled
        seconds = time.perf_counter() - started
        if not loaded.loaded or local_count(three.store.engine) != count:
            raise RuntimeError("the first load did not bring every row")
        out["pull, first load"] = loaded.applied / seconds
        out["first load rows"] = loaded.applied
    return out


def main() -> int:
    """Print push and pull rows/s and their ratio to COPY, on loopback and through the proxy."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--media", type=int, default=5_000)
    parser.add_argument("--delay-ms", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--batch", type=int, help="the engine's batch size (default: its own)")
    parser.add_argument("--path", choices=("loopback", "proxy", "both"), default="both")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    rows = make_rows(tuple(uuid.uuid4() for _ in range(args.media)), args.rows)
    shares = ", ".join(f"{table} {len(r):,}" for table, r in rows.items())
    print(f"rows: {args.rows:,} over {args.media:,} media ({shares})")
    paths = ("loopback", "proxy") if args.path == "both" else (args.path,)
    results: dict[str, list[dict]] = {p: [] for p in paths}
    with (
        tempfile.TemporaryDirectory(prefix="iamedic-bench-sync-") as tmp,
        central_database() as url,
        latency_proxy(url, args.delay_ms / 1000) as proxy,
    ):
        isolate(Path(tmp))
        print(f"server: {server_version(url)}")
        for _ in range(args.repeat):
            for path in paths:
                port = proxy.port if path == "proxy" else None
                found = one_round(url, port, rows, args.media, Path(tmp), args.batch)
                results[path].append(found)
                print(f"  {path}: " + ", ".join(f"{k} {v:,.0f}" for k, v in found.items()))
    print(f"machine after: {machine()}")
    met = True
    for path in paths:
        runs = results[path]
        copy = statistics.median(r["COPY"] for r in runs)
        print(f"{path}: COPY {copy:9,.0f} rows/s (reference)")
        for measure in MEASURES:
            rate = statistics.median(r[measure] for r in runs)
            ratio = statistics.median(r[measure] / r["COPY"] for r in runs)
            met &= ratio >= GOAL
            extra = ""
            if measure == "pull, first load":
                extra = f" ({runs[0]['first load rows']:,} rows)"
            print(
                f"{path}: {measure:<24}{rate:9,.0f} rows/s{extra}, {ratio:.2f} of COPY "
                f"(goal >= {GOAL}) {verdict(ratio >= GOAL)}"
            )
    print(f"all: {verdict(met)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
