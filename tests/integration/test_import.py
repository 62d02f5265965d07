"""Importing into the embedded store with the real ffmpeg, Pillow, pydicom and libmagic.

Every generated video spec, the six image formats and the four pydicom ultrasound samples come
in with exact rows (size, MIME type by content, type, status), their ``media_files`` row, and a
stored form a browser plays with every frame at its original time.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from iamedic_desktop.core.progress import CancelToken, Progress
from iamedic_desktop.core.settings import Settings, get_settings
from iamedic_desktop.media.probe import VideoProbe, probe_video
from iamedic_desktop.media.sniff import sniff
from iamedic_desktop.media.storage import sha256_of
from iamedic_desktop.media.transcode import major_brand, moov_first, playable_plan
from iamedic_desktop.models import Media, MediaFile, OutboxEntry
from iamedic_desktop.schemas.imports import ImportReport
from iamedic_desktop.schemas.media import MediaDTO
from iamedic_desktop.services import imports
from iamedic_desktop.services.imports import import_paths
from iamedic_desktop.services.local_store import LocalStore, open_local_store
from iamedic_desktop.services.studies import create_study
from tests.media_samples import VIDEO_SPECS, VideoSpec, make_image, make_video, reference_frames

IMAGE_FORMATS = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "bmp": "image/bmp",
    "tiff": "image/tiff",
    "webp": "image/webp",
}
DICOM_SAMPLES = [
    ("examples_ybr_color.dcm", "video", "video/mp4"),
    ("examples_palette.dcm", "image", "image/png"),
    ("examples_rgb_color.dcm", "image", "image/png"),
    ("examples_jpeg2k.dcm", "image", "image/png"),
]
# What the stored form of each generated video must be.
EXPECTED_PLAN = {
    "h264_mp4": "remux",  # ffmpeg writes the index at the end unless told otherwise
    "h264_bframes_mp4": "remux",
    "vp9_webm": "keep",
    "vp8_webm": "keep",
    "mpeg4_avi": "transcode",
    "mjpeg_mov": "transcode",
    "odd_size_mkv": "transcode",  # H.264 4:4:4: browsers do not play it
    "rotated_phone_mp4": "remux",
    "vfr_mp4": "remux",
}


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated sources, made once per test process."""
    return tmp_path_factory.mktemp("import_sources")


@pytest.fixture
def store() -> Iterator[LocalStore]:
    opened = open_local_store(get_settings())
    yield opened
    opened.close()


@pytest.fixture
def study(store: LocalStore) -> str:
    return create_study(store.uow, store.actor, "Import").alias


def run_import(store: LocalStore, study: str, *paths: Path, **kwargs: object) -> ImportReport:
    return import_paths(
        store.uow,
        store.actor,
        store.media,
        study,
        list(paths),
        settings=store.settings,
        **kwargs,  # type: ignore[arg-type]
    )


def media_file(store: LocalStore, key: str) -> MediaFile:
    with store.uow() as uow:
        return uow.session.get_one(MediaFile, key)


def check_row(store: LocalStore, media: MediaDTO, source: Path) -> Path:
    """The row's facts are the stored file's facts; returns the stored file."""
    stored = store.media.path(media.file_path)
    assert stored.is_file()
    assert media.file_size == stored.stat().st_size
    assert media.mime_type == sniff(stored).mime_type
    assert media.upload_status.value == "uploaded" and media.is_active
    record = media_file(store, media.file_path)
    assert record.sha256 == sha256_of(stored)
    assert record.size == media.file_size
    assert record.source_sha256 == sha256_of(source)
    return stored


def packet_hashes(path: Path) -> list[str]:
    """The MD5 of every video packet, in order (equal lists: the same coded frames)."""
    out = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:v:0", "-c", "copy",
         "-f", "framemd5", "-"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return [line.split(",")[-1].strip() for line in out.splitlines() if not line.startswith("#")]


