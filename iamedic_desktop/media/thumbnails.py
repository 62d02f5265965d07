"""Thumbnails of frames, and evenly spaced thumbnail strips for the timeline.

A strip never decodes a long video from start to end: each thumbnail is the keyframe at or
before its slot's time, found by ffmpeg's input seeking with only keyframes decoded
(``-skip_frame nokey -noaccurate_seek``). Several seeks share one ffmpeg process (each input
opened once), and two processes run at a time (the workstation has two cores to spare). Every
thumbnail lands in the disk cache as a PNG named after its video, height and time, so a second
strip (any count that shares slot times, any later session) is read from disk. Memory holds
only the thumbnails themselves and two small ffmpeg processes.

Threading: ``timeline_strip`` blocks its caller (run it in a worker); ``on_thumb`` is called on
that same thread, in the order the thumbnails complete; ``cancel`` may be set from any thread.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import numpy as np

from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.core.progress import CancelToken
from iamedic_desktop.media.frame_source import FrameSource, RGBFrame
from iamedic_desktop.media.video_index import file_cache_key, probe_stream

log = logging.getLogger(__name__)

ThumbCallback = Callable[[int, float, RGBFrame], None]

PROCESSES = 2  # ffmpeg processes at a time
SEEKS_PER_PROCESS = 5  # inputs per process: fewer start-ups, yet early results
_POLL_SECONDS = 0.05  # how often a running ffmpeg checks the cancel token
_TIMEOUT_SECONDS = 60.0


def fit_size(width: int, height: int, max_size: tuple[int, int]) -> tuple[int, int]:
    """The largest size within ``max_size`` with the aspect of width x height (>= 1 x 1)."""
    scale = min(max_size[0] / width, max_size[1] / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def thumbnail(source: FrameSource, n: int, *, max_size: tuple[int, int]) -> RGBFrame:
    """Frame ``n`` of ``source`` shrunk to fit ``max_size`` (aspect kept, never enlarged)."""
    import cv2

    pixels = source.frame(n)
    height, width = pixels.shape[:2]
    if width <= max_size[0] and height <= max_size[1]:
        return np.array(pixels, copy=True)
    size = fit_size(width, height, max_size)
    return _rgb(cv2.resize(pixels, size, interpolation=cv2.INTER_AREA))


def frame_thumbnail_jpeg(
    source: FrameSource, n: int, *, max_size: tuple[int, int] = (160, 120), quality: int = 85
) -> bytes:
    """Frame ``n``'s thumbnail as JPEG bytes (for media lists)."""
    import cv2

    small = thumbnail(source, n, max_size=max_size)
    ok, data = cv2.imencode(
        ".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality]
    )
    if not ok:
        raise InvalidInputError(f"Frame {n} could not be encoded as a JPEG thumbnail.")
    return bytes(data.tobytes())


def _rgb(pixels: object) -> RGBFrame:
    """OpenCV's result as the 8-bit RGB array it is (no copy)."""
    return np.asarray(pixels, dtype=np.uint8)


def slot_times(duration: float, count: int) -> list[float]:
    """The middle of each of ``count`` equal slots of ``duration`` seconds."""
    return [(i + 0.5) * duration / count for i in range(count)]


def timeline_strip(
    path: Path,
    count: int,
    *,
    height: int = 72,
    cache_dir: Path | None = None,
    cancel: CancelToken | None = None,
    on_thumb: ThumbCallback | None = None,
) -> list[tuple[float, RGBFrame]]:
    """``count`` thumbnails ``height`` pixels high, evenly spaced over ``path``; (time, RGB)."""
    if count <= 0:
        return []
    path = Path(path)
    if cache_dir is None:
        from iamedic_desktop.core.settings import get_settings

        cache_dir = get_settings().cache_dir
    folder = cache_dir / "thumbnails" / file_cache_key(path)
    info = _media_info(path, folder)
    if info["kind"] == "video":
        strip: _Strip = _VideoStrip(path, count, height, folder / f"h{height}", info)
    else:
        strip = _SourceStrip(path, count, height, folder / f"h{height}", info)
    return strip.run(cancel, on_thumb)


