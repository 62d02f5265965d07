"""The central database URL: the web's forms are accepted and get psycopg2; others are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from iamedic_desktop.core.database import (
    CENTRAL_URL_FORMS,
    central_engine_url,
    create_central_engine,
    create_engine_for_url,
)
from iamedic_desktop.core.errors import InvalidInputError


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://clinic:pw@db.example.org:5433/iamedic",
        "postgresql+psycopg2://clinic:pw@db.example.org:5433/iamedic",
        "postgres://clinic:pw@db.example.org:5433/iamedic",
    ],
)
def test_the_webs_forms_are_driven_by_psycopg2(url: str) -> None:
    parsed = central_engine_url(url)
    assert parsed.drivername == "postgresql+psycopg2"
    assert (parsed.username, parsed.password, parsed.host, parsed.port, parsed.database) == (
        "clinic",
        "pw",
        "db.example.org",
        5433,
        "iamedic",
    )
    engine = create_central_engine(url)  # no connection is made
    try:
        assert (engine.dialect.name, engine.dialect.driver) == ("postgresql", "psycopg2")
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "url",
    [
        "mysql://clinic:hunter2@db/iamedic",
        "sqlite:///{tmp}/central.sqlite3",
        "sqlite://",
        "postgresql+asyncpg://clinic:hunter2@db/iamedic",
        "postgresql+psycopg://clinic@db/iamedic",
        "postgresql+pg8000://clinic@db/iamedic",
        "garbage",
        "",
        "postgresql://clinic@db:port/iamedic",
    ],
)
def test_other_forms_are_refused_naming_the_accepted_ones(url: str, tmp_path: Path) -> None:
    folder = tmp_path / "central"
    folder.mkdir()
    url = url.format(tmp=folder)
    with pytest.raises(InvalidInputError) as caught:
        create_central_engine(url)
    message = caught.value.message
    assert CENTRAL_URL_FORMS in message
    assert "postgresql://" in message and "postgresql+psycopg2://" in message
    assert "hunter2" not in message
    assert "localhost" not in message and "5432" not in message
    assert list(folder.iterdir()) == []


def test_any_engine_url_refuses_an_unknown_database(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="postgresql\\+psycopg2://"):
        create_engine_for_url("mysql://clinic@db/iamedic")
    engine = create_engine_for_url(f"sqlite:///{tmp_path}/store.sqlite3")
    try:
        assert engine.dialect.name == "sqlite"
    finally:
        engine.dispose()
    engine = create_engine_for_url("postgresql://clinic@db/iamedic")
    try:
        assert engine.dialect.driver == "psycopg2"
    finally:
        engine.dispose()
