"""A pull of 100 changes when the central tables hold 10,000 rows, and when they hold 5,000,000.

Two fresh central databases (``_central.py``). In both, one doctor has a study of 500 media and
their labels, classifications, clinician and predicted boxes (10,500 rows, written through the
change-feed trigger as any writer's are), and that doctor's workstation has loaded them. The
large one also holds a hospital's worth of other doctors' studies, up to ``--rows`` rows in
all, written with the triggers off (``session_replication_role = replica``) for speed, then
given what the triggers would have left: a ``row_versions`` entry per row and a change-feed
entry per row (its JSON included), as revision 0003's backfill does; then ANALYZE, as
autovacuum would have by then.

Each round, on each database in turn, the web changes 100 of the doctor's boxes (plain SQL
UPDATEs, one transaction) and the clock runs over the workstation's pull,
``engine.run(do_push=False)``, checked to apply exactly 100. Goal: the large database's median
within 20 % of the small one's (ratio <= 1.2).

    uv run python benchmarks/bench_sync_scale.py [--rows N] [--repeat N]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

from _central import (
    ROW_TABLES,
    central_database,
    connect,
    copy_payload,
    for_study,
    isolate,
    make_rows,
    seed_doctor,
    seed_study,
    signed_in,
)
from _media import machine, verdict
from psycopg2.extensions import connection as Connection

from iamedic_desktop.models.central import BB_CLASSES
from tests.support.sync_world import workstation

GOAL = 1.2
OWN_MEDIA = 500
PER_MEDIA = 21  # the media row, a label, a classification, 9 boxes and 9 predicted boxes
MEDIA_PER_STUDY, STUDIES_PER_DOCTOR = 100, 10
CHANGES = 100
CLASSES = "ARRAY[" + ", ".join(f"'{c}'" for c in BB_CLASSES) + "]"

_OTHERS = [
    # Doctors, their role and profile.
    "INSERT INTO users (id, email, name, google_id, is_active) SELECT gen_random_uuid(), "
    "'others-' || i || '@bench.example.org', 'Doctor ' || i, 'g-others-' || i, true "
    "FROM generate_series(1, %(doctors)s) i",
    "INSERT INTO user_roles (id, user_id, role) SELECT gen_random_uuid(), id, 'doctor' "
    "FROM users WHERE email LIKE 'others-%%'",
    "INSERT INTO doctor_profiles (id, user_id, matriculation_id, legal_name, specialization, "
    "status) SELECT gen_random_uuid(), id, 'M-' || id, name, 'Obstetrics', 'approved' "
    "FROM users WHERE email LIKE 'others-%%'",
    # Their studies (spread over them) and media.
    "INSERT INTO studies (id, doctor_id, alias, is_active) SELECT gen_random_uuid(), "
    "(SELECT array_agg(id) FROM users WHERE email LIKE 'others-%%')[1 + s %% %(doctors)s], "
    "'Study ' || s, true FROM generate_series(1, %(studies)s) s",
    "INSERT INTO media (id, study_id, filename, file_path, file_size, mime_type, media_type, "
    "upload_status, is_active) SELECT gen_random_uuid(), s.id, 'image-' || m || '.png', "
    "gen_random_uuid()::text, 123456, 'image/png', 'image', 'uploaded', true "
    f"FROM studies s, generate_series(1, {MEDIA_PER_STUDY}) m",
    # Everything one media can hold.
    "INSERT INTO picture_classification_annotations (id, media_id, media_type, usefulness) "
    "SELECT gen_random_uuid(), id, 'image', (random() < 0.5)::int FROM media",
    "INSERT INTO picture_classification_predictions (id, media_id, media_type, prediction, "
    "model_version) SELECT gen_random_uuid(), id, 'image', random(), "
    "'frame_classifier_224x224 - 1' FROM media",
    "INSERT INTO picture_bb_annotations (id, media_id, media_type, bb_class, usefulness, "
    "is_hidden, x_min, y_min, width, height) SELECT gen_random_uuid(), m.id, 'image', c, 1, "
    "false, random() * 900, random() * 500, 10 + random() * 300, 10 + random() * 200 "
    f"FROM media m, unnest({CLASSES}) c",
    "INSERT INTO picture_bb_predictions (id, media_id, media_type, bb_class, confidence, "
    "model_version, x_min, y_min, width, height) SELECT gen_random_uuid(), m.id, 'image', c, "
    "random(), 'fetal_structures_bb_regressor_224x224 - 1', random() * 900, random() * 500, "
    f"10 + random() * 300, 10 + random() * 200 FROM media m, unnest({CLASSES}) c",
]
# What the triggers would have written for each row: its version and owners (as revision
# 0003's backfill does) and its feed entry. (owners, FROM clause) per table.
_OWNERS = {
    "users": ("x.id, NULL::uuid, NULL::uuid", "users x"),
    "user_roles": ("x.user_id, NULL::uuid, NULL::uuid", "user_roles x"),
    "doctor_profiles": ("x.user_id, NULL::uuid, NULL::uuid", "doctor_profiles x"),
    "studies": ("x.doctor_id, x.id, NULL::uuid", "studies x"),
    "media": ("s.doctor_id, s.id, x.id", "media x JOIN studies s ON s.id = x.study_id"),
    **{
        t: (
            "s.doctor_id, s.id, m.id",
            f"{t} x JOIN media m ON m.id = x.media_id JOIN studies s ON s.id = m.study_id",
        )
        for t in ROW_TABLES
    },
}


def seed_others(url: str, rows: int) -> float:
    """Other doctors' rows, about ``rows`` in all, with their versions and feed entries, the
    triggers off, on a database with nothing else yet; then VACUUM ANALYZE. Seconds taken."""
    studies = -(-rows // (PER_MEDIA * MEDIA_PER_STUDY))
    doctors = -(-studies // STUDIES_PER_DOCTOR)
    started = time.perf_counter()
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SET session_replication_role = replica")  # no trigger, no FK check
            for statement in _OTHERS if rows else []:
                cur.execute(statement, {"doctors": doctors, "studies": studies})
                conn.commit()
            for table, (owners, source) in _OWNERS.items() if rows else []:
                cur.execute(
                    "INSERT INTO workstation.row_versions (table_name, row_id, version, "
                    f"doctor_id, study_id, media_id) SELECT '{table}', x.id, 1, {owners} "
                    f"FROM {source}"
                )
                cur.execute(
                    "INSERT INTO workstation.change_feed (table_name, row_id, op, version, "
                    f"doctor_id, study_id, media_id, row_data) SELECT '{table}', x.id, 'I', 1, "
                    f"{owners}, to_jsonb(x) FROM {source}"
                )
                conn.commit()
        conn.commit()
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
    finally:
        conn.close()
    return time.perf_counter() - started


def central_rows(url: str) -> int:
    """How many rows the ten central tables hold."""
    conn = connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT " + " + ".join(f"(SELECT count(*) FROM {t})" for t in _OWNERS))
            found = cur.fetchone()
    finally:
        conn.close()
    return int(found[0]) if found else 0


def seed_own(url: str, email: str) -> None:
    """The doctor's own study: 500 media and 10,000 rows under them, through the triggers."""
    conn = connect(url)
    try:
        study = seed_study(conn, OWN_MEDIA, seed_doctor(conn, email))
        rows = for_study(make_rows(study.media_ids, OWN_MEDIA * (PER_MEDIA - 1)), study)
        with conn.cursor() as cur:
            for table in ROW_TABLES:
                columns, payload = copy_payload(rows[table])
                cur.copy_expert(f"COPY {table} ({columns}) FROM STDIN", io.BytesIO(payload))
        conn.commit()
    finally:
        conn.close()