def _media_info(path: Path, folder: Path) -> dict[str, Any]:
    """Kind, duration and displayed size of ``path``, remembered beside its thumbnails."""
    file = folder / "info.json"
    try:
        info: dict[str, Any] = json.loads(file.read_text(encoding="utf-8"))
        if info.get("version") == 1:
            return info
    except (OSError, ValueError):
        pass
    from iamedic_desktop.media.sniff import sniff

    kind = sniff(path).kind
    if kind == "video":
        probe = probe_stream(path)
        info = {k: probe[k] for k in ("duration", "width", "height")}
        if not info["duration"]:  # a stream that declares no duration: count its frames
            from iamedic_desktop.core.settings import get_settings
            from iamedic_desktop.media.video_index import load_video_index

            info["duration"] = load_video_index(path, get_settings().cache_dir).duration
    else:
        from iamedic_desktop.media.open_source import open_frame_source

        source = open_frame_source(path, readahead=0)
        try:
            has_time = source.frame_count > 1 and source.fps > 0
            duration = source.frame_count / source.fps if has_time else 0.0
            info = {"duration": duration, "width": source.width, "height": source.height}
        finally:
            source.close()
    info.update(version=1, kind=kind)
    folder.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=".info-", suffix=".json", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(info, out)
        os.replace(name, file)
    finally:
        Path(name).unlink(missing_ok=True)
    return info


class _Strip:
    """The disk cache and the bookkeeping shared by every kind of strip."""

    def __init__(
        self, path: Path, count: int, height: int, folder: Path, info: dict[str, Any]
    ) -> None:
        self.path = path
        self.info = info
        self.count = count
        self.height = height
        self.folder = folder
        self.results: dict[int, tuple[float, RGBFrame]] = {}
        self.cancel: CancelToken | None = None

    def duration(self) -> float:
        duration = self.info.get("duration")
        if duration is None or duration < 0:
            raise InvalidInputError(f"'{self.path.name}' declares no duration.")
        return float(duration)

    def width(self) -> int:
        return max(1, round(self.height * self.info["width"] / self.info["height"]))

    def cached_file(self, seconds: float) -> Path:
        return self.folder / f"{round(seconds * 1_000_000):015d}.png"

    def load(self, seconds: float) -> RGBFrame | None:
        import cv2

        file = self.cached_file(seconds)
        if not file.is_file():
            return None
        bgr = cv2.imread(str(file), cv2.IMREAD_COLOR)
        if bgr is None or bgr.shape[0] != self.height:
            return None
        return _rgb(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))

    def deliver(
        self, i: int, seconds: float, pixels: RGBFrame, on_thumb: ThumbCallback | None
    ) -> None:
        self.results[i] = (seconds, pixels)
        if on_thumb is not None:
            on_thumb(i, seconds, pixels)

    def run(
        self, cancel: CancelToken | None, on_thumb: ThumbCallback | None
    ) -> list[tuple[float, RGBFrame]]:
        self.cancel = cancel
        times = slot_times(self.duration(), self.count)
        todo: list[tuple[int, float]] = []
        for i, seconds in enumerate(times):
            pixels = self.load(seconds)
            if pixels is None:
                todo.append((i, seconds))
            else:
                self.deliver(i, seconds, pixels, on_thumb)
        if todo:
            if cancel is not None:
                cancel.raise_if_cancelled("Making the timeline thumbnails")
            self.folder.mkdir(parents=True, exist_ok=True)
            self.make(todo, cancel, on_thumb)
        return [self.results[i] for i in range(self.count)]

    def make(
        self,
        todo: Sequence[tuple[int, float]],
        cancel: CancelToken | None,
        on_thumb: ThumbCallback | None,
    ) -> None:
        raise NotImplementedError

    def store(self, seconds: float, produced: Path) -> None:
        """Move a finished PNG into the cache (rename: never a half-written thumbnail)."""
        os.replace(produced, self.cached_file(seconds))


class _SourceStrip(_Strip):
    """A strip of a DICOM cine or a still, through its FrameSource (short and in memory)."""

    def make(
        self,
        todo: Sequence[tuple[int, float]],
        cancel: CancelToken | None,
        on_thumb: ThumbCallback | None,
    ) -> None:
        import cv2

        from iamedic_desktop.media.open_source import open_frame_source

        source = open_frame_source(self.path, readahead=0)
        try:
            width = self.width()
            for i, seconds in todo:
                if cancel is not None:
                    cancel.raise_if_cancelled("Making the timeline thumbnails")
                pixels = source.frame(source.index_at(seconds))
                small = _rgb(cv2.resize(pixels, (width, self.height), interpolation=cv2.INTER_AREA))
                handle, name = tempfile.mkstemp(prefix=".thumb-", suffix=".png", dir=self.folder)
                os.close(handle)
                try:
                    cv2.imwrite(name, cv2.cvtColor(small, cv2.COLOR_RGB2BGR))
                    self.store(seconds, Path(name))
                finally:
                    Path(name).unlink(missing_ok=True)
                self.deliver(i, seconds, small, on_thumb)
        finally:
            source.close()


