"""PS3.15 Annex E end to end: a marker in every attribute of the profile's table, none stored.

A still and a small cine carry a distinct value in each attribute of table E.1-1 that pydicom
can write (strings, dates, times, numbers, UIDs, bytes; a sequence holds a marked item). They
are imported with the real import service, the preview and a thumbnail are made as the window
makes them, and every file under the data, cache and log folders is searched, as bytes, in
UTF-8 and UTF-16, for every marker.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydicom import Dataset
from pydicom.datadict import dictionary_VR, keyword_for_tag
from pydicom.sequence import Sequence
from pydicom.tag import Tag

from iamedic_desktop.core.logging import setup_logging
from iamedic_desktop.core.settings import get_settings
from iamedic_desktop.media.dicom_profile import profile_table
from iamedic_desktop.services.imports import import_paths
from iamedic_desktop.services.local_store import LocalStore, open_local_store
from iamedic_desktop.services.studies import create_study
from tests import dicom_samples as samples

MIN_SEARCHED = 6  # shorter markers (an age "041Y") could occur by chance in a video's bytes


@pytest.fixture
def store() -> Iterator[LocalStore]:
    settings = get_settings()
    setup_logging(settings, console=False)
    logging.getLogger().setLevel(logging.DEBUG)  # the most the log could ever say
    opened = open_local_store(settings)
    yield opened
    opened.close()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_iamedic_handler", False):
            root.removeHandler(handler)
            handler.close()


def _marker(vr: str, n: int) -> object:
    """A value of ``vr`` that no other attribute holds."""
    if vr in ("AE", "CS", "SH", "LO", "LT", "ST", "UT", "UC", "PN"):
        return f"MK{n:04d}Q"
    if vr == "DA":
        return (dt.date(1901, 1, 1) + dt.timedelta(days=n)).strftime("%Y%m%d")
    if vr == "TM":
        return f"101010.{n:06d}"
    if vr == "DT":
        return f"18500101101010.{n:06d}"
    if vr == "UI":
        return f"1.2.826.0.1.3680043.10.777.{n}"
    if vr == "IS":
        return str(7100000 + n)
    if vr == "DS":
        return f"{7200000 + n}.5"
    if vr in ("US", "SS"):
        return 31000 + n
    if vr == "AS":
        return "041Y"
    if vr == "UR":
        return f"http://mk{n:04d}q.invalid"
    if vr in ("OB", "UN", "OW"):
        return f"MKB{n:04d}Z".encode()
    raise AssertionError(vr)


def _searched(value: object) -> list[bytes]:
    text = value.decode() if isinstance(value, bytes) else str(value)
    if len(text) < MIN_SEARCHED:
        return []
    return [text.encode(encoding) for encoding in ("utf-8", "utf-16-le", "utf-16-be")]


def planted_dataset(frames: int) -> tuple[Dataset, dict[str, list[bytes]]]:
    """A dataset with a marker in every attribute of the table; the markers by attribute."""
    ds = samples.make_dataset(samples.gradient(16, 24, frames))
    if frames > 1:
        ds.FrameTime = 40
    markers: dict[str, list[bytes]] = {}
    exact, _ = profile_table()
    for n, tag in enumerate(sorted(exact)):
        if tag >> 16 == 0x0000:  # the command group belongs to the network, never to a file
            continue
        known = bool(keyword_for_tag(tag))
        vr = dictionary_VR(tag).split(" or ")[0] if known else "LO"
        name = keyword_for_tag(tag) or f"{Tag(tag)}"
        if vr == "SQ":
            item = Dataset()
            item.CodeMeaning = f"MKS{n:04d}Q"
            ds.add_new(tag, "SQ", Sequence([item]))
            markers[name] = _searched(item.CodeMeaning)
            continue
        value = _marker(vr, n)
        target = ds.file_meta if tag >> 16 == 0x0002 else ds
        target.add_new(tag, vr, value)
        markers[name] = _searched(value)
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    # The repeating groups: overlay comments (60xx,4000), curve data (50xx,xxxx).
    ds.add_new(0x60024000, "LT", "MKOVERLAYQ")
    ds.add_new(0x50000022, "LO", "MKCURVEQ")
    markers["overlay"], markers["curve"] = _searched("MKOVERLAYQ"), _searched("MKCURVEQ")
    block = ds.private_block(0x0009, "ACME SCANNER", create=True)
    block.add_new(0x01, "LO", "MKPRIVATEQ")
    markers["private"] = _searched("MKPRIVATEQ")
    return ds, markers


def _found(folders: list[Path], markers: dict[str, list[bytes]]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for folder in folders:
        for path in folder.rglob("*"):
            if not path.is_file():
                continue
            data = path.read_bytes()
            for name, forms in markers.items():
                if any(form in data for form in forms):
                    found.setdefault(name, []).append(path.name)
    return found


@pytest.mark.slow
def test_no_attribute_of_the_profile_reaches_any_folder(store: LocalStore, tmp_path: Path) -> None:
    from iamedic_desktop.media.preview import video_preview_jpeg
    from iamedic_desktop.media.thumbnails import frame_thumbnail_jpeg
    from iamedic_desktop.media.video_source import VideoFrameSource

    study = create_study(store.uow, store.actor, "Planted").alias
    sources = tmp_path / "sources"
    markers: dict[str, list[bytes]] = {}
    paths = []
    for frames, name in ((1, "still.dcm"), (4, "cine.dcm")):
        ds, planted = planted_dataset(frames)
        markers.update({f"{name}:{k}": v for k, v in planted.items()})
        paths.append(samples.write(ds, sources / name))
    assert len(markers) > 2 * 600  # every attribute of the table, in both files
    report = import_paths(
        store.uow, store.actor, store.media, study, paths, settings=store.settings
    )
    assert not report.refused, report.refused
    names = sorted(media.filename for media in report.imported)
    assert names == ["cine.mp4", "still.png"]  # the stored forms' extensions
    cache = store.settings.cache_dir
    for media in report.imported:  # what the window makes of them
        stored = store.media.path(media.file_path)
        if media.mime_type == "video/mp4":
            video_preview_jpeg(stored, cache / "previews" / f"{media.file_path}.jpg")
            with VideoFrameSource(stored, readahead=0) as source:  # its index is cached
                jpeg = frame_thumbnail_jpeg(source, 0)
            (cache / "thumbnails").mkdir(parents=True, exist_ok=True)
            (cache / "thumbnails" / f"{media.file_path}.jpg").write_bytes(jpeg)
    store.close()  # the log flushed; the store's WAL file is searched too
    folders = [store.settings.data_dir, cache, store.settings.log_dir]
    assert any((store.settings.log_dir).iterdir())
    assert _found(folders, markers) == {}
