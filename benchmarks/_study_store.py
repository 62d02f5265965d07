"""Local stores full of studies for the study browser benchmark, kept between runs.

``study_store(n)`` opens (making it the first time) a local store under the benchmark cache
holding ``n`` studies of the local clinician, filled in one transaction with plain inserts:
three studies in four have media (1 to 3 images, some scored by the classifier, some
labelled, and every tenth study a video with a labelled still), so the statuses and counts the
browser computes are those of a real list. The rows skip the sync outbox (nothing syncs here)
and their media files do not exist (nothing opens them), so the store is opened as
``open_local_store`` opens it minus start-up maintenance, which would mark every row's missing
file.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from _media import cache_dir

from iamedic_desktop.core.database import create_local_engine
from iamedic_desktop.core.migrate import upgrade_local
from iamedic_desktop.core.settings import Settings
from iamedic_desktop.media.storage import MediaStore
from iamedic_desktop.services.local_mode import ensure_local_user
from iamedic_desktop.services.local_store import LocalStore
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory, make_session_factory

CLASSIFIER = "frame_classifier_224x224 - 3"
START = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def _rows(doctor_id: uuid.UUID, count: int) -> dict[str, list[dict[str, Any]]]:
    rows: dict[str, list[dict[str, Any]]] = {
        "studies": [],
        "media": [],
        "frames": [],
        "picture_classification_predictions": [],
        "picture_classification_annotations": [],
    }

    def media(study_id: uuid.UUID, at: dt.datetime, kind: str) -> uuid.UUID:
        media_id = uuid.uuid4()
        rows["media"].append(
            {
                "id": media_id,
                "study_id": study_id,
                "filename": f"{kind}-{media_id.hex[:8]}",
                "file_path": str(uuid.uuid4()),
                "file_size": 123_456,
                "mime_type": "video/mp4" if kind == "video" else "image/png",
                "media_type": kind,
                "upload_status": "uploaded",
                "is_active": True,
                "created_at": at,
                "updated_at": at,
            }
        )
        return media_id

    def score(media_id: uuid.UUID, kind: str, at: dt.datetime) -> None:
        rows["picture_classification_predictions"].append(
            {
                "id": uuid.uuid4(),
                "media_id": media_id,
                "media_type": kind,
                "prediction": 0.7,
                "model_version": CLASSIFIER,
                "created_at": at,
                "updated_at": at,
            }
        )

    def label(media_id: uuid.UUID, kind: str, at: dt.datetime) -> None:
        rows["picture_classification_annotations"].append(
            {
                "id": uuid.uuid4(),
                "media_id": media_id,
                "media_type": kind,
                "usefulness": 1,
                "created_at": at,
                "updated_at": at,
            }
        )

    for n in range(count):
        at = START + dt.timedelta(minutes=n)
        study_id = uuid.uuid4()
        rows["studies"].append(
            {
                "id": study_id,
                "doctor_id": doctor_id,
                "alias": f"Study {n:06d}",
                "is_active": True,
                "created_at": at,
                "updated_at": at,
            }
        )
        for k in range(n % 4):
            image = media(study_id, at, "image")
            if (n + k) % 3:
                score(image, "image", at)
            if (n + k) % 5 == 0:
                label(image, "image", at)
        if n % 10 == 0:
            video = media(study_id, at, "video")
            still = media(study_id, at, "frame")
            rows["frames"].append(
                {
                    "id": uuid.uuid4(),
                    "video_media_id": video,
                    "frame_media_id": still,
                    "timestamp_seconds": 1.0,
                    "frame_number": 30,
                    "width": 640,
                    "height": 480,
                    "is_active": True,
                    "created_at": at,
                    "updated_at": at,
                }
            )
            score(still, "frame", at)
            label(still, "frame", at)
    return rows


def study_store(count: int) -> LocalStore:
    """The benchmark store with ``count`` studies (made and filled on first use)."""
    from sqlalchemy import func, insert, select

    from iamedic_desktop.models import Base, Study

    folder: Path = cache_dir() / f"study-browser-{count}"
    settings = Settings(data_dir=folder / "data", cache_dir=folder / "cache")
    settings.ensure_dirs()
    engine = create_local_engine(settings.local_db_path)
    upgrade_local(engine)
    uow = UnitOfWorkFactory(engine, make_session_factory(engine))
    actor = ensure_local_user(uow, settings)
    store = LocalStore(settings, engine, uow, actor, MediaStore(settings.media_dir))
    with store.uow() as uow:
        present = uow.session.scalar(select(func.count()).select_from(Study)) or 0
    if present == count:
        return store
    if present:
        raise SystemExit(f"{folder} holds {present} studies, not {count}: delete it and rerun")
    print(f"🔧 filling {folder} with {count} studies (once) ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    rows = _rows(store.actor.user_id, count)
    tables = Base.metadata.tables
    with store.engine.begin() as conn:  # one transaction: a filled store or an empty one
        for name, values in rows.items():
            if values:
                conn.execute(insert(tables[name]), values)
    elapsed = time.perf_counter() - started
    print(f"✅ {count} studies in {elapsed:.1f} s", file=sys.stderr, flush=True)
    return store
