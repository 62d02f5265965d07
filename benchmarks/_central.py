"""A central database for sync benchmarks, the rows they move, and the COPY reference.

``central_database()`` makes a fresh PostgreSQL database (dropped on exit) with the web's ten
tables and the workstation schema, triggers included, exactly as a deployment without the web
has them (``upgrade_central(..., file_storage="database")``). ``seed_study`` adds one doctor's
study with K media rows (plain SQL, images without files: nothing here reads a file);
``make_rows`` spreads N annotation and prediction rows over those media, keeping every unique
constraint (one label per media, one classification per (media, model version), one clinician
box per (media, class), one predicted box per (media, model version, class)).

The references a sync benchmark divides by: ``copy_reference`` moves the same rows with
PostgreSQL COPY into the real tables of a fresh study, with the change-feed trigger firing on
every row as it will for a push; ``insert_reference`` moves them one INSERT at a time, as a
naive row-by-row sync would. Both connect straight to the server or through a latency proxy
(``via_port``, see ``latency_proxy``) and time from the first statement to the commit's return;
connecting, seeding the study and encoding the rows come before the clock starts.

Server: ``IAMEDIC_BENCH_PG_URL`` (else ``IAMEDIC_TEST_PG_URL``, else the local test server), a
superuser login, as for the tests.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import os
import random
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keyring
import psycopg2
import psycopg2.extras
from psycopg2.extensions import connection as Connection
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from iamedic_desktop.core.migrate import upgrade_central
from iamedic_desktop.core.settings import Settings, reset_settings_cache
from iamedic_desktop.models import OutboxEntry
from iamedic_desktop.models.central import BB_CLASSES
from iamedic_desktop.services.local_store import LocalStore
from iamedic_desktop.sync.rows import table, typed

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the proxy lives with the tests' stand-ins
    sys.path.insert(0, str(ROOT))
from tests.support.keyring_file import FileKeyring  # noqa: E402
from tests.support.latency_proxy import LatencyProxy  # noqa: E402
from tests.support.sync_world import sign_in_store  # noqa: E402

ADMIN_URL = os.environ.get(
    "IAMEDIC_BENCH_PG_URL",
    os.environ.get("IAMEDIC_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"),
)
CLASSIFIER = "frame_classifier_224x224"
BOX_MODEL = "fetal_structures_bb_regressor_224x224"
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
psycopg2.extras.register_uuid()
Rows = dict[str, list[dict[str, Any]]]  # table name -> rows, every column named
ROW_TABLES = (
    "picture_classification_annotations",
    "picture_classification_predictions",
    "picture_bb_annotations",
    "picture_bb_predictions",
)


@dataclass(frozen=True)
class SeededStudy:
    """A study made for a benchmark and the ids of its media (all images)."""

    study_id: uuid.UUID
    media_ids: tuple[uuid.UUID, ...]


@contextmanager
def central_database(file_storage: str = "database") -> Iterator[str]:
    """The URL of a fresh central database (schema and triggers installed, files stored
    ``file_storage``); dropped on exit."""
    name = f"iamedic_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        engine = create_engine(url)
        upgrade_central(engine, file_storage=file_storage)
        engine.dispose()
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def connect(url: str, via_port: int | None = None) -> Connection:
    """A psycopg2 connection to ``url``'s database, straight or through a local proxy's port."""
    parts = make_url(url)
    host, port = ("127.0.0.1", via_port) if via_port else (parts.host, parts.port or 5432)
    return psycopg2.connect(
        host=host, port=port, user=parts.username, password=parts.password, dbname=parts.database
    )


@contextmanager
def latency_proxy(url: str, delay: float = 0.010) -> Iterator[LatencyProxy]:
    """A latency proxy in front of ``url``'s server (``delay`` seconds each way)."""
    parts = make_url(url)
    with LatencyProxy((parts.host or "127.0.0.1", parts.port or 5432), delay=delay) as proxy:
        yield proxy


def seed_doctor(conn: Connection, email: str = "bench.doctor@example.org") -> uuid.UUID:
    """A benchmark doctor (user, doctor role, approved profile), made the first time."""
    with conn.cursor() as cur:
        cur.execute("SELECT id FROM users WHERE email = %s", (email,))
        found = cur.fetchone()
        if found:
            return uuid.UUID(str(found[0]))
        user_id = uuid.uuid4()
        cur.execute(
            "INSERT INTO users (id, email, name, google_id, is_active) "
            "VALUES (%(u)s, %(e)s, 'Bench Doctor', %(g)s, true);"
            "INSERT INTO user_roles (id, user_id, role) VALUES (%(r)s, %(u)s, 'doctor');"
            "INSERT INTO doctor_profiles (id, user_id, matriculation_id, legal_name, "
            "specialization, status) VALUES (%(p)s, %(u)s, %(g)s, 'Bench Doctor', "
            "'Obstetrics', 'approved')",
            {"u": user_id, "e": email, "g": f"g-{user_id}", "r": uuid.uuid4(), "p": uuid.uuid4()},
        )
    conn.commit()
    return user_id


