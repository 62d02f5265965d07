"""A scrubbing proxy: a small copy of a video with a keyframe every few frames.

Dragging the playhead across a long 720p or 1080p video asks for a new frame every few
milliseconds; decoding each from its full-resolution keyframe cannot keep up. Video editors
scrub on a proxy instead: here 180 pixels high, a keyframe every 4 frames, no B-frames, every
frame of the original kept with its time (so proxy frame *n* is original frame *n*, smaller).
The proxy is only for the moving playhead: when it stops, the player shows the exact
full-resolution frame from the video's own frame source.

``build_scrub_proxy`` blocks (run it in a worker; it reports progress and obeys a cancel
token); the proxy file lands in the cache folder by temp file and rename, so a second build
is instant and an interrupted one leaves nothing behind. ``ScrubProxy`` follows the threading
rules of ``VideoFrameSource``.
"""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
from pathlib import Path

from iamedic_desktop.core.errors import InvalidInputError
from iamedic_desktop.core.progress import CancelToken, Progress, ProgressCallback, no_progress
from iamedic_desktop.media.frame_source import RGBFrame
from iamedic_desktop.media.video_index import file_cache_key, probe_stream
from iamedic_desktop.media.video_source import VideoFrameSource

log = logging.getLogger(__name__)

PROXY_HEIGHT = 180
PROXY_KEYFRAME_INTERVAL = 4


def proxy_file(path: Path, cache_dir: Path, height: int = PROXY_HEIGHT) -> Path:
    """Where the proxy of ``path`` lives in the cache."""
    name = f"{file_cache_key(path)}-h{height}-g{PROXY_KEYFRAME_INTERVAL}.mp4"
    return cache_dir / "scrub-proxies" / name


def build_scrub_proxy(
    path: Path,
    *,
    cache_dir: Path | None = None,
    height: int = PROXY_HEIGHT,
    progress: ProgressCallback = no_progress,
    cancel: CancelToken | None = None,
) -> Path:
    """Make (or find) the scrubbing proxy of the video at ``path`` and return its file."""
    path = Path(path)
    if cache_dir is None:
        from iamedic_desktop.core.settings import get_settings

        cache_dir = get_settings().cache_dir
    out = proxy_file(path, cache_dir, height)
    if out.is_file():
        return out
    info = probe_stream(path)
    duration = float(info["duration"] or 0.0)
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=".proxy-", suffix=".mp4", dir=out.parent)
    os.close(handle)
    partial = Path(name)
    command = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(path)]
    command += ["-map", "0:v:0", "-an", "-sn", "-dn", "-fps_mode", "passthrough"]
    command += ["-vf", f"scale=-2:{height}", "-c:v", "libx264", "-preset", "ultrafast"]
    command += ["-tune", "fastdecode", "-crf", "26", "-bf", "0", "-sc_threshold", "0"]
    command += ["-g", str(PROXY_KEYFRAME_INTERVAL), "-keyint_min", str(PROXY_KEYFRAME_INTERVAL)]
    command += ["-pix_fmt", "yuv420p", "-threads", "1", "-progress", "pipe:1", str(partial)]
    try:
        _run(command, duration, progress, cancel)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    log.info("✅ Scrubbing proxy of %s ready", path.name)
    return out


def _run(
    command: list[str], duration: float, progress: ProgressCallback, cancel: CancelToken | None
) -> None:
    """Run ffmpeg, turning its -progress lines into Progress reports; kill it on cancel."""
    total = max(1, round(duration * 1000))
    if cancel is not None:
        cancel.raise_if_cancelled("Making the scrubbing proxy")
    with (
        tempfile.TemporaryFile() as errors,
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True) as process,
    ):
        assert process.stdout is not None
        try:
            for line in process.stdout:
                if cancel is not None and cancel.cancelled:
                    break
                key, _, value = line.strip().partition("=")
                if key == "out_time_us" and value.isdigit():
                    done = min(total, int(value) // 1000)
                    progress(Progress(done, total, "Making the scrubbing proxy"))
        finally:
            if process.poll() is None and cancel is not None and cancel.cancelled:
                process.kill()
            process.wait()
        if cancel is not None:
            cancel.raise_if_cancelled("Making the scrubbing proxy")
        if process.returncode != 0:
            errors.seek(0)
            reason = errors.read().decode("utf-8", "replace").strip().splitlines()
            raise InvalidInputError(
                "The scrubbing proxy could not be made" + (f": {reason[-1]}" if reason else ".")
            )
    progress(Progress(total, total, "Scrubbing proxy ready"))


class ScrubProxy:
    """Small, quickly decoded pictures of a video's frames, by the original's frame index."""

    def __init__(
        self,
        proxy: Path,
        frame_count: int,
        *,
        cache_mb: int = 64,
        index_cache_dir: Path | None = None,
    ) -> None:
        self._source = VideoFrameSource(
            proxy, cache_mb=cache_mb, readahead=4, index_cache_dir=index_cache_dir
        )
        if self._source.frame_count != frame_count:
            self._source.close()
            raise InvalidInputError(
                f"The scrubbing proxy has {self._source.frame_count} frames, the video "
                f"{frame_count}: it cannot stand in for it."
            )

    @property
    def width(self) -> int:
        """Width of the proxy's frames."""
        return self._source.width

    @property
    def height(self) -> int:
        """Height of the proxy's frames."""
        return self._source.height

    def frame(self, n: int) -> RGBFrame:
        """The proxy's picture of frame ``n`` (small; for a moving playhead only)."""
        return self._source.frame(n)

    def close(self) -> None:
        """Release the proxy's decoder."""
        self._source.close()

    def __enter__(self) -> ScrubProxy:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
