"""A push of many rows costs a few local statements per batch, not a few per row.

Row by row, recording what a push made true took four SQLite statements per row through the
ORM session (about 1 ms a row: a 100,000-row push spent minutes there); the number of
statements is what these tests count, so they hold on a slow machine too.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select

from iamedic_desktop.models import OutboxEntry, SyncBase
from iamedic_desktop.models.central import (
    MediaType,
    PictureBBPrediction,
    PictureClassificationPrediction,
)
from iamedic_desktop.services import imports, studies
from tests.media_samples import make_image
from tests.support.sync_world import (
    Workstation,
    add_doctor,
    sign_in_store,
    table_rows,
    workstation,
    workstation_settings,
)

pytestmark = pytest.mark.postgres


def _media(ws: Workstation, tmp_path: Path) -> uuid.UUID:
    store = ws.store
    study = studies.create_study(store.uow, store.actor, "Batches")
    image = make_image(tmp_path, "scan.png", (32, 24))
    report = imports.import_paths(
        store.uow, store.actor, store.media, str(study.id), [image], settings=store.settings
    )
    return report.imported[0].id


def _predict(ws: Workstation, media_id: uuid.UUID, model: str, count: int) -> None:
    """``count`` predicted boxes, then ``count`` classifications of one media (one per model
    version), saved as edits here: the boxes' outbox entries come first, their rows go later
    (children of the classifications' table in the push order)."""
    for kind in (PictureBBPrediction, PictureClassificationPrediction):
        with ws.store.uow() as uow:
            uow.begin_write()
            for i in range(count):
                values = {"media_id": media_id, "media_type": MediaType.IMAGE,
                          "model_version": f"{model} - {i}"}  # fmt: skip
                if kind is PictureBBPrediction:
                    box = {"x_min": 1.0, "y_min": 2.0, "width": 3.0, "height": 4.0}
                    values.update(bb_class="NT", confidence=i / count, **box)
                else:
                    values.update(prediction=i / count)
                uow.session.add(kind(**values))
            uow.commit()


def _push_counting(ws: Workstation) -> tuple[list[str], int]:
    """Push what is pending; the local SQL statements it ran (an executemany counts once) and
    the hundreds of SQLite virtual machine instructions they took (the work, not the time)."""
    seen: list[str] = []
    steps = [0]

    def tick() -> int:
        steps[0] += 1
        return 0  # go on

    def count(conn: Any, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)
        conn.connection.dbapi_connection.set_progress_handler(tick, 100)

    event.listen(ws.store.engine, "before_cursor_execute", count)
    try:
        report = ws.sync(do_pull=False)
    finally:
        event.remove(ws.store.engine, "before_cursor_execute", count)
    assert report.pushed.conflicts == 0
    return seen, steps[0]


def test_a_push_records_its_rows_in_statements_per_batch_not_per_row(
    central: Engine, pg_database: str, tmp_path: Path
) -> None:
    add_doctor(central, "a@example.org")
    settings = workstation_settings(tmp_path / "one", pg_database)
    sign_in_store(settings, "a@example.org")
    with workstation(settings) as one:
        media_id = _media(one, tmp_path)
        with one.store.engine.begin() as conn:  # statistics of a small outbox, as a store
            conn.exec_driver_sql("ANALYZE")  # closed early in its life has (PRAGMA optimize)
        one.sync()
        _predict(one, media_id, "small", 20)
        few, few_steps = _push_counting(one)
        _predict(one, media_id, "large", 400)
        many, many_steps = _push_counting(one)

        assert len(many) <= len(few) + 12, f"{len(few)} statements for 40 rows, {len(many)}"
        # Each row is read once: the pass for rows deleted here reads only those.
        reads = [s for s in many if s.startswith("SELECT") and "FROM picture_bb_predictions" in s]
        assert len(reads) == 1, reads
        # 20 times the rows, at most 40 times the work: no statement scans the outbox per row.
        assert many_steps <= 40 * few_steps, f"{few_steps}00 steps for 40 rows, {many_steps}00"
        # Every row arrived and agrees: nothing pending, a base per row at its central version.
        for name in ("picture_classification_predictions", "picture_bb_predictions"):
            pushed = table_rows(central, name)
            assert len(pushed) == 420
            assert table_rows(one.store.engine, name) == pushed
        with one.store.uow() as uow:
            session = uow.session
            assert session.scalar(select(func.count()).select_from(OutboxEntry)) == 0
            bases = session.scalars(
                select(SyncBase.version).where(SyncBase.table_name.like("picture_%_predictions"))
            ).all()
        assert sorted(bases) == [1] * 840