def seed_study(
    conn: Connection, media_count: int, doctor_id: uuid.UUID | None = None
) -> SeededStudy:
    """A new study of ``doctor_id`` (the benchmark doctor) holding ``media_count`` image rows."""
    doctor_id = doctor_id or seed_doctor(conn)
    study = SeededStudy(uuid.uuid4(), tuple(uuid.uuid4() for _ in range(media_count)))
    media = "".join(
        f"{m}\t{study.study_id}\timage-{i:06d}.png\t{uuid.uuid4()}\t123456\timage/png\t"
        "image\tuploaded\tt\n"
        for i, m in enumerate(study.media_ids)
    )
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO studies (id, doctor_id, alias, is_active) VALUES (%s, %s, %s, true)",
            (study.study_id, doctor_id, f"Bench {study.study_id.hex[:8]}"),
        )
        cur.copy_expert(
            "COPY media (id, study_id, filename, file_path, file_size, mime_type, media_type, "
            "upload_status, is_active) FROM STDIN",
            io.StringIO(media),
        )
    conn.commit()
    return study


def _media_rows(media_id: uuid.UUID, rng: random.Random) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every row one media can hold, annotations and predictions interleaved, one model
    version after another: as many rows as asked, every unique constraint kept."""
    common: dict[str, Any] = {"media_id": media_id, "media_type": "image"}
    common.update(created_at=START, updated_at=START)

    def box() -> dict[str, Any]:
        width, height = rng.uniform(10, 300), rng.uniform(10, 200)
        x, y = rng.uniform(0, 1280 - width), rng.uniform(0, 720 - height)
        return {"x_min": x, "y_min": y, "width": width, "height": height, **common}

    yield "picture_classification_annotations", {"usefulness": rng.randint(0, 1), **common}
    for version in itertools.count(1):
        score = {"prediction": rng.random(), "model_version": f"{CLASSIFIER} - {version}"}
        yield "picture_classification_predictions", {**score, **common}
        for bb_class in BB_CLASSES:
            if version == 1:
                label = {"bb_class": bb_class, "usefulness": 1, "is_hidden": rng.random() < 0.05}
                yield "picture_bb_annotations", {**label, **box()}
            found = {"bb_class": bb_class, "confidence": rng.random()}
            found["model_version"] = f"{BOX_MODEL} - {version}"
            yield "picture_bb_predictions", {**found, **box()}


def make_rows(media_ids: tuple[uuid.UUID, ...], count: int, seed: int = 7) -> Rows:
    """``count`` annotation and prediction rows spread evenly over ``media_ids``."""
    rng = random.Random(seed)
    rows: Rows = {table: [] for table in ROW_TABLES}
    per_media, extra = divmod(count, len(media_ids))
    for i, media_id in enumerate(media_ids):
        made = _media_rows(media_id, rng)
        for _ in range(per_media + (1 if i < extra else 0)):
            table, row = next(made)
            rows[table].append({"id": uuid.UUID(int=rng.getrandbits(128), version=4), **row})
    return rows


def row_count(rows: Rows) -> int:
    """How many rows in all tables."""
    return sum(len(r) for r in rows.values())


def for_study(rows: Rows, study: SeededStudy) -> Rows:
    """The same rows with new ids, moved onto ``study``'s media (one media for one)."""
    old = sorted({r["media_id"] for table in rows.values() for r in table}, key=str)
    if len(old) > len(study.media_ids):
        raise ValueError(f"the rows need {len(old)} media, the study has {len(study.media_ids)}")
    moved = dict(zip(old, study.media_ids, strict=False))
    return {
        table: [{**r, "id": uuid.uuid4(), "media_id": moved[r["media_id"]]} for r in table_rows]
        for table, table_rows in rows.items()
    }


