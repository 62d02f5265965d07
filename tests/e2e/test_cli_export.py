"""``iamedic export ...`` through ``iamedic_desktop.cli.main``, on the CLI's own store."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path

import pytest

from iamedic_desktop.cli import main
from iamedic_desktop.core.settings import get_settings
from iamedic_desktop.models import Study, User
from iamedic_desktop.services.local_store import open_local_store
from tests.factories import make_box, make_media, make_study, make_usefulness, seeding

pytestmark = pytest.mark.usefixtures("restore_root_logger")


def _seed() -> dict[str, str]:
    """The local clinician's study: a labelled image with a box, made on 2026-03-05."""
    store = open_local_store(get_settings())
    try:
        with seeding(store.uow) as session:
            user = session.get(User, store.actor.user_id)
            assert user is not None
            study = make_study(session, user, alias="Scan")
            image = make_media(session, study, filename="scan.png")
            when = dt.datetime(2026, 3, 5, 8, 0, 0, tzinfo=dt.UTC)
            make_usefulness(session, image, 1).created_at = when
            make_box(session, image, bb_class="palate", box=(1, 2, 30, 40)).created_at = when
            key = image.file_path
            assert session.get(Study, study.id) is not None
        store.media.write_bytes(b"picture bytes", key)
    finally:
        store.close()
    return {"key": key}


def test_classification_csv_and_its_json_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = _seed()["key"]
    out = tmp_path / "exports"
    out.mkdir()
    code = main(["export", "classification", "--from", "2026-03-05", "--to", "2026-03-05",
                 "--out", str(out), "--json"])  # fmt: skip
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    path = Path(report["path"])
    assert path.parent == out.resolve()
    assert path.name.startswith("classification_annotations_2026-03-05_2026-03-05_")
    assert (report["rows"], report["media_count"], report["source"]) == (1, 1, "this workstation")
    assert path.read_text(encoding="utf-8").splitlines() == [
        "filename,media_type,usefulness,annotation_date",
        f"{key}.png,image,1,2026-03-05 08:00:00",
    ]
    code = main(["export", "classification", "--from", "2026-03-06", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0 and "Rows   0" in printed and "Where  this workstation" in printed


def test_boxes_zip_and_yolo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = _seed()["key"]
    assert main(["export", "boxes", "--zip", "--out", str(tmp_path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    with zipfile.ZipFile(report["path"]) as archive:
        assert archive.namelist() == ["annotations.csv", f"media/{key}.png"]
        assert archive.read(f"media/{key}.png") == b"picture bytes"
        assert b"palate,1.0,2.0,30.0,40.0,2026-03-05 08:00:00" in archive.read("annotations.csv")
    # The stored bytes are no picture: the YOLO export cannot size it and writes nothing.
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["export", "yolo", "--out", str(tmp_path)]) == 1
    error = capsys.readouterr().err
    assert error.startswith("❌ The size of the picture 'scan.png' cannot be read")
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_bad_dates_and_folders_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "boxes", "--from", "2026-03-06", "--to", "2026-03-05",
                 "--out", str(tmp_path)]) == 1  # fmt: skip
    assert "after the end date" in capsys.readouterr().err
    assert main(["export", "coco", "--out", str(tmp_path / "missing")]) == 1
    assert "does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        main(["export", "boxes", "--from", "5 March"])
    assert usage.value.code == 2
    assert "not a day as YYYY-MM-DD" in capsys.readouterr().err
