"""Media for the player's tests: generated videos with their reference frames, a stored cine."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

from iamedic_desktop.models.central import MediaType, UploadStatus
from iamedic_desktop.schemas.media import MediaDTO
from tests.media_samples import VIDEO_SPECS, VideoSpec, make_video

# 4 s at 25 fps: long enough to play for a second at 2x without reaching the end.
PLAY_SPEC = VideoSpec("play_25fps_mp4", frames=100, gop=25)


def media_dto(path: Path, media_type: MediaType = MediaType.VIDEO) -> MediaDTO:
    """A media row for ``path`` as the study browser would hand it over."""
    now = dt.datetime.now(dt.UTC)
    return MediaDTO(
        id=uuid.uuid4(),
        study_id=uuid.uuid4(),
        filename=path.name,
        file_path=path.name,
        file_size=path.stat().st_size,
        mime_type="video/mp4" if media_type is MediaType.VIDEO else "image/png",
        media_type=media_type,
        upload_status=UploadStatus.UPLOADED,
        is_active=True,
        created_at=now,
        updated_at=now,
    )


def sample_video(directory: Path, name: str = "h264_bframes_mp4") -> Path:
    """One of the shared test videos (made once per folder)."""
    spec = PLAY_SPEC if name == PLAY_SPEC.name else VIDEO_SPECS[name]
    return make_video(spec, directory)


def stored_dicom_cine() -> tuple[Path, MediaDTO]:
    """pydicom's ultrasound cine imported into the local store: its stored MP4 and media row."""
    from pydicom.data import get_testdata_file

    from iamedic_desktop.core.settings import get_settings
    from iamedic_desktop.services.imports import import_paths
    from iamedic_desktop.services.local_store import open_local_store
    from iamedic_desktop.services.studies import create_study

    settings = get_settings()
    store = open_local_store(settings)
    try:
        study = create_study(store.uow, store.actor, "Cine")
        source = Path(str(get_testdata_file("examples_ybr_color.dcm")))
        report = import_paths(
            store.uow, store.actor, store.media, study.alias, [source], settings=settings
        )
        assert not report.refused, report.refused
        media = report.imported[0]
        return store.media.path(media.file_path), media
    finally:
        store.close()
