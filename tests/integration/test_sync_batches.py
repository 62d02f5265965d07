"""A push of many rows costs a few local statements per batch, not a few per row.

Row by row, recording what a push made true took four SQLite statements per row through the
ORM session (about 1 ms a row: a 100,000-row push spent minutes there); the number of
statements is what these tests count, so they hold on a slow machine too.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, event, func, select

from iamedic_desktop.models import OutboxEntry, SyncBase
from iamedic_desktop.models.central import MediaType, PictureClassificationPrediction
from iamedic_desktop.services import imports, studies
from tests.media_samples import make_image
from tests.support.sync_world import (
    Workstation,
    add_doctor,
    install_central,
    sign_in_store,
    table_rows,
    workstation,
    workstation_settings,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def central(pg_database: str) -> Iterator[Engine]:
    engine = create_engine(pg_database)
    install_central(engine)
    yield engine
    engine.dispose()


def _media(ws: Workstation, tmp_path: Path) -> uuid.UUID:
    store = ws.store
    study = studies.create_study(store.uow, store.actor, "Batches")
    image = make_image(tmp_path, "scan.png", (32, 24))
    report = imports.import_paths(
        store.uow, store.actor, store.media, str(study.id), [image], settings=store.settings
    )
    return report.imported[0].id


def _predict(ws: Workstation, media_id: uuid.UUID, model: str, count: int) -> None:
    """``count`` classifications of one media, one per model version, saved as edits here."""
    with ws.store.uow() as uow:
        uow.begin_write()
        uow.session.add_all(
            PictureClassificationPrediction(
                media_id=media_id,
                media_type=MediaType.IMAGE,
                prediction=i / count,
                model_version=f"{model} - {i}",
            )
            for i in range(count)
        )
        uow.commit()


def _push_counting_statements(ws: Workstation) -> int:
    """Push what is pending; the local SQL statements it ran (an executemany counts once)."""
    seen: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    event.listen(ws.store.engine, "before_cursor_execute", count)
    try:
        report = ws.sync(do_pull=False)
    finally:
        event.remove(ws.store.engine, "before_cursor_execute", count)
    assert report.pushed.conflicts == 0
    return len(seen)


def test_a_push_records_its_rows_in_statements_per_batch_not_per_row(
    central: Engine, pg_database: str, tmp_path: Path
) -> None:
    add_doctor(central, "a@example.org")
    settings = workstation_settings(tmp_path / "one", pg_database)
    sign_in_store(settings, "a@example.org")
    with workstation(settings) as one:
        media_id = _media(one, tmp_path)
        one.sync()
        _predict(one, media_id, "small", 20)
        few = _push_counting_statements(one)
        _predict(one, media_id, "large", 400)
        many = _push_counting_statements(one)

        assert many <= few + 12, f"{few} statements for 20 rows, {many} for 400"
        # Every row arrived and agrees: nothing pending, a base per row at its central version.
        pushed = table_rows(central, "picture_classification_predictions")
        assert len(pushed) == 420
        assert table_rows(one.store.engine, "picture_classification_predictions") == pushed
        with one.store.uow() as uow:
            session = uow.session
            assert session.scalar(select(func.count()).select_from(OutboxEntry)) == 0
            bases = session.scalars(
                select(SyncBase.version).where(
                    SyncBase.table_name == "picture_classification_predictions"
                )
            ).all()
        assert sorted(bases) == [1] * 420
