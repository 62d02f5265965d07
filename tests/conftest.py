"""Fixtures every test layer shares: an isolated home, the embedded store, the real PostgreSQL.

PostgreSQL tests use the server at ``IAMEDIC_TEST_PG_URL`` (default: postgres on 127.0.0.1:5432,
database ``test``); each run creates its own databases and drops them afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from iamedic_desktop.core.database import create_local_engine
from iamedic_desktop.core.settings import reset_settings_cache
from iamedic_desktop.models import Base, LocalBase
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory, make_session_factory
from iamedic_desktop.sync.outbox import track_local_changes

PG_ADMIN_URL = os.environ.get(
    "IAMEDIC_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Timing tests measure the wall clock: beside other xdist workers they would measure those.

    ``bash .ci/dev test`` runs them alone after the parallel suite (``pytest -m timing -n 0``).
    """
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT")
    if workers is None or int(workers) <= 1:
        return
    skip = pytest.mark.skip(reason="runs alone: pytest -m timing -n 0 (bash .ci/dev test does)")
    for item in items:
        if item.get_closest_marker("timing") is not None:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own HOME, data, cache and settings file, and no central URL."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("IAMEDIC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("IAMEDIC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("IAMEDIC_SETTINGS_FILE", str(tmp_path / "settings.toml"))
    for name in list(os.environ):
        if name.startswith("IAMEDIC_") and name not in {
            "IAMEDIC_DATA_DIR",
            "IAMEDIC_CACHE_DIR",
            "IAMEDIC_SETTINGS_FILE",
            "IAMEDIC_TEST_PG_URL",
        }:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's working directory
    reset_settings_cache()
    yield home
    reset_settings_cache()


def _admin_engine() -> Engine:
    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The admin URL of the test PostgreSQL; fails loudly when it is not running."""
    engine = _admin_engine()
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # pragma: no cover - environment problem, reported as such
        pytest.fail(
            f"PostgreSQL is not reachable at {PG_ADMIN_URL} ({exc.__class__.__name__}). "
            "Start it (see README) or set IAMEDIC_TEST_PG_URL."
        )
    finally:
        engine.dispose()
    return PG_ADMIN_URL


def create_pg_database(admin_url: str) -> str:
    """Create an empty database with a unique name and return its URL."""
    name = f"iamedic_t_{uuid.uuid4().hex[:12]}"
    engine = _admin_engine()
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(url: str) -> None:
    """Drop a database made by ``create_pg_database``, closing its other sessions."""
    name = make_url(url).database
    engine = _admin_engine()
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture
def pg_database(pg_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test; dropped afterwards."""
    url = create_pg_database(pg_server)
    try:
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture(scope="session")
def pg_central_engine(pg_server: str) -> Iterator[Engine]:
    """One database per run holding the ten central tables (emptied before each test)."""
    url = create_pg_database(pg_server)
    engine = create_engine(url, pool_pre_ping=True)
    Base.metadata.create_all(engine)
    try:
        yield engine
    finally:
        engine.dispose()
        drop_pg_database(url)


def _truncate_central(engine: Engine) -> None:
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def uow_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[UnitOfWorkFactory]:
    """A unit-of-work factory over an empty store: the embedded SQLite one, then PostgreSQL."""
    if request.param == "sqlite":
        engine = create_local_engine(tmp_path / "store.sqlite3")
        Base.metadata.create_all(engine)
        LocalBase.metadata.create_all(engine)
        session_factory = make_session_factory(engine)
        track_local_changes(session_factory)
        yield UnitOfWorkFactory(engine, session_factory)
        engine.dispose()
    else:
        engine = request.getfixturevalue("pg_central_engine")
        _truncate_central(engine)
        yield UnitOfWorkFactory(engine)


@pytest.fixture
def central(pg_database: str) -> Iterator[Engine]:
    """A fresh central database: the web's ten tables and the workstation schema, files stored
    in the database itself (a test needing the web's folder defines its own)."""
    from iamedic_desktop.core.migrate import upgrade_central

    engine = create_engine(pg_database)
    upgrade_central(engine, file_storage="database")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def empty_registry_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty MLflow registry database, made once per test process (MLflow's migrations
    take seconds); tests copy it (tests/support/model_registry.py)."""
    from tests.support.model_registry import make_empty_registry

    return make_empty_registry(tmp_path_factory.mktemp("mlflow") / "mlflow.db")
