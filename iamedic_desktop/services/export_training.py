"""Training sets from the clinicians' boxes: COCO JSON and a YOLO dataset.

Images are the pictures (images and stills) that have at least one exported box; a video
with boxes is left out (a training set holds pictures) and the export says so. Image sizes
come from a still's ``frames`` row, else the size the local store probed at import, else the
file's header (Pillow reads only the first chunks, never the whole picture). A box is clipped
to its image (the web does not always keep boxes inside); a box left with no area, or of a
class outside the nine, is dropped and counted in the notes.

YOLO: a picture labelled "not useful" (0) with no box goes in with an empty label file, as a
negative example (training without it teaches the model that every frame holds structures).
COCO holds only pictures with boxes.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from iamedic_desktop.core.errors import StorageError
from iamedic_desktop.models import BB_CLASSES
from iamedic_desktop.services.export_files import FileSource, add_text, media_filename
from iamedic_desktop.services.export_query import BoxRow, LabelRow, MediaRef

HEADER_LIMIT = 16 * 1024 * 1024  # a picture whose size is not known after this is refused
CATEGORY_IDS = {name: index + 1 for index, name in enumerate(BB_CLASSES)}
Box = tuple[float, float, float, float]


@dataclass
class TrainingImage:
    """One picture of a training set, its pixel size and its boxes (clipped, in pixels)."""

    media: MediaRef
    width: int = 0
    height: int = 0
    boxes: list[tuple[str, Box]] = field(default_factory=list)

    @property
    def member(self) -> str:
        """Its file name in the set (the export filename rule)."""
        return media_filename(self.media)


@dataclass
class TrainingSet:
    """The pictures in output order, and what was left out."""

    images: list[TrainingImage]
    notes: list[str]

    @property
    def box_count(self) -> int:
        """Boxes written."""
        return sum(len(image.boxes) for image in self.images)


def gather(boxes: list[BoxRow], negatives: list[LabelRow]) -> tuple[list[TrainingImage], int]:
    """Pictures with their raw boxes (then the "not useful" ones without any); videos counted."""
    images: dict[Any, TrainingImage] = {}
    videos: set[Any] = set()
    for row in boxes:
        if not row.media.mime_type.lower().startswith("image/"):
            videos.add(row.media.id)
            continue
        image = images.setdefault(row.media.id, TrainingImage(row.media))
        image.boxes.append((row.bb_class, (row.x_min, row.y_min, row.width, row.height)))
    for label in negatives:
        if label.usefulness == 0 and label.media.mime_type.lower().startswith("image/"):
            images.setdefault(label.media.id, TrainingImage(label.media))
    return list(images.values()), len(videos)


def clipped(box: Box, width: int, height: int) -> Box | None:
    """The box cut to the image; None when nothing of it is inside."""
    x0, y0 = max(0.0, box[0]), max(0.0, box[1])
    x1, y1 = min(float(width), box[0] + box[2]), min(float(height), box[1] + box[3])
    if x1 <= x0 or y1 <= y0:
        return None
    return (x0, y0, x1 - x0, y1 - y0)


def finish(images: list[TrainingImage], videos: int) -> TrainingSet:
    """Clip every box to its sized image; drop and count what cannot be used."""
    dropped = unknown = 0
    for image in images:
        kept: list[tuple[str, Box]] = []
        for name, box in image.boxes:
            if name not in CATEGORY_IDS:
                unknown += 1
            elif (cut := clipped(box, image.width, image.height)) is None:
                dropped += 1
            else:
                kept.append((name, cut))
        image.boxes = kept
    notes = []
    if videos:
        notes.append(f"{videos} video(s) with boxes left out: a training set holds pictures.")
    if dropped:
        notes.append(f"{dropped} box(es) outside their image left out.")
    if unknown:
        notes.append(f"{unknown} box(es) of a class outside the nine left out.")
    return TrainingSet(images, notes)


def header_size(chunks: Iterator[bytes], media: MediaRef) -> tuple[int, int]:
    """(width, height) from the first chunks of a picture's file; the rest is never read."""
    from PIL import Image

    from iamedic_desktop.media.image_size import shown_size

    buffer = b""
    try:
        for chunk in chunks:
            buffer += chunk
            try:
                with Image.open(io.BytesIO(buffer)) as picture:
                    width, height = shown_size(picture)  # boxes are in upright pixels
            except (OSError, SyntaxError, ValueError):
                if len(buffer) >= HEADER_LIMIT:
                    break
                continue  # the header goes on in the next chunk
            if width > 0 and height > 0:
                return int(width), int(height)
            break
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    raise StorageError(
        f"The size of the picture '{media.filename}' cannot be read from its file, so nothing "
        "was exported: the file is damaged or is not a picture."
    )


