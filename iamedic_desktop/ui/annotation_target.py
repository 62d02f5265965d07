"""Where an annotation edit goes, and the service calls that store it.

``EditTarget`` is an image or still, or a video frame whose still does not exist yet;
``TargetWriter`` runs an edit's service calls on the database thread, taking the video frame's
still first (``extraction.extract_frame``) so the first edit of a frame needs no dialog.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QRectF

from iamedic_desktop.services import annotations as annotation_service
from iamedic_desktop.services.box_sources import clear_box_source, record_box_source
from iamedic_desktop.ui.box_item import MIN_BOX_PX, BoxState

if TYPE_CHECKING:
    from iamedic_desktop.schemas.extraction import ExtractionResult
    from iamedic_desktop.schemas.media import MediaDTO
    from iamedic_desktop.services.local_store import LocalStore

_KEEP = object()  # "the usefulness label does not change"


@dataclass(eq=False)
class EditTarget:
    """What is annotated: an image or still, or a video frame whose still is taken on first edit.

    ``still_id`` is the media that carries the annotations (the image or still itself); for a
    video frame it is None until the still exists. The database thread sets it when it takes
    the still; the UI thread only reads it.
    """

    media: MediaDTO
    frame_number: int | None = None
    timestamp: float | None = None
    still_id: uuid.UUID | None = None
    image_size: tuple[int, int] | None = None  # for an image's box checks

    @property
    def is_video_frame(self) -> bool:
        """Whether this is a frame of a video (annotated through its still)."""
        return self.frame_number is not None

    def describe(self) -> str:
        """How a message names it: "frame 12 of loop.mp4" or the image's name."""
        if self.frame_number is not None:
            return f"frame {self.frame_number} of {self.media.filename}"
        return self.media.filename


@dataclass(frozen=True)
class ViewChange:
    """What a redo or undo shows: boxes by class (None: removed) and maybe a new label."""

    boxes: dict[str, BoxState | None] = field(default_factory=dict)
    usefulness: Any = _KEEP  # int | None, or _KEEP

    @property
    def changes_usefulness(self) -> bool:
        """Whether the usefulness label changes."""
        return self.usefulness is not _KEEP


class TargetWriter:
    """The service calls of one edit on one target; database thread only."""

    def __init__(self, store: LocalStore, target: EditTarget) -> None:
        self._store = store
        self._target = target
        self.extracted: ExtractionResult | None = None

    def media_id(self) -> uuid.UUID:
        """The annotated media, taking the video frame's still first when there is none."""
        target = self._target
        if target.still_id is None:
            from iamedic_desktop.services.extraction import extract_frame

            store = self._store
            result = extract_frame(
                store.uow,
                store.actor,
                store.media,
                target.media.id,
                frame_number=target.frame_number,
            )
            target.still_id = result.frame.frame_media_id
            self.extracted = result
        return target.still_id

    def _size(self) -> dict[str, int]:
        size = self._target.image_size
        return {"image_width": size[0], "image_height": size[1]} if size else {}

    def add(self, state: BoxState) -> object:
        """Store a new box."""
        store = self._store
        return annotation_service.add_box(
            store.uow,
            store.actor,
            self.media_id(),
            bb_class=state.bb_class,
            x_min=state.x,
            y_min=state.y,
            width=state.width,
            height=state.height,
            is_hidden=state.hidden,
            **self._size(),
        )

    def credit(self, bb_class: str, model_version: str, confidence: float) -> object:
        """Remember that the box of ``bb_class`` was accepted from a model's prediction."""
        store = self._store
        return record_box_source(
            store.uow,
            store.actor,
            self.media_id(),
            bb_class,
            model_version=model_version,
            confidence=confidence,
        )

    def uncredit(self, bb_class: str) -> None:
        """Forget the prediction a box was accepted from (undo of the acceptance)."""
        store = self._store
        clear_box_source(store.uow, store.actor, self.media_id(), bb_class)

    def update(self, state: BoxState) -> object:
        """Store a box's new place and size."""
        store = self._store
        return annotation_service.update_box(
            store.uow,
            store.actor,
            self.media_id(),
            state.bb_class,
            x_min=state.x,
            y_min=state.y,
            width=state.width,
            height=state.height,
            **self._size(),
        )

    def change_class(self, bb_class: str, new_class: str, source: Any = None) -> Any:
        """Give the box of ``bb_class`` the class ``new_class`` (``source``: credit it again)."""
        store = self._store
        return annotation_service.change_box_class(
            store.uow, store.actor, self.media_id(), bb_class, new_class, source=source
        )

    def hide(self, bb_class: str, hidden: bool) -> object:
        """Store a box's hidden flag."""
        store = self._store
        return annotation_service.set_box_hidden(
            store.uow, store.actor, self.media_id(), bb_class, hidden
        )

    def delete(self, bb_class: str) -> object:
        """Remove a box."""
        store = self._store
        return annotation_service.delete_box(store.uow, store.actor, self.media_id(), bb_class)

    def usefulness(self, value: int | None) -> object:
        """Store the usefulness label (None removes it); 0 removes the boxes, as on the web."""
        store = self._store
        if value is None:
            return annotation_service.clear_usefulness(store.uow, store.actor, self.media_id())
        return annotation_service.set_usefulness(store.uow, store.actor, self.media_id(), value)


Job = Callable[[TargetWriter], object]


def fit_inside(
    bb_class: str, rect: QRectF, size: tuple[int, int], hidden: bool = False
) -> BoxState | None:
    """A box from ``rect`` cut to the image (coordinates kept as given); None if too small."""
    left = max(0.0, rect.left())
    top = max(0.0, rect.top())
    right = min(float(size[0]), rect.right())
    bottom = min(float(size[1]), rect.bottom())
    if right - left < MIN_BOX_PX or bottom - top < MIN_BOX_PX:
        return None
    return BoxState(bb_class, left, top, right - left, bottom - top, hidden)
