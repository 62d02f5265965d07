"""The import path logs files by their stored key or a redacted form, never by a name or a
path that may carry a patient's."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from iamedic_desktop.core.settings import get_settings
from iamedic_desktop.services.imports import import_paths
from iamedic_desktop.services.local_store import LocalStore, open_local_store
from iamedic_desktop.services.studies import create_study
from tests.media_samples import make_image

PATIENT = "Smith^Jane"


@pytest.fixture
def store() -> Iterator[LocalStore]:
    opened = open_local_store(get_settings())
    yield opened
    opened.close()


def _named_after_the_patient(root: Path) -> Path:
    """A folder and files whose names carry the patient's name."""
    from pydicom.data import get_testdata_file

    folder = root / f"{PATIENT} exam"
    folder.mkdir(parents=True)
    shutil.copyfile(
        str(get_testdata_file("examples_ybr_color.dcm")), folder / f"{PATIENT} 1CT1.dcm"
    )
    make_image(folder, f"{PATIENT} still.png")
    (folder / f"{PATIENT} notes.txt").write_text("not a scan")  # refused: not a media file
    (folder / f"{PATIENT} broken.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"\1" * 64)
    return folder


def _patient_lines(records: list[logging.LogRecord]) -> list[str]:
    lines = [record.getMessage() for record in records]
    return [line for line in lines if "Smith" in line or "Jane" in line]


def test_an_import_logs_no_file_name(
    store: LocalStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = _named_after_the_patient(tmp_path)
    create_study(store.uow, store.actor, "Logs")
    caplog.set_level(logging.DEBUG)

    report = import_paths(
        store.uow, store.actor, store.media, "Logs", [folder], settings=store.settings
    )

    assert len(report.imported) == 2 and len(report.refused) == 2
    assert any(str(folder) in r.path for r in report.refused), "the report keeps the paths"
    assert _patient_lines(caplog.records) == []
    assert any("Not imported" in r.getMessage() for r in caplog.records)
    assert any(
        report.imported[0].file_path in r.getMessage()
        or report.imported[1].file_path in r.getMessage()
        for r in caplog.records
    ), "files are named by their stored key"


def test_maintenance_logs_no_file_name(
    store: LocalStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = _named_after_the_patient(tmp_path)
    create_study(store.uow, store.actor, "Logs")
    report = import_paths(
        store.uow, store.actor, store.media, "Logs", [folder], settings=store.settings
    )
    store.close()
    for media in report.imported:
        os.remove(store.media.path(media.file_path))
    orphan = store.media.write_bytes(b"never recorded")
    caplog.set_level(logging.DEBUG)

    reopened = open_local_store(get_settings())
    reopened.close()

    messages = " ".join(r.getMessage() for r in caplog.records)
    assert report.imported[0].file_path in messages and orphan.key in messages
    assert _patient_lines(caplog.records) == []