def size_images(
    images: list[TrainingImage], probed: dict[str, tuple[int, int]], files: FileSource
) -> None:
    """Fill each image's pixel size (frames row, probe, or the file's header)."""
    for image in images:
        media = image.media
        size = media.frame_size or probed.get(media.file_path)
        if size is None:
            size = header_size(files.chunks(media), media)
        image.width, image.height = size


def coco_document(training: TrainingSet, now: dt.datetime) -> dict[str, Any]:
    """The COCO dict: info, images (ids from 1), the nine categories, annotations (ids from 1)."""
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for image_id, image in enumerate(training.images, start=1):
        images.append({"id": image_id, "file_name": image.member,
                       "width": image.width, "height": image.height})  # fmt: skip
        for name, (x, y, w, h) in image.boxes:
            annotations.append({
                "id": len(annotations) + 1, "image_id": image_id,
                "category_id": CATEGORY_IDS[name], "bbox": [x, y, w, h], "area": w * h,
                "iscrowd": 0,
            })  # fmt: skip
    return {
        "info": {
            "description": "IAMEDIC clinician boxes (fetal structures)",
            "version": "1.0",
            "year": now.year,
            "contributor": "IAMEDIC Workstation",
            "date_created": now.isoformat(timespec="seconds"),
        },
        "licenses": [],
        "images": images,
        "categories": [
            {"id": CATEGORY_IDS[name], "name": name, "supercategory": "fetal structure"}
            for name in BB_CLASSES
        ],
        "annotations": annotations,
    }


def coco_json(training: TrainingSet, now: dt.datetime) -> str:
    """The COCO document as JSON text."""
    return json.dumps(coco_document(training, now), indent=2, ensure_ascii=False) + "\n"


def yolo_lines(image: TrainingImage) -> str:
    """``<class> <cx> <cy> <w> <h>`` per box, normalised by the image size, 6 decimals."""
    lines = []
    for name, (x, y, w, h) in image.boxes:
        cx, cy = (x + w / 2) / image.width, (y + h / 2) / image.height
        nw, nh = w / image.width, h / image.height
        lines.append(f"{CATEGORY_IDS[name] - 1} {cx:.6f} {cy:.6f} {nw:.6f} {nh:.6f}\n")
    return "".join(lines)


def data_yaml() -> str:
    """The dataset description YOLO trainers read: paths, class count and names in order."""
    names = ", ".join(json.dumps(name) for name in BB_CLASSES)
    return (
        "# IAMEDIC clinician boxes; no split is made: validate on a set of your own.\n"
        "path: .\ntrain: images\nval: images\n"
        f"nc: {len(BB_CLASSES)}\nnames: [{names}]\n"
    )


def yolo_stem(image: TrainingImage) -> str:
    """A label file's name without extension: the storage key, as the picture's."""
    return image.media.file_path


def add_yolo_texts(archive: zipfile.ZipFile, training: TrainingSet) -> None:
    """``data.yaml`` and one ``labels/<stem>.txt`` per picture (empty for a negative)."""
    add_text(archive, "data.yaml", data_yaml())
    for image in training.images:
        add_text(archive, f"labels/{yolo_stem(image)}.txt", yolo_lines(image))
