"""Migration 0006: DICOM headers stored by earlier versions are re-filtered (allow-list)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, text

from iamedic_desktop.core.database import create_local_engine
from iamedic_desktop.core.migrate import LOCAL, alembic_config, upgrade_local
from iamedic_desktop.media.dicom_header import ALLOWED, DATING_CREATOR_TAG, DATING_TAG
from tests import dicom_samples as samples


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_local_engine(tmp_path / "data" / "iamedic.sqlite3")
    yield engine
    engine.dispose()


def _old_header() -> str:
    """A header as version 0005 stored it: de-identified by the web's list, all else kept."""
    ds = samples.fill_phi(samples.make_dataset(samples.gradient(4, 4)))
    for keyword in (*samples.DELETED_VALUES, "ImageComments", "RequestAttributesSequence"):
        delattr(ds, keyword)
    ds.remove_private_tags()
    del ds.PixelData
    ds.LastMenstrualDate = "20240115"  # study 20240501: 107 days
    ds.Occupation = "Lighthouse"
    ds.ReferringPhysicianAddress = "12 Harbour Road"
    ds.AcquisitionDateTime = "20240501101500"
    return json.dumps(ds.to_json_dict())


def test_old_headers_keep_only_the_allow_list(engine: Engine) -> None:
    with engine.connect() as conn:
        command.upgrade(alembic_config(LOCAL, conn), "0005")
    old = _old_header()
    assert "Lighthouse" in old and "20240115" in old  # what earlier versions kept
    now = dt.datetime(2025, 1, 2, tzinfo=dt.UTC)
    with engine.begin() as conn:
        for key, header in (("a" * 36, old), ("b" * 36, "not json {"), ("c" * 36, None)):
            conn.execute(
                text(
                    "INSERT INTO media_files (file_path, sha256, size, dicom_json, stored_at) "
                    "VALUES (:key, :sha, 10, :header, :now)"
                ),
                {"key": key, "sha": "0" * 64, "header": header, "now": now},
            )
    upgrade_local(engine)
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT file_path, dicom_json FROM media_files")).all())
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert revision >= "0006"
    new = rows["a" * 36]
    for secret in ("Lighthouse", "Harbour", "2024", "Fetal biometry", "ACC-778899", "STUDY-9"):
        assert secret not in new, secret
    data = json.loads(new)
    assert set(data) <= set(ALLOWED) | {DATING_CREATOR_TAG, DATING_TAG}
    assert data[DATING_TAG]["Value"] == [107]
    assert data["00080060"]["Value"] == ["US"] and data["00280010"]["Value"] == [4]
    assert rows["b" * 36] is None and rows["c" * 36] is None
