"""``iamedic annotations ...``: a media's usefulness label and boxes, without the window.

Through the same services as the window (``services/annotations.py``): one box per
(media, class), "not useful" removes the boxes, a video is refused (boxes go on a still).
"""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING, Any

from iamedic_desktop.cli.output import Column, print_json, print_table
from iamedic_desktop.cli.stores import local_store

if TYPE_CHECKING:
    from iamedic_desktop.core.settings import Settings
    from iamedic_desktop.schemas.media import MediaDTO
    from iamedic_desktop.services.local_store import LocalStore

BOX_COLUMNS: list[Column] = [
    ("CLASS", lambda b: b.bb_class),
    ("X", lambda b: b.x_min),
    ("Y", lambda b: b.y_min),
    ("WIDTH", lambda b: b.width),
    ("HEIGHT", lambda b: b.height),
    ("HIDDEN", lambda b: b.is_hidden),
]


def _pixels(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of pixels: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a number of pixels: {text!r}")
    return value


def add_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """Register the ``annotations`` command group."""
    group = commands.add_parser(
        "annotations",
        help="a media's usefulness label and boxes",
        description="The clinician's annotations of an image or a still (never a whole "
        "video: take a still first). MEDIA is a media id; CLASS is one of the nine box "
        'classes (quote "nasal bone"). Coordinates are pixels of the stored image.',
    )
    sub = group.add_subparsers(dest="annotations_command", metavar="COMMAND", required=True)

    listing = sub.add_parser(
        "list", parents=[common], help="the label, the boxes and the predictions' models"
    )
    listing.add_argument("media", metavar="MEDIA")
    listing.set_defaults(handler=list_command)

    set_box = sub.add_parser(
        "set-box",
        parents=[common],
        help="add the box of a class, or move it (one box per class)",
        description="Add the box of CLASS, or move and resize it when the media has one. "
        "X Y are its top-left corner, W H its size, in pixels; at least 10 px each way and "
        "inside the image.",
    )
    set_box.add_argument("media", metavar="MEDIA")
    set_box.add_argument("bb_class", metavar="CLASS")
    for name in ("x", "y", "w", "h"):
        set_box.add_argument(name, metavar=name.upper(), type=_pixels)
    set_box.set_defaults(handler=set_box_command)

    delete_box = sub.add_parser("delete-box", parents=[common], help="remove the box of a class")
    delete_box.add_argument("media", metavar="MEDIA")
    delete_box.add_argument("bb_class", metavar="CLASS")
    delete_box.set_defaults(handler=delete_box_command)

    usefulness = sub.add_parser(
        "set-usefulness",
        parents=[common],
        help="label the media useful (1) or not (0: its boxes are removed)",
    )
    usefulness.add_argument("media", metavar="MEDIA")
    usefulness.add_argument("value", metavar="0|1", type=int, choices=(0, 1))
    usefulness.set_defaults(handler=set_usefulness_command)


def list_command(args: argparse.Namespace, settings: Settings) -> int:
    """Print a media's label, boxes and the model versions of its predictions."""
    from iamedic_desktop.services.annotations import get_annotations
    from iamedic_desktop.services.predictions import list_predictions

    with local_store(settings) as store:
        found = get_annotations(store.uow, store.actor, args.media)
        predictions = list_predictions(store.uow, store.actor, found.media_id)
    versions = sorted(
        {p.model_version for p in predictions.classifications}
        | {p.model_version for p in predictions.boxes}
    )
    label = found.usefulness.usefulness if found.usefulness is not None else None
    if args.json:
        print_json({**found.model_dump(mode="json"), "model_versions": versions})
        return 0
    print(f"Usefulness  {_label_text(label)}")
    if found.boxes:
        print_table(found.boxes, BOX_COLUMNS)
        print(f"({len(found.boxes)} boxes)")
    else:
        print("(no boxes)")
    print(f"Predictions {', '.join(versions) if versions else '(none)'}")
    return 0


def set_box_command(args: argparse.Namespace, settings: Settings) -> int:
    """Add the box of a class, or move the one the media has."""
    from iamedic_desktop.services import annotations as service
    from iamedic_desktop.services.media_records import get_media

    place = {"x_min": args.x, "y_min": args.y, "width": args.w, "height": args.h}
    with local_store(settings) as store:
        media = get_media(store.uow, store.actor, args.media)
        current = service.get_annotations(store.uow, store.actor, media.id)
        size = _size_of(store, media)
        if any(box.bb_class == args.bb_class for box in current.boxes):
            box = service.update_box(
                store.uow, store.actor, media.id, args.bb_class, **place, **size
            )
            action = "moved"
        else:
            box = service.add_box(
                store.uow, store.actor, media.id, bb_class=args.bb_class, **place, **size
            )
            action = "added"
    if args.json:
        print_json({"action": action, "box": box.model_dump(mode="json")})
    else:
        print(f"✅ '{box.bb_class}' box {action} on '{media.filename}'")
        print_table([box], BOX_COLUMNS)
    return 0


def delete_box_command(args: argparse.Namespace, settings: Settings) -> int:
    """Remove the box of a class."""
    from iamedic_desktop.services.annotations import delete_box

    with local_store(settings) as store:
        removed = delete_box(store.uow, store.actor, args.media, args.bb_class)
    if args.json:
        print_json(removed)
    else:
        print(f"✅ '{removed.bb_class}' box removed")
    return 0


def set_usefulness_command(args: argparse.Namespace, settings: Settings) -> int:
    """Label a media useful or not; say how many boxes "not useful" removed."""
    from iamedic_desktop.services.annotations import set_usefulness

    with local_store(settings) as store:
        change = set_usefulness(store.uow, store.actor, args.media, args.value)
    if args.json:
        print_json(change)
        return 0
    removed = len(change.removed_boxes)
    print(f"✅ Labelled {_label_text(change.label.usefulness)}; {removed} box(es) removed")
    return 0


def _label_text(value: int | None) -> str:
    return {None: "(not labelled)", 0: "not useful", 1: "useful"}.get(value, str(value))


def _size_of(store: LocalStore, media: MediaDTO) -> dict[str, Any]:
    """An image's size from its stored file's header; a still's comes from its frames row."""
    from iamedic_desktop.models import MediaType

    if media.media_type is not MediaType.IMAGE:
        return {}
    from PIL import Image, UnidentifiedImageError

    from iamedic_desktop.core.errors import InvalidInputError
    from iamedic_desktop.media.image_size import shown_size

    try:
        # The header only: the size is all the box checks need.
        with Image.open(store.media.path(media.file_path)) as image:
            width, height = shown_size(image)  # as the canvas shows it
    except FileNotFoundError:
        raise InvalidInputError(
            f"The file of '{media.filename}' is missing from the data folder, so its size "
            "(for the box checks) is unknown."
        ) from None
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise InvalidInputError(
            f"'{media.filename}' cannot be read for its size ({exc.__class__.__name__})."
        ) from None
    return {"image_width": width, "image_height": height}