def _field(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def copy_payload(table_rows: list[dict[str, Any]]) -> tuple[str, bytes]:
    """The column list and the COPY text-format bytes of one table's rows."""
    columns = list(table_rows[0])
    lines = ("\t".join(_field(r[c]) for c in columns) for r in table_rows)
    return ", ".join(columns), ("\n".join(lines) + "\n").encode()


def study_row_count(conn: Connection, study: SeededStudy) -> int:
    """How many annotation and prediction rows the study's media hold centrally."""
    counts = " + ".join(
        f"(SELECT count(*) FROM {table} x JOIN media m ON m.id = x.media_id "
        "WHERE m.study_id = %(s)s)"
        for table in ROW_TABLES
    )
    with conn.cursor() as cur:
        cur.execute(f"SELECT {counts}", {"s": study.study_id})
        found = cur.fetchone()
    return int(found[0]) if found else 0


def _timed_transfer(
    url: str, rows: Rows, via_port: int | None, *, row_by_row: bool, triggers: bool = True
) -> float:
    """Rows per second moving ``rows`` onto a fresh study in one transaction, checked after."""
    conn = connect(url, via_port)
    try:
        study = seed_study(conn, len({r["media_id"] for t in rows.values() for r in t}))
        moved = for_study(rows, study)
        if row_by_row:
            statements = [
                (
                    f"INSERT INTO {table} ({', '.join(r)}) VALUES ({', '.join(['%s'] * len(r))})",
                    tuple(r.values()),
                )
                for table in ROW_TABLES
                for r in moved[table]
            ]
        else:
            payloads = [(t, *copy_payload(moved[t])) for t in ROW_TABLES if moved[t]]
        with conn.cursor() as cur:
            started = time.perf_counter()
            if not triggers:  # for context only: what the change feed costs (transactional)
                for table in ROW_TABLES:
                    cur.execute(f"ALTER TABLE {table} DISABLE TRIGGER workstation_change_feed")
            if row_by_row:
                for statement, values in statements:
                    cur.execute(statement, values)
            else:
                for table, columns, payload in payloads:
                    cur.copy_expert(
                        f"COPY {table} ({columns}) FROM STDIN", io.BytesIO(payload), size=1 << 20
                    )
            if not triggers:
                for table in ROW_TABLES:
                    cur.execute(f"ALTER TABLE {table} ENABLE TRIGGER workstation_change_feed")
            conn.commit()
            seconds = time.perf_counter() - started
        copied = study_row_count(conn, study)
    finally:
        conn.close()
    if copied != row_count(rows):
        raise RuntimeError(f"{copied} rows arrived of {row_count(rows)}")
    return row_count(rows) / seconds


def copy_reference(
    url: str, rows: Rows, via_port: int | None = None, *, triggers: bool = True
) -> float:
    """Rows per second of PostgreSQL COPY of ``rows`` into the central tables of a new study."""
    return _timed_transfer(url, rows, via_port, row_by_row=False, triggers=triggers)


def insert_reference(url: str, rows: Rows, via_port: int | None = None) -> float:
    """Rows per second of one INSERT per row (one transaction), as a naive sync would."""
    return _timed_transfer(url, rows, via_port, row_by_row=True)


# -- workstations: real signed-in stores syncing with the benchmark's central database --------


def isolate(folder: Path) -> None:
    """Keep this process's home, settings file, cache and keyring inside ``folder``."""
    for name, sub in (("HOME", "home"), ("XDG_CONFIG_HOME", "config"),
                      ("XDG_DATA_HOME", "data"), ("IAMEDIC_CACHE_DIR", "cache")):  # fmt: skip
        os.environ[name] = str(folder / sub)
    os.environ["IAMEDIC_SETTINGS_FILE"] = str(folder / "settings.toml")
    keyring.set_keyring(FileKeyring(folder / "keyring.json"))
    reset_settings_cache()


def via(url: str, port: int | None) -> str:
    """``url`` itself, or the same database through a local proxy's ``port``."""
    if port is None:
        return url
    return make_url(url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


def signed_in(folder: Path, url: str, email: str, **more: Any) -> Settings:
    """The settings of a new workstation in ``folder`` on which ``email`` has signed in."""
    settings = Settings(data_dir=folder, central_url=url, **more)
    sign_in_store(settings, email)
    return settings


def seed_local(store: LocalStore, rows: Rows) -> int:
    """Write ``rows`` straight into the local store, each with its outbox entry, as edits made
    on this workstation would leave them (one transaction); returns how many."""
    now = dt.datetime.now(dt.UTC)
    with store.engine.begin() as conn:
        for name in ROW_TABLES:
            if not rows[name]:
                continue
            conn.execute(insert(table(name)), [typed(name, r) for r in rows[name]])
            conn.execute(
                insert(OutboxEntry.__table__),
                [{"table_name": name, "row_id": r["id"], "operation": "insert",
                  "changed_at": now} for r in rows[name]],
            )  # fmt: skip
    return row_count(rows)
