"""The timeline's markers of a video: its stills, the annotated ones, those with predictions.

Runs on the database runner (it reads the store); returns plain frame numbers per kind, each
still placed by its timestamp (``FrameDTO.frame_index``).
"""

from __future__ import annotations

import uuid

from iamedic_desktop.services import annotations as annotation_service
from iamedic_desktop.services.frames import list_frames
from iamedic_desktop.services.local_store import LocalStore
from iamedic_desktop.services.predictions import list_predictions

MARKER_KINDS = ("still", "annotated", "prediction")


def load_markers(store: LocalStore, video_id: uuid.UUID) -> dict[str, list[int]]:
    """Frame numbers of the video's active stills, annotated stills and predicted stills."""
    markers: dict[str, list[int]] = {kind: [] for kind in MARKER_KINDS}
    for frame in list_frames(store.uow, store.actor, video_id):
        n = frame.frame_index
        if n is None:
            continue  # the video's frame timing is unknown: no place on the timeline
        markers["still"].append(n)
        labels = annotation_service.get_annotations(store.uow, store.actor, frame.frame_media_id)
        if labels.boxes or labels.usefulness is not None:
            markers["annotated"].append(n)
        predicted = list_predictions(store.uow, store.actor, frame.frame_media_id)
        if predicted.boxes or predicted.classifications:
            markers["prediction"].append(n)
    return {kind: sorted(set(frames)) for kind, frames in markers.items()}
