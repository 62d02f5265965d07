"""What audit and row-level security cost a sync: push and pull of 100,000 annotation and
prediction rows on a doctor's own login (audit and RLS on) vs the owner's login with the audit
taken out of the trigger (both off), in the same run, on the same database.

The central database is owned by a web-like login (``tests/support/central_logins.py``:
not a superuser, CREATEROLE, the whole schema installed by it). Each round, for each mode, a new
doctor gets a study of 5,000 image rows; two workstations of that doctor (real signed-in local
stores, the real engine) load it, 100,000 rows are written straight into the first store with an
outbox entry each (``_central.seed_local``), and the clock runs over the push
(``do_pull=False``), the second workstation's pull through the feed (``do_push=False``), and a
third, new workstation's first load.

- **on**: every workstation has its own login, granted and enrolled as a deployment does it,
  so every statement goes through the row-level security policies and every row written gets
  its audit entry (chained at commit); ``record_change()`` is the installed one.
- **off**: every workstation uses the owner's login (the table owner passes RLS: the policies
  are not forced), and ``record_change()`` is swapped for revision 0004's body (the one
  ``0005_audit_log.py``'s downgrade restores: change feed and notification, no audit); the
  installed body is put back (``pg_get_functiondef``) before the next "on" round.

The modes take turns, "on" first in even rounds and "off" first in odd ones (the database
grows by each round's rows and feed entries); medians over ``--repeat`` rounds. Goal: on / off
>= 0.7 for each measure.

    uv run python benchmarks/bench_sync_security.py [--rows N] [--media N] [--repeat N]
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
    ADMIN_URL,
    ROW_TABLES,
    connect,
    for_study,
    isolate,
    make_rows,
    seed_doctor,
    seed_local,
    seed_study,
    signed_in,
    study_row_count,
)
from _media import machine, verdict
from alembic.util import load_python_file
from sqlalchemy import Engine, text

from tests.support.central_logins import Central, enroll, grant, web_owned_central
from tests.support.sync_world import workstation

GOAL = 0.7
MODES = ("on", "off")
MEASURES = ("push", "pull, through the feed", "pull, first load")
PASSWORD = "a-long-bench-password-0123"
VERSIONS = Path(__file__).resolve().parents[1] / "migrations" / "central" / "versions"
RECORD_CHANGE = "SELECT pg_get_functiondef('workstation.record_change()'::regprocedure)"


def local_count(engine: Engine) -> int:
    """How many annotation and prediction rows the local store holds."""
    with engine.connect() as conn:
        return sum(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in ROW_TABLES)


def set_record_change(central: Central, definition: str) -> None:
    """Replace ``record_change()`` (as its owner, the web's login)."""
    with central.engine.begin() as conn:
        conn.exec_driver_sql(definition)


def workstation_url(central: Central, email: str, mode: str) -> str:
    """The owner's URL ("off"), or a new login granted to and enrolled for ``email`` ("on")."""
    if mode == "off":
        return central.url.render_as_string(hide_password=False)
    login = enroll(central, grant(central, email), PASSWORD)
    return central.url_as(login).set(password=PASSWORD).render_as_string(hide_password=False)


def audit_entries(url: str) -> int:
    """How many entries the audit log holds (read as the owner)."""
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT last_id FROM workstation.audit_chain_head")
            found = cur.fetchone()
    finally:
        conn.close()
    return int(found[0]) if found else 0


def one_round(central: Central, mode: str, rows: dict, media: int, folder: Path) -> dict:
    """Rows per second of push, pull through the feed and first load, in one mode."""
    tag = uuid.uuid4().hex[:8]
    email = f"doctor-{tag}@bench.example.org"
    web_url = central.url.render_as_string(hide_password=False)
    conn = connect(web_url)
    try:
        study = seed_study(conn, media, seed_doctor(conn, email))
    finally:
        conn.close()
    first, second = (
        signed_in(folder / f"{tag}-{n}", workstation_url(central, email, mode), email)
        for n in ("a", "b")
    )
    out: dict[str, float] = {}
    with workstation(first) as one, workstation(second) as two:
        one.sync()
        two.sync()
        count = seed_local(one.store, for_study(rows, study))
        entries = audit_entries(web_url)
        started = time.perf_counter()
        pushed = one.sync(do_pull=False).pushed
        out["push"] = count / (time.perf_counter() - started)
        conn = connect(web_url)
        try:
            arrived = study_row_count(conn, study)
        finally:
            conn.close()
        if (pushed.written, arrived) != (count, count):
            raise RuntimeError(f"pushed {pushed.written}, {arrived} arrived of {count}")
        audited = audit_entries(web_url) - entries
        if (audited >= count) != (mode == "on"):
            raise RuntimeError(f"{audited} audit entries for {count} rows pushed, audit {mode}")
        started = time.perf_counter()
        pulled = two.sync(do_push=False).pulled
        out["pull, through the feed"] = count / (time.perf_counter() - started)
        if (pulled.applied, local_count(two.store.engine)) != (count, count):
            raise RuntimeError(f"pulled {pulled.applied} of {count}")
    third = signed_in(folder / f"{tag}-c", workstation_url(central, email, mode), email)
    with workstation(third) as three:
        started = time.perf_counter()
        loaded = three.sync(do_push=False).pulled
        seconds = time.perf_counter() - started
        if not loaded.loaded or local_count(three.store.engine) != count:
            raise RuntimeError("the first load did not bring every row")
        out["pull, first load"] = loaded.applied / seconds
    return out


def main() -> int:
    """Print push and pull rows/s with audit and RLS on and off, and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--media", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    rows = make_rows(tuple(uuid.uuid4() for _ in range(args.media)), args.rows)
    print(f"rows: {args.rows:,} over {args.media:,} media")
    without_audit = load_python_file(str(VERSIONS), "0005_audit_log.py")._feed_function()
    results: dict[str, list[dict]] = {m: [] for m in MODES}
    with (
        tempfile.TemporaryDirectory(prefix="iamedic-bench-security-") as tmp,
        web_owned_central(ADMIN_URL) as central,
    ):
        isolate(Path(tmp))
        with central.engine.connect() as conn:
            installed = str(conn.execute(text(RECORD_CHANGE)).scalar_one())
        for done in range(args.repeat):
            for mode in MODES if done % 2 == 0 else MODES[::-1]:  # neither always goes first
                set_record_change(central, installed if mode == "on" else without_audit)
                found = one_round(central, mode, rows, args.media, Path(tmp))
                results[mode].append(found)
                print(f"  {mode}: " + ", ".join(f"{k} {v:,.0f}" for k, v in found.items()))
        set_record_change(central, installed)
    print(f"machine after: {machine()}")
    met = True
    for measure in MEASURES:
        on = statistics.median(r[measure] for r in results["on"])
        off = statistics.median(r[measure] for r in results["off"])
        ratio = on / off
        met &= ratio >= GOAL
        print(
            f"{measure:<24} on {on:9,.0f} rows/s, off {off:9,.0f} rows/s, on/off {ratio:.2f} "
            f"(goal >= {GOAL}) {verdict(ratio >= GOAL)}"
        )
    print(f"all: {verdict(met)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
