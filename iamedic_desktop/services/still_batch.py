"""The machinery of frame extraction: a video opened for stills, and the stills of chosen frames.

``extraction.py`` (manual, every N frames or seconds, runs) and ``frame_scoring.py`` (every frame
scored) build on it. Threading: everything here decodes and writes files, so it runs in the
caller's thread, which must be a worker (a CLI command, a UI operation), never the UI thread.
Progress callbacks are called on that thread; a CancelToken may be set from any thread.

Consistency: each still's file is stored first (temp file and rename), then its rows, in
batches of at most half a second (``StillWriter``), so a cancel or an error keeps every still
made so far, a crash every still but the last batch's, and no row is ever without its file. A
batch stops between frames when cancelled and returns what was done with ``cancelled`` set
(no CancelledError), so the caller can say how many stills were kept.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from iamedic_desktop.core.errors import InvalidInputError, StorageError
from iamedic_desktop.core.progress import CancelToken, Progress, ProgressCallback
from iamedic_desktop.media.frame_source import FrameSource
from iamedic_desktop.media.selected_frames import iter_selected
from iamedic_desktop.media.storage import MediaStore
from iamedic_desktop.models import MediaType
from iamedic_desktop.schemas.actor import Actor
from iamedic_desktop.schemas.extraction import BatchExtractionResult, ExtractionResult
from iamedic_desktop.schemas.media import MediaDTO
from iamedic_desktop.services.frames import list_frames
from iamedic_desktop.services.media_records import get_media
from iamedic_desktop.services.still_writer import StillWriter
from iamedic_desktop.services.unit_of_work import UnitOfWorkFactory

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_S = 0.1  # progress at most ten times a second, plus the first and last step

StillHook = Callable[[int, ExtractionResult], None]  # frame index, the still made or found


@contextmanager
def open_video(
    uow_factory: UnitOfWorkFactory,
    actor: Actor,
    media_store: MediaStore,
    video_media_id: str | uuid.UUID,
) -> Iterator[tuple[MediaDTO, FrameSource, Path]]:
    """The actor's video (refusing anything else) and a frame source on its stored file."""
    media = get_media(uow_factory, actor, video_media_id)  # role and ownership checks
    if media.media_type is not MediaType.VIDEO:
        raise InvalidInputError(
            f"'{media.filename}' is {media.media_type.value}, not a video; stills are taken "
            "from videos."
        )
    path = media_store.path(media.file_path)
    if not path.is_file():
        raise StorageError(
            f"The file of the video '{media.filename}' is missing from the media store."
        )
    from iamedic_desktop.media.open_source import open_frame_source

    source = open_frame_source(path)
    try:
        yield media, source, path
    finally:
        source.close()


def timestamp_of(source: FrameSource, n: int) -> float:
    """Frame ``n``'s presentation time rounded to the millisecond (a still's timestamp)."""
    return round(source.timestamp(n), 3)


class Reporter:
    """Calls the progress callback at most every PROGRESS_INTERVAL_S, and always when forced."""

    def __init__(self, progress: ProgressCallback, total: int) -> None:
        self.progress = progress
        self.total = total
        self._last = -math.inf

    def __call__(self, done: int, message: str, *, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last >= PROGRESS_INTERVAL_S:
            self._last = now
            self.progress(Progress(done, self.total, message))


def check_score(value: object, n: int) -> float:
    """A classifier's score of frame ``n`` as a probability, or InvalidInputError."""
    try:
        score = float(value)  # type: ignore[arg-type]  # anything may come back
    except (TypeError, ValueError):
        score = math.nan
    if isinstance(value, bool) or not math.isfinite(score) or not 0.0 <= score <= 1.0:
        raise InvalidInputError(
            f"The frame classifier gave {value!r} for frame {n}; a probability from 0 to 1 "
            "was expected."
        )
    return score


def still_writer(
    uow_factory: UnitOfWorkFactory, actor: Actor, media_store: MediaStore, video: MediaDTO
) -> StillWriter:
    """A writer of the video's stills that knows the stills it already has (deleted ones too)."""
    known = list_frames(uow_factory, actor, video.id, include_deleted=True)
    return StillWriter(uow_factory, actor, media_store, video, known=known)


def _batch_message(result: dict[str, int], planned: int, cancelled: bool) -> str:
    done = result["created"] + result["existing"] + result["reactivated"]
    parts = [f"{result['created']} new"]
    if result["existing"]:
        parts.append(f"{result['existing']} already there")
    if result["reactivated"]:
        parts.append(f"{result['reactivated']} restored")
    text = f"{done} of {planned} stills ({', '.join(parts)})"
    return f"Cancelled: {text} are kept." if cancelled else f"Done: {text}."


def extract_indices(
    writer: StillWriter,
    source: FrameSource,
    path: Path,
    indices: Sequence[int],
    progress: ProgressCallback,
    cancel: CancelToken | None,
    on_still: StillHook | None = None,
) -> BatchExtractionResult:
    """Stills of the frames ``indices`` (sorted, unique), decoding once from first to last.

    ``on_still`` is called right after each still is made or found (to store its prediction
    before the next frame), with the frame's index.
    """
    planned = len(indices)
    stills: list[ExtractionResult] = []
    counts = {"created": 0, "existing": 0, "reactivated": 0}

    def add(n: int, result: ExtractionResult) -> None:
        stills.append(result)
        key = "created" if result.created else "reactivated" if result.reactivated else "existing"
        counts[key] += 1
        if on_still is not None:
            on_still(n, result)

    to_decode: list[tuple[int, float]] = []
    cancelled = False
    for n in indices:  # stills already there need no pixels: no decoding for them
        timestamp = timestamp_of(source, n)
        known = writer.existing(timestamp)
        if known is None:
            to_decode.append((n, timestamp))
        elif cancel is not None and cancel.cancelled:
            cancelled = True
            break
        else:
            add(n, writer.keep(known))
    if to_decode and not cancelled:
        first, last = to_decode[0][0], to_decode[-1][0]
        report = Reporter(progress, last - first + 1)
        wanted = dict(to_decode)
        position = first - 1  # the last frame decoded

        def tick(n: int) -> bool:
            nonlocal position, cancelled
            if cancel is not None and cancel.cancelled:
                cancelled = True
                return False
            position = n
            report(n - first + 1, f"{len(stills)} of {planned} stills")
            return True

        report(0, f"0 of {planned} stills", force=True)
        try:
            for n, pixels in iter_selected(source, path, list(wanted), tick):
                for done in writer.add(n, wanted[n], pixels):
                    add(*done)
        except StorageError as exc:  # a full disk: say what is kept, not only what failed
            for done in writer.flush():
                add(*done)
            raise StorageError(
                f"Stopped after {len(stills)} of {planned} stills, which are kept: {exc.message}"
            ) from exc
        finally:  # also on an error: the stills stored so far are kept
            for done in writer.flush():
                add(*done)
        report(position - first + 1, f"{len(stills)} of {planned} stills", force=True)
    stills.sort(key=lambda r: r.frame.timestamp_seconds)
    message = _batch_message(counts, planned, cancelled)
    # The video by its id: a file's own name may carry a patient's.
    log.info("%s %s (video %s)", "⚠️" if cancelled else "✅", message, writer.video.id)
    return BatchExtractionResult(
        video_media_id=writer.video.id,
        planned=planned,
        stills=stills,
        cancelled=cancelled,
        message=message,
        **counts,
    )