class _VideoStrip(_Strip):
    """A strip of a video: keyframes found by ffmpeg's seeking, a few per process."""

    def make(
        self,
        todo: Sequence[tuple[int, float]],
        cancel: CancelToken | None,
        on_thumb: ThumbCallback | None,
    ) -> None:
        width = self.width()
        # Interleaved batches: the first ones already span the whole timeline.
        count = -(-len(todo) // SEEKS_PER_PROCESS)
        batches = [todo[k::count] for k in range(count)]
        token = cancel or CancelToken()
        scratch = Path(tempfile.mkdtemp(prefix=".strip-", dir=self.folder))
        try:
            with ThreadPoolExecutor(PROCESSES, thread_name_prefix="iamedic-thumbs") as pool:
                pending: dict[Future[list[Path | None]], Sequence[tuple[int, float]]] = {}
                queue = list(batches)
                try:
                    while queue or pending:
                        while queue and len(pending) < PROCESSES:
                            batch = queue.pop(0)
                            job = pool.submit(self._ffmpeg, batch, width, scratch, token)
                            pending[job] = batch
                        done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                        for job in done:
                            batch = pending.pop(job)
                            files = job.result()
                            token.raise_if_cancelled("Making the timeline thumbnails")
                            self._collect(batch, files, on_thumb)
                except BaseException:
                    token.cancel()  # stop the other process too
                    raise
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _collect(
        self,
        batch: Sequence[tuple[int, float]],
        files: list[Path | None],
        on_thumb: ThumbCallback | None,
    ) -> None:
        import cv2

        for (i, seconds), file in zip(batch, files, strict=True):
            if self.cancel is not None:
                self.cancel.raise_if_cancelled("Making the timeline thumbnails")
            bgr = cv2.imread(str(file), cv2.IMREAD_COLOR) if file is not None else None
            if bgr is None:
                raise InvalidInputError(
                    f"No picture near {seconds:.1f} s in '{self.path.name}' for the timeline."
                )
            assert file is not None
            self.store(seconds, file)
            pixels = _rgb(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            self.deliver(i, seconds, pixels, on_thumb)

    def _ffmpeg(
        self,
        batch: Sequence[tuple[int, float]],
        width: int,
        scratch: Path,
        cancel: CancelToken,
    ) -> list[Path | None]:
        """One ffmpeg process: one input per seek, one PNG per input."""
        if cancel.cancelled:
            return [None] * len(batch)
        command = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
        outputs: list[Path] = []
        for _, seconds in batch:
            command += ["-threads", "1", "-skip_frame", "nokey", "-noaccurate_seek"]
            command += ["-ss", f"{seconds:.6f}", "-i", str(self.path)]
        # passthrough: the keyframe before a seek point has a negative time, which ffmpeg's
        # default frame-rate handling would drop, leaving no picture.
        for k, (i, _) in enumerate(batch):
            out = scratch / f"{i}.png"
            outputs.append(out)
            command += ["-map", f"{k}:v:0", "-frames:v", "1", "-fps_mode", "passthrough"]
            command += ["-vf", f"scale={width}:{self.height}:flags=area", str(out)]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        waited = 0.0
        while True:
            try:
                _, errors = process.communicate(timeout=_POLL_SECONDS)
                break
            except subprocess.TimeoutExpired:
                waited += _POLL_SECONDS
                if cancel.cancelled or waited > _TIMEOUT_SECONDS:
                    process.kill()
                    process.communicate()
                    return [None] * len(batch)
        if process.returncode != 0:
            text = errors.decode("utf-8", "replace").strip()
            log.warning("⚠️ ffmpeg could not make thumbnails of %s: %s", self.path.name, text)
        return [out if out.is_file() else None for out in outputs]


SEQUENTIAL_FACTOR = 12  # decode a range in order when it is at most this many times the asks


def exact_thumbnails(
    path: Path,
    frames: Sequence[int],
    size: tuple[int, int],
    *,
    cancel: CancelToken,
    superseded: Callable[[], bool],
    on_thumb: Callable[[int, RGBFrame], None],
) -> None:
    """Thumbnails of exactly ``frames`` (resized to ``size``), each handed to ``on_thumb``.

    Nearby frames are decoded in order rather than sought one by one; stops when cancelled or
    when ``superseded()`` says a newer request replaced this one. Worker thread only.
    """
    import cv2

    from iamedic_desktop.media.open_source import open_frame_source

    wanted = sorted(set(frames))
    source = open_frame_source(path, readahead=0)
    try:
        wanted = [n for n in wanted if 0 <= n < source.frame_count]
        if not wanted:
            return
        first, last = wanted[0], wanted[-1]
        keep = set(wanted)
        if last - first + 1 <= SEQUENTIAL_FACTOR * len(wanted):
            pairs = ((n, p) for n, p in source.iter_frames(first, last + 1) if n in keep)
        else:
            pairs = ((n, source.frame(n)) for n in wanted)
        for n, pixels in pairs:
            cancel.raise_if_cancelled("Making the timeline thumbnails")
            if superseded():
                return
            on_thumb(n, _rgb(cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)))
    finally:
        source.close()