def frame_times(path: Path) -> list[float]:
    """The presentation time of every decoded frame."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "frame=pts_time",
         "-of", "json", str(path)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return [round(float(f["pts_time"]), 4) for f in json.loads(out)["frames"]]


def assert_browser_playable(stored: Path) -> VideoProbe:
    probe = probe_video(stored)
    if probe.codec in ("vp8", "vp9"):
        assert sniff(stored).mime_type == "video/webm"
    else:
        assert (probe.codec, probe.pix_fmt) == ("h264", "yuv420p")
        assert sniff(stored).mime_type == "video/mp4"
        assert major_brand(stored) not in ("qt  ", "")
        assert moov_first(stored), "the index must come before the media data (faststart)"
        assert probe.width % 2 == 0 and probe.height % 2 == 0
    assert playable_plan(stored, probe) == "keep"
    return probe


@dataclass(frozen=True)
class Everything:
    """One import of every generated video, every image format and every DICOM sample."""

    store: LocalStore
    report: ImportReport
    sources: dict[str, Path]

    def media(self, name: str) -> MediaDTO:
        """The media row that holds the content of source ``name``."""
        source_sha256 = sha256_of(self.sources[name])
        with self.store.uow() as uow:
            keys = uow.session.scalars(
                select(MediaFile.file_path).where(MediaFile.source_sha256 == source_sha256)
            ).all()
        (found,) = [m for m in self.report.imported if m.file_path in keys]
        return found


@pytest.fixture(scope="module")
def everything(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Everything]:
    """Made once: the store is shared by the read-only checks below."""
    from pydicom.data import get_testdata_file

    home = tmp_path_factory.mktemp("everything")
    sources = {
        path.name: path
        for path in [
            *(make_video(spec, home / "in") for spec in VIDEO_SPECS.values()),
            *(make_image(home / "in", f"still.{ext}", size=(97, 61)) for ext in IMAGE_FORMATS),
            *(Path(str(get_testdata_file(name))) for name, _, _ in DICOM_SAMPLES),
        ]
    }
    settings = Settings(data_dir=home / "data", cache_dir=home / "cache")
    store = open_local_store(settings)
    alias = create_study(store.uow, store.actor, "Everything").alias
    report = run_import(store, alias, *sources.values())
    yield Everything(store, report, sources)
    store.close()


def test_everything_comes_in(everything: Everything) -> None:
    report = everything.report
    assert report.refused == [] and report.warnings == []
    # Sources with the same bytes (two specs may encode alike) are one media, as they should be.
    contents: dict[str, str] = {}
    dicom_mime = {name: mime for name, _, mime in DICOM_SAMPLES}
    for name, path in everything.sources.items():
        # A DICOM is stored as a PNG or an MP4 and named so.
        if name in dicom_mime:
            extension = ".mp4" if dicom_mime[name] == "video/mp4" else ".png"
            name = name.removesuffix(".dcm") + extension
        contents.setdefault(sha256_of(path), name)
    assert sorted(m.filename for m in report.imported) == sorted(contents.values())
    assert len(report.duplicates) == len(everything.sources) - len(contents)
    assert sorted(everything.store.media.keys()) == sorted(m.file_path for m in report.imported)


@pytest.mark.parametrize("name", sorted(VIDEO_SPECS))
def test_every_video_comes_in_playable_with_every_frame(everything: Everything, name: str) -> None:
    store, source = everything.store, everything.sources[f"{name}.{VIDEO_SPECS[name].container}"]
    source_probe = probe_video(source)
    assert playable_plan(source, source_probe) == EXPECTED_PLAN[name]
    media = everything.media(source.name)
    assert media.media_type.value == "video"
    stored = check_row(store, media, source)
    probe = assert_browser_playable(stored)
    assert VideoProbe.from_json(media_file(store, media.file_path).probe_json or "") == probe
    assert frame_times(stored) == frame_times(source)
    plan = EXPECTED_PLAN[name]
    if plan == "keep":
        assert sha256_of(stored) == sha256_of(source)
    if plan == "remux":  # the coded frames themselves, untouched
        assert packet_hashes(stored) == packet_hashes(source)
        assert probe.rotation == source_probe.rotation
    if plan == "transcode":
        assert probe.rotation == 0
        assert (probe.width, probe.height) == (
            source_probe.width + source_probe.width % 2,
            source_probe.height + source_probe.height % 2,
        )


def test_a_rotated_phone_clip_keeps_its_rotation_and_pixels(everything: Everything) -> None:
    source = everything.sources["rotated_phone_mp4.mp4"]
    stored = everything.store.media.path(everything.media(source.name).file_path)
    probe = probe_video(stored)
    assert probe.rotation == 270 and (probe.display_width, probe.display_height) == (180, 320)
    upright = reference_frames(stored)
    assert upright[0].shape == (320, 180, 3)
    assert all(np.array_equal(a, b) for a, b in zip(upright, reference_frames(source), strict=True))


def test_a_rotated_clip_that_needs_transcoding_is_turned_upright(
    store: LocalStore, study: str, media_dir: Path
) -> None:
    spec = VideoSpec("rotated_mpeg4_mp4", codec="mpeg4", width=320, height=180, rotate=90)
    source = make_video(spec, media_dir)
    assert probe_video(source).rotation == 270
    media = run_import(store, study, source).imported[0]
    stored = store.media.path(media.file_path)
    probe = assert_browser_playable(stored)
    assert (probe.rotation, probe.width, probe.height) == (0, 180, 320)
    ours, theirs = reference_frames(stored), reference_frames(source)
    assert len(ours) == len(theirs) == spec.frames
    worst = max(
        np.abs(a.astype(int) - b.astype(int)).mean() for a, b in zip(ours, theirs, strict=True)
    )
    assert worst < 4.0  # lossy, but the same upright picture


@pytest.mark.parametrize(("ext", "mime"), sorted(IMAGE_FORMATS.items()))
def test_images_are_stored_byte_for_byte(everything: Everything, ext: str, mime: str) -> None:
    source = everything.sources[f"still.{ext}"]
    media = everything.media(source.name)
    assert (media.media_type.value, media.mime_type) == ("image", mime)
    stored = check_row(everything.store, media, source)
    assert stored.read_bytes() == source.read_bytes()
    assert media_file(everything.store, media.file_path).probe_json is None


@pytest.mark.parametrize(("sample", "kind", "mime"), DICOM_SAMPLES)
def test_dicom_samples_come_in_de_identified(
    everything: Everything, sample: str, kind: str, mime: str
) -> None:
    import pydicom

    store, source = everything.store, everything.sources[sample]
    header = pydicom.dcmread(source, stop_before_pixels=True)
    media = everything.media(sample)
    assert (media.media_type.value, media.mime_type) == (kind, mime)
    stored = check_row(store, media, source)
    record = media_file(store, media.file_path)
    dicom_json = record.dicom_json or ""
    assert json.loads(dicom_json)  # the de-identified header is kept
    for keyword in ("PatientName", "PatientID"):
        assert str(header.get(keyword)) not in dicom_json
    assert b"DICM" not in stored.read_bytes()[:256]
    if kind == "video":
        probe = assert_browser_playable(stored)
        assert (probe.fps, len(frame_times(stored))) == (30.0, 30)
        assert VideoProbe.from_json(record.probe_json or "").frame_count == 30


def test_a_dicom_named_after_the_patient_gets_another_name(
    store: LocalStore, study: str, tmp_path: Path
) -> None:
    from pydicom.data import get_testdata_file

    source = Path(str(get_testdata_file("examples_rgb_color.dcm")))  # CompressedSamples^US1
    named = tmp_path / "compressedsamples US1 13US1.dcm"
    shutil.copyfile(source, named)
    media = run_import(store, study, named).imported[0]
    assert media.filename == "DICOM still.png"  # the stored form is a PNG
    assert "us1" not in media.filename.lower()


def test_a_folder_is_walked_in_order_skipping_hidden_entries(
    store: LocalStore, study: str, tmp_path: Path
) -> None:
    root = tmp_path / "stick"
    make_image(root, "b.png", size=(10, 10))
    make_image(root / "sub", "a.jpg", size=(11, 10))
    make_image(root / "sub", ".hidden.png", size=(12, 10))
    make_image(root / ".Trash", "deleted.png", size=(13, 10))
    (root / "sub" / "same.png").symlink_to(root / "b.png")  # inside the tree: the same file
    (root / "folder_link").symlink_to(root / "sub")
    report = run_import(store, study, root)
    assert [m.filename for m in report.imported] == ["b.png", "a.jpg"]
    assert report.refused == [] and report.duplicates == []
    skipped = {Path(s.path).name: s.reason for s in report.skipped}
    assert set(skipped) == {".Trash", ".hidden.png", "folder_link"}


def test_the_same_content_twice_in_a_study_is_a_duplicate(
    store: LocalStore, study: str, media_dir: Path, tmp_path: Path
) -> None:
    source = make_video(VIDEO_SPECS["mpeg4_avi"], media_dir)  # converted on the way in
    first = run_import(store, study, source).imported[0]
    renamed = tmp_path / "another name.avi"
    shutil.copyfile(source, renamed)
    again = run_import(store, study, source, renamed)
    assert again.imported == []
    assert [(d.path, d.existing.id) for d in again.duplicates] == [
        (str(source), first.id),
        (str(renamed), first.id),
    ]
    assert store.media.keys() == [first.file_path]
    other = create_study(store.uow, store.actor, "Another study")
    elsewhere = run_import(store, other.alias, renamed)
    assert [m.filename for m in elsewhere.imported] == ["another name.avi"]


def test_the_media_row_reaches_the_outbox_in_its_transaction(
    store: LocalStore, study: str, media_dir: Path
) -> None:
    media = run_import(store, study, make_image(media_dir, "outbox.png")).imported[0]
    with store.uow() as uow:
        entries = uow.session.scalars(
            select(OutboxEntry.operation).where(OutboxEntry.row_id == media.id)
        ).all()
        row = uow.session.get_one(Media, media.id)
    assert list(entries) == ["insert"]
    assert row.file_path == media.file_path


def test_cancel_stops_between_files_and_keeps_what_was_done(
    store: LocalStore, study: str, tmp_path: Path
) -> None:
    files = [make_image(tmp_path, f"{n}.png", size=(20 + n, 20)) for n in range(4)]
    token = CancelToken()
    seen: list[Progress] = []

    def progress(step: Progress) -> None:
        seen.append(step)
        if step.done == 1:
            token.cancel()

    report = run_import(store, study, *files, progress=progress, cancel=token)
    assert report.cancelled
    # Cancelled while the second file was being read: it is not imported, nor what follows.
    assert [m.filename for m in report.imported] == ["0.png"]
    assert report.not_reached == [str(f) for f in files[1:]]
    assert [s.done for s in seen] == [0, 1, 4] and seen[0].total == 4
    assert len(store.media.keys()) == 1


def test_over_the_web_limits_imports_with_a_warning(
    store: LocalStore, study: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(imports, "WEB_FILE_LIMIT", 100)
    monkeypatch.setattr(imports, "WEB_DOCTOR_LIMIT", 150)
    report = run_import(store, study, make_image(tmp_path, "big.bmp", size=(30, 30)))
    assert len(report.imported) == 1
    assert any("1 GiB limit per file" in w and "will not sync" in w for w in report.warnings)
    assert any("2 GiB per doctor" in w for w in report.warnings)
