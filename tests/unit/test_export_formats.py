"""The export formats without a database: the filename rule, the CSV cells and bytes, YOLO
normalisation, and a COCO document checked for consistency."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from pathlib import Path

import pytest
import yaml
from PIL import Image

from iamedic_desktop.core.errors import StorageError
from iamedic_desktop.models import BB_CLASSES
from iamedic_desktop.services.export_files import (
    BOX_HEADER,
    CLASSIFICATION_HEADER,
    atomic_output,
    box_cells,
    classification_cells,
    export_filename,
    file_name,
    write_csv,
)
from iamedic_desktop.services.export_query import BoxRow, LabelRow, MediaRef
from iamedic_desktop.services.export_training import (
    TrainingImage,
    TrainingSet,
    clipped,
    coco_document,
    data_yaml,
    finish,
    gather,
    header_size,
    yolo_lines,
)

KEY = "0b7c6f0e-3f4d-4a8e-9a57-1d2c3b4a5f60"
WHEN = dt.datetime(2026, 3, 5, 23, 59, 58, 700000, tzinfo=dt.UTC)


def _media(mime: str = "image/png", name: str = "scan.png", size: tuple[int, int] | None = None,
           key: str = KEY) -> MediaRef:  # fmt: skip
    return MediaRef(uuid.uuid4(), key, name, mime, "image", 100, size)


@pytest.mark.parametrize(
    ("mime", "display", "expected"),
    [
        ("image/jpeg", "a.png", ".jpg"),  # the content's type wins over the name
        ("IMAGE/PNG", "a", ".png"),
        ("image/gif", "a", ".gif"),
        ("image/bmp", "a", ".bmp"),
        ("image/tiff", "a", ".tiff"),
        ("image/webp", "a", ".webp"),
        ("video/mp4", "clip.avi", ".mp4"),
        ("video/x-msvideo", "a", ".avi"),
        ("video/quicktime", "a", ".mov"),
        ("video/webm", "a", ".webm"),
        ("video/x-matroska", "loop.mkv", ".mkv"),  # not in the table: the display name's
        ("video/mpeg", "loop.Final.MPG", ".MPG"),
        ("application/octet-stream", "no-extension", ".bin"),
    ],
)
def test_the_filename_rule(mime: str, display: str, expected: str) -> None:
    assert export_filename(KEY, mime, display) == KEY + expected


def test_file_names_carry_the_range_and_the_time_of_export() -> None:
    now = dt.datetime(2026, 12, 4, 9, 5, 7)
    start, end = dt.date(2026, 3, 1), dt.date(2026, 3, 5)
    assert file_name("classification_annotations", start, end, now, ".csv") == (
        "classification_annotations_2026-03-01_2026-03-05_20261204_090507.csv"
    )
    assert file_name("bounding_box_annotations", None, end, now, ".zip") == (
        "bounding_box_annotations_all_2026-03-05_20261204_090507.zip"
    )


def test_csv_cells_and_bytes_are_the_webs() -> None:
    paris = dt.timezone(dt.timedelta(hours=1))
    label = LabelRow(_media("image/jpeg", "still.jpg"), 1, WHEN.astimezone(paris))
    box = BoxRow(_media(), "nasal bone", 20, 30.5, 50.25, 40, WHEN)
    assert list(classification_cells([label])) == [
        [f"{KEY}.jpg", "image", 1, "2026-03-05 23:59:58"]  # UTC, seconds cut, not rounded
    ]
    assert list(box_cells([box])) == [
        [f"{KEY}.png", "image", "nasal bone", 20.0, 30.5, 50.25, 40.0, "2026-03-05 23:59:58"]
    ]
    out = io.BytesIO()
    assert write_csv(out, BOX_HEADER, box_cells([box])) == 1
    assert out.getvalue() == (
        b"filename,media_type,bb_class,xmin,ymin,width,height,annotation_date\r\n"
        + f"{KEY}.png,image,nasal bone,20.0,30.5,50.25,40.0,2026-03-05 23:59:58\r\n".encode()
    )
    out = io.BytesIO()
    assert write_csv(out, CLASSIFICATION_HEADER, []) == 0
    assert out.getvalue() == b"filename,media_type,usefulness,annotation_date\r\n"


def test_yolo_lines_are_normalised_by_the_image_size() -> None:
    image = TrainingImage(_media(), 640, 480, [("CM", (64.0, 48.0, 128.0, 96.0)),
                                               ("thalami", (0.0, 0.0, 640.0, 480.0))])  # fmt: skip
    # CM: centre (64+64, 48+48) = (128, 96) -> 128/640 = 0.2, 96/480 = 0.2; size 0.2 x 0.2.
    assert (
        yolo_lines(image)
        == "0 0.200000 0.200000 0.200000 0.200000\n8 0.500000 0.500000 1.000000 1.000000\n"
    )
    third = TrainingImage(_media(), 300, 300, [("NT", (0.0, 0.0, 100.0, 100.0))])
    assert yolo_lines(third) == "2 0.166667 0.166667 0.333333 0.333333\n"


def test_boxes_are_clipped_to_the_image_and_dropped_when_outside() -> None:
    assert clipped((-10.0, 20.0, 50.0, 500.0), 640, 480) == (0.0, 20.0, 40.0, 460.0)
    assert clipped((700.0, 20.0, 50.0, 50.0), 640, 480) is None
    video = _media("video/mp4", "loop.mp4")
    rows = [
        BoxRow(_media(size=(100, 100)), "CM", 90, 90, 20, 20, WHEN),
        BoxRow(_media(size=(100, 100)), "brain", 10, 10, 20, 20, WHEN),
        BoxRow(_media(size=(100, 100)), "IT", 200, 10, 20, 20, WHEN),
        BoxRow(video, "CM", 1, 1, 20, 20, WHEN),
    ]
    images, videos = gather(rows, [])
    for image in images:
        image.width, image.height = image.media.frame_size or (0, 0)
    training = finish(images, videos)
    assert [image.boxes for image in training.images] == [
        [("CM", (90.0, 90.0, 10.0, 10.0))],
        [],
        [],
    ]
    assert training.notes == [
        "1 video(s) with boxes left out: a training set holds pictures.",
        "1 box(es) outside their image left out.",
        "1 box(es) of a class outside the nine left out.",
    ]


def test_yolo_negatives_are_pictures_labelled_not_useful() -> None:
    boxed, negative, useful = _media(key="a"), _media(key="b"), _media(key="c")
    labels = [LabelRow(boxed, 0, WHEN), LabelRow(negative, 0, WHEN), LabelRow(useful, 1, WHEN)]
    images, _ = gather([BoxRow(boxed, "CM", 1, 1, 20, 20, WHEN)], labels)
    assert [(i.media.file_path, len(i.boxes)) for i in images] == [("a", 1), ("b", 0)]


def test_a_coco_document_is_consistent() -> None:
    first = TrainingImage(
        _media(key="k1"),
        640,
        480,
        [("CM", (10.0, 20.0, 30.0, 40.0)), ("thalami", (1.5, 2.5, 3.0, 4.0))],
    )
    second = TrainingImage(
        _media("image/jpeg", key="k2"), 320, 240, [("nasal tip", (5.0, 6.0, 7.0, 8.0))]
    )
    document = coco_document(TrainingSet([first, second], []), dt.datetime(2026, 12, 4, 9, 0))
    assert [c["name"] for c in document["categories"]] == list(BB_CLASSES)
    assert [c["id"] for c in document["categories"]] == list(range(1, 10))
    assert document["images"] == [
        {"id": 1, "file_name": "k1.png", "width": 640, "height": 480},
        {"id": 2, "file_name": "k2.jpg", "width": 320, "height": 240},
    ]
    annotations = document["annotations"]
    ids = [a["id"] for a in annotations]
    assert ids == [1, 2, 3] and len(set(ids)) == len(ids)
    images = {i["id"] for i in document["images"]}
    categories = {c["id"] for c in document["categories"]}
    assert all(a["image_id"] in images and a["category_id"] in categories for a in annotations)
    assert [(a["image_id"], a["category_id"], a["bbox"], a["area"], a["iscrowd"])
            for a in annotations] == [
        (1, 1, [10.0, 20.0, 30.0, 40.0], 1200.0, 0),
        (1, 9, [1.5, 2.5, 3.0, 4.0], 12.0, 0),
        (2, 7, [5.0, 6.0, 7.0, 8.0], 56.0, 0),
    ]  # fmt: skip
    assert document["info"]["year"] == 2026


def test_data_yaml_names_the_nine_classes_in_order() -> None:
    parsed = yaml.safe_load(data_yaml())
    assert parsed["nc"] == 9
    assert parsed["names"] == list(BB_CLASSES)
    assert parsed["train"] == "images"


def test_a_pictures_size_is_read_from_its_header_only() -> None:
    picture = io.BytesIO()
    Image.new("L", (123, 45)).save(picture, "JPEG")
    data = picture.getvalue()
    served: list[int] = []

    def chunks():  # type: ignore[no-untyped-def]
        for start in range(0, len(data), 64):
            served.append(start)
            yield data[start : start + 64]

    assert header_size(chunks(), _media()) == (123, 45)
    assert len(served) * 64 < len(data)  # stopped once the header was read
    with pytest.raises(StorageError, match=r"'scan\.png' cannot be read"):
        header_size(iter([b"not a picture"]), _media())


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    with pytest.raises(RuntimeError), atomic_output(tmp_path, "out.csv") as handle:
        handle.write(b"half")
        raise RuntimeError("stopped")
    assert list(tmp_path.iterdir()) == []
    with atomic_output(tmp_path, "out.csv") as handle:
        handle.write(b"whole")
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
    assert (tmp_path / "out.csv").read_bytes() == b"whole"
    with pytest.raises(StorageError, match="does not exist"), atomic_output(tmp_path / "no", "x"):
        pytest.fail("no handle for a missing folder")