def web_changes(conn: Connection, email: str, count: int) -> None:
    """The web moves ``count`` of the doctor's boxes (one transaction, plain SQL)."""
    with conn.cursor() as cur:
        cur.execute(
            "UPDATE picture_bb_annotations SET x_min = x_min + 1, updated_at = now() "
            "WHERE id IN (SELECT b.id FROM picture_bb_annotations b "
            "JOIN media m ON m.id = b.media_id JOIN studies s ON s.id = m.study_id "
            "JOIN users u ON u.id = s.doctor_id WHERE u.email = %s "
            "ORDER BY random() LIMIT %s)",
            (email, count),
        )
    conn.commit()


def main() -> int:
    """Print the pull time of 100 changes on a small and a large central database."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    email = f"doctor-{uuid.uuid4().hex[:8]}@bench.example.org"
    times: dict[str, list[float]] = {"small": [], "large": []}
    sizes: dict[str, int] = {}
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="iamedic-scale-")))
        isolate(tmp)
        worlds = {}
        for size in ("small", "large"):
            url = stack.enter_context(central_database())
            seconds = seed_others(url, args.rows if size == "large" else 0)
            seed_own(url, email)
            sizes[size] = central_rows(url)
            print(f"{size}: seeded in {seconds:,.0f} s")
            ws = stack.enter_context(workstation(signed_in(tmp / size, url, email)))
            started = time.perf_counter()
            loaded = ws.sync().pulled.applied
            print(f"{size}: first load of the doctor's {loaded:,} rows "
                  f"{time.perf_counter() - started:.1f} s (context)")  # fmt: skip
            worlds[size] = (url, ws, connect(url))
        for _ in range(args.repeat):
            for size, (_url, ws, web) in worlds.items():
                web_changes(web, email, CHANGES)
                started = time.perf_counter()
                pulled = ws.sync(do_push=False).pulled
                times[size].append((time.perf_counter() - started) * 1000)
                if pulled.applied != CHANGES:
                    raise RuntimeError(f"{pulled.applied} changes pulled of {CHANGES}")
        for _url, _ws, web in worlds.values():
            web.close()
    print(f"machine after: {machine()}")
    small, large = (statistics.median(times[s]) for s in ("small", "large"))
    for size in ("small", "large"):
        runs = ", ".join(f"{t:.0f}" for t in times[size])
        median = statistics.median(times[size])
        print(f"{size}: central tables {sizes[size]:,} rows; pull of {CHANGES} changes median "
              f"{median:.0f} ms (runs {runs})")  # fmt: skip
    ratio = large / small
    print(f"large / small: {ratio:.2f} (goal <= {GOAL}) {verdict(ratio <= GOAL)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
